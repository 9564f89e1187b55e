import { AwsError } from './aws-error';

/** The simulated account's images and launch templates, and the checks RunInstances makes against them. */

/** A Query-protocol list parameter: Prefix.1, Prefix.2, … */
export function list(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) ?? '');
  return out;
}

/**
 * AMIs this simulated account can launch, with the snapshot behind each root device (a root volume may not be smaller
 * than it) and the architecture DescribeImages reports (x86_64 or arm64, as EC2's ArchitectureValues name them:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html). The local runner runs the document's Linux
 * step on every instance: the Windows image is there for the stock-AMI parameters (local/services/ssm-parameters.ts)
 * that name it, and DescribeImages reports it as Windows (platform windows), as EC2 does.
 */
export interface LocalImage {
  readonly rootDeviceName: string;
  readonly platform: 'Linux/UNIX' | 'Windows';
  readonly architecture: 'x86_64' | 'arm64';
  readonly rootSnapshotId: string;
  readonly rootSnapshotGiB: number;
}
export const LOCAL_IMAGES: Record<string, LocalImage> = {
  'ami-0a1b2c3d4e5f67890': { rootDeviceName: '/dev/xvda', platform: 'Linux/UNIX', architecture: 'x86_64', rootSnapshotId: 'snap-0a1b2c3d4e5f67890', rootSnapshotGiB: 8 },
  'ami-0123456789abcdef0': { rootDeviceName: '/dev/sda1', platform: 'Linux/UNIX', architecture: 'x86_64', rootSnapshotId: 'snap-0123456789abcdef0', rootSnapshotGiB: 8 },
  /** A large image (toolchains baked in): more than the stack's default 30 GiB root volume. */
  'ami-0fedcba9876543210': { rootDeviceName: '/dev/xvda', platform: 'Linux/UNIX', architecture: 'x86_64', rootSnapshotId: 'snap-0fedcba9876543210', rootSnapshotGiB: 50 },
  /** Amazon Linux 2023 for Graviton (arm64). */
  'ami-0a1b2c3d4e5f6a7b8': { rootDeviceName: '/dev/xvda', platform: 'Linux/UNIX', architecture: 'arm64', rootSnapshotId: 'snap-0a1b2c3d4e5f6a7b8', rootSnapshotGiB: 8 },
  /** Ubuntu 24.04 (its root device is /dev/sda1), x86_64 and arm64. */
  'ami-0b1c2d3e4f5a6b7c8': { rootDeviceName: '/dev/sda1', platform: 'Linux/UNIX', architecture: 'x86_64', rootSnapshotId: 'snap-0b1c2d3e4f5a6b7c8', rootSnapshotGiB: 8 },
  'ami-0c1d2e3f4a5b6c7d8': { rootDeviceName: '/dev/sda1', platform: 'Linux/UNIX', architecture: 'arm64', rootSnapshotId: 'snap-0c1d2e3f4a5b6c7d8', rootSnapshotGiB: 8 },
  /** Windows Server 2022, whose root snapshot is 30 GiB. */
  'ami-0d1e2f3a4b5c6d7e8': { rootDeviceName: '/dev/sda1', platform: 'Windows', architecture: 'x86_64', rootSnapshotId: 'snap-0d1e2f3a4b5c6d7e8', rootSnapshotGiB: 30 },
};
export const DEFAULT_IMAGE_ID = 'ami-0a1b2c3d4e5f67890';

/**
 * Launch templates of this simulated account and the EBS volume size of each block device they
 * map: the stack's template (lib/builder-instance.ts) with its default 30 GiB root.
 */
export const LOCAL_LAUNCH_TEMPLATES: Record<string, { blockDeviceGiB: Record<string, number> }> = {
  'lt-0local0000000000': { blockDeviceGiB: { '/dev/xvda': 30 } },
};

export function checkImageId(imageId: string): void {
  if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(imageId)) throw new AwsError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  if (!LOCAL_IMAGES[imageId]) throw new AwsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
}

export function describeImages(p: URLSearchParams): string {
  const items = list(p, 'ImageId').map((id) => {
    checkImageId(id);
    const img = LOCAL_IMAGES[id];
    const root = `<blockDeviceMapping><item><deviceName>${img.rootDeviceName}</deviceName><ebs><snapshotId>${img.rootSnapshotId}</snapshotId><volumeSize>${img.rootSnapshotGiB}</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs></item></blockDeviceMapping>`;
    // Platform is windows for Windows AMIs and left out otherwise (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html).
    const platform = img.platform === 'Windows' ? '<platform>windows</platform>' : '';
    return `<item><imageId>${id}</imageId><imageState>available</imageState><architecture>${img.architecture}</architecture>${platform}<rootDeviceName>${img.rootDeviceName}</rootDeviceName><rootDeviceType>ebs</rootDeviceType><platformDetails>${img.platform}</platformDetails>${root}</item>`;
  });
  return `<DescribeImagesResponse><requestId>local</requestId><imagesSet>${items.join('')}</imagesSet></DescribeImagesResponse>`;
}

/**
 * The root volume is the request's mapping for the AMI's root device, else the launch template's,
 * else the snapshot's own size; smaller than the snapshot is refused with InvalidBlockDeviceMapping
 * ("You can specify a volume size that is equal to or larger than the snapshot size":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html), in EC2's words.
 */
export function checkRootVolume(p: URLSearchParams, imageId: string): void {
  const image = LOCAL_IMAGES[imageId];
  const templateId = p.get('LaunchTemplate.LaunchTemplateId') ?? '';
  const template = LOCAL_LAUNCH_TEMPLATES[templateId];
  if (!template) throw new AwsError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${templateId}, does not exist.`);
  let size: number | undefined;
  for (let i = 1; p.has(`BlockDeviceMapping.${i}.DeviceName`); i++) {
    if (p.get(`BlockDeviceMapping.${i}.DeviceName`) === image.rootDeviceName && p.has(`BlockDeviceMapping.${i}.Ebs.VolumeSize`)) size = Number(p.get(`BlockDeviceMapping.${i}.Ebs.VolumeSize`));
  }
  size ??= template.blockDeviceGiB[image.rootDeviceName] ?? image.rootSnapshotGiB;
  if (size < image.rootSnapshotGiB) {
    throw new AwsError('InvalidBlockDeviceMapping', `Volume of size ${size}GB is smaller than  snapshot '${image.rootSnapshotId}', expect size >= ${image.rootSnapshotGiB}GB`);
  }
}
