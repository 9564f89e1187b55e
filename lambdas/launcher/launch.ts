import type { Instance } from '@aws-sdk/client-ec2';
import type { LaunchConfig } from '../shared/config';
import { CAPACITY_CODES, describeImage, runInstance, type ImageInfo } from '../shared/ec2';
import { POOL_TAGS, TAGS } from '../shared/env';
import { CapacityError, errorCode, errorMessage, JobConfigurationError, THROTTLING_CODES } from '../shared/errors';
import { resolveImageId } from '../shared/images';
import { PROPERTY } from '../shared/properties';
import type { BuildJob, InstanceMarket, LaunchedInstance } from '../shared/types';
import { checkArchitecture, TypeArchitectures } from './architecture';

/** How much of EC2's own message a ConfigurationError quotes: some list every valid value, and the fix must fit too. */
const EC2_MESSAGE_CHARS = 300;

/**
 * What to launch: the job's own ImageId (an AMI ID or a stock image alias) and InstanceType, or its fleet's image
 * (resolved to an AMI ID) and instance types in its market. `imageName` and `typesName` say in messages where the
 * values come from.
 */
export interface LaunchSpec {
  readonly imageId: string;
  readonly instanceTypes: readonly string[];
  /** Markets to try in order, each over every instance type and subnet. */
  readonly markets: readonly InstanceMarket[];
  readonly imageName: string;
  readonly typesName: string;
  /** The fleet the instance is launched for: tagged on it, so a Spot interruption counts against the fleet. */
  readonly fleet?: string;
  /** Told when a market is given up for a reason other than capacity. */
  readonly warn?: (message: string) => void;
}

/** A job's own launch: its ImageId and InstanceType, on-demand. */
export function jobSpec(job: BuildJob): LaunchSpec {
  return {
    imageId: job.properties.imageId,
    instanceTypes: [job.properties.instanceType, ...job.properties.fallbackInstanceTypes],
    markets: ['on-demand'],
    imageName: PROPERTY.imageId,
    typesName: PROPERTY.instanceType,
  };
}

/** EC2 error codes caused by the action's properties; a different subnet will not help. */
function configurationProblem(code: string, fullMessage: string, spec: LaunchSpec, instanceType?: string): string | null {
  const { imageId } = spec;
  const message = fullMessage.length > EC2_MESSAGE_CHARS ? `${fullMessage.slice(0, EC2_MESSAGE_CHARS)}…` : fullMessage;
  if (code.startsWith('InvalidAMIID')) {
    return `${spec.imageName} ${JSON.stringify(imageId)} was rejected by EC2 (${code}: ${message}). Use an AMI that exists in this Region and is shared with this account.`;
  }
  if (code === 'InvalidBlockDeviceMapping') {
    return `${spec.imageName} ${JSON.stringify(imageId)} cannot be launched with this stack's root volume (${code}: ${message}). ${ROOT_VOLUME_FIX}`;
  }
  if (code === 'InvalidParameterValue' || code === 'InvalidParameterCombination') {
    return `${spec.typesName} ${JSON.stringify(instanceType ?? spec.instanceTypes[0])} or ${spec.imageName} ${JSON.stringify(imageId)} was rejected by EC2 (${code}: ${message}). Pick an instance type offered in this Region that matches the AMI's architecture.`;
  }
  return null;
}

/** How to give build instances a bigger root volume: the stack's context key, then deploy. */
const ROOT_VOLUME_FIX = 'Deploy the stack with a root volume at least as large as the AMI\'s root snapshot (npx cdk deploy -c ec2-build-action:rootVolumeGiB=SIZE), or use an AMI with a smaller root volume.';

/**
 * A root volume smaller than the AMI's root snapshot is refused by RunInstances
 * (InvalidBlockDeviceMapping): "You can specify a volume size that is equal to or larger than the
 * snapshot size" (VolumeSize in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html).
 * Checked before launching, so the user is told the two sizes and the fix, and nothing starts.
 */
function checkRootVolume(spec: LaunchSpec, image: ImageInfo, rootVolumeGiB: number): void {
  if (image.rootSnapshotGiB === null || rootVolumeGiB >= image.rootSnapshotGiB) return;
  throw new JobConfigurationError(
    `${spec.imageName} ${JSON.stringify(spec.imageId)} has a ${image.rootSnapshotGiB} GiB root snapshot, larger than this stack's ${rootVolumeGiB} GiB root volume (context ec2-build-action:rootVolumeGiB). ${ROOT_VOLUME_FIX.replace('SIZE', String(image.rootSnapshotGiB))}`,
  );
}

/** The template's root device; the AMI's own root gets the same encrypted volume when it differs. */
export const TEMPLATE_ROOT_DEVICE = '/dev/xvda';

/**
 * Available AMIs seen recently, so a warm launcher does not look the same AMI up before every
 * build of a pipeline (one call off the path to a running build). Safe to reuse: an AMI
 * deregistered meanwhile makes RunInstances fail with InvalidAMIID.*, the same ConfigurationError.
 * A stock image alias is kept the same way, with the image its parameter named: AWS publishes a new image every few
 * weeks, and a build launched within minutes of that gets the previous one, which stays available. The instance
 * types' architectures are kept for the container's life: they never change.
 */
export class ImageCache {
  private readonly seen = new Map<string, { image: ImageInfo; at: number }>();
  readonly types = new TypeArchitectures();
  constructor(
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get(imageId: string): ImageInfo | undefined {
    const hit = this.seen.get(imageId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.image;
    this.seen.delete(imageId);
    return undefined;
  }

  put(imageId: string, image: ImageInfo): void {
    this.seen.set(imageId, { image, at: this.now() });
  }
}

/**
 * The image to launch, the spec naming its AMI ID: an alias is read from Parameter Store first (and remembered with
 * the image), so messages say `ImageId (al2023-arm64) "ami-…"`.
 */
async function imageOf(spec: LaunchSpec, images: ImageCache): Promise<{ spec: LaunchSpec; image: ImageInfo }> {
  const remembered = images.get(spec.imageId);
  const imageId = remembered?.imageId ?? (await resolveImageId(spec.imageId));
  const resolved = imageId === spec.imageId ? spec : { ...spec, imageId, imageName: `${spec.imageName} (${spec.imageId})` };
  const image = remembered ?? (await checkImage(resolved, images));
  if (imageId !== spec.imageId) images.put(spec.imageId, image);
  return { spec: resolved, image };
}

/**
 * The image and the instance types' architectures, looked up together (neither waits for the other); every call
 * settles before an error is thrown.
 */
async function checkBeforeLaunch(spec: LaunchSpec, images: ImageCache, rootVolumeGiB: number): Promise<{ spec: LaunchSpec; image: ImageInfo }> {
  const [image, types] = await Promise.allSettled([imageOf(spec, images), images.types.of(spec)]);
  if (image.status === 'rejected') throw image.reason;
  if (types.status === 'rejected') throw types.reason;
  checkArchitecture(image.value.spec, image.value.image, types.value);
  checkRootVolume(image.value.spec, image.value.image, rootVolumeGiB);
  return image.value;
}

/** Looks the AMI up before launching, so a wrong ImageId is a ConfigurationError and nothing starts. */
async function checkImage(spec: LaunchSpec, images: ImageCache): Promise<ImageInfo> {
  const { imageId } = spec;
  const known = images.get(imageId);
  if (known) return known;
  let image: ImageInfo | null;
  try {
    image = await describeImage(imageId);
  } catch (err) {
    const problem = configurationProblem(errorCode(err), errorMessage(err), spec);
    if (problem) throw new JobConfigurationError(problem, { cause: err });
    throw err;
  }
  if (!image || image.state !== 'available') {
    throw new JobConfigurationError(
      `${spec.imageName} ${JSON.stringify(imageId)} ${image ? `is ${image.state}, not available` : 'does not exist in this Region or is not shared with this account'}. Use an available AMI from the EC2 console (AMIs) in this pipeline's Region.`,
    );
  }
  images.put(imageId, image);
  return image;
}

/**
 * Launches the build instance from the stack's launch template. When EC2 lacks capacity it tries
 * each configured subnet, then each fallback instance type in every subnet, then the next market. The
 * client token makes a retried launch return the same instance. `images` keeps AMI lookups between launches.
 */
export async function launchBuildInstance(
  job: BuildJob,
  executionName: string,
  config: LaunchConfig,
  images: ImageCache = new ImageCache(0),
  requested: LaunchSpec = jobSpec(job),
): Promise<LaunchedInstance> {
  const { spec, image } = await checkBeforeLaunch(requested, images, config.rootVolumeGiB);
  const subnets: (string | null)[] = config.subnetIds.length > 0 ? [...config.subnetIds] : [null];
  const types = spec.instanceTypes;
  const tags = { [TAGS.stack]: config.stackTagValue, [TAGS.jobId]: job.jobId, [TAGS.execution]: executionName, ...(spec.fleet ? { [POOL_TAGS.fleet]: spec.fleet } : {}) };
  const rootVolume =
    image.rootDeviceName && image.rootDeviceName !== TEMPLATE_ROOT_DEVICE ? { deviceName: image.rootDeviceName, sizeGiB: config.rootVolumeGiB } : null;
  const refusals: string[] = [];
  const several = spec.markets.length > 1;
  const attempts = spec.markets.flatMap((market) => types.flatMap((instanceType) => subnets.map((subnetId) => ({ market, instanceType, subnetId }))));
  let spotRefused = false;
  for (const [i, { market, instanceType, subnetId }] of attempts.entries()) {
    if (spotRefused && market === 'spot') continue;
    let instance: Instance;
    try {
      instance = await runInstance({
        launchTemplateId: config.launchTemplateId,
        imageId: spec.imageId,
        instanceType,
        subnetId,
        // Per attempt, and apart for Spot: a rerun on on-demand after an interruption must not get the Spot instance
        // back (RunInstances returns the instance of a token it has seen: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
        clientToken: `${executionName}-${i}${market === 'spot' ? 's' : ''}`.slice(0, 64),
        tags,
        rootVolume,
        market,
      });
    } catch (err) {
      const code = errorCode(err);
      const problem = configurationProblem(code, errorMessage(err), spec, instanceType);
      if (problem) throw new JobConfigurationError(problem, { cause: err });
      // Throttled is the account's request rate, not Spot's answer: the launch is retried as it is (Throttled).
      if (THROTTLING_CODES.has(code)) throw err;
      if (!CAPACITY_CODES.has(code)) {
        // Spot refused for a reason no other type or subnet changes (a denied permission, the Spot service-linked role
        // missing): the next market may still launch, and the refusal is said loudly.
        if (market !== 'spot' || !spec.markets.includes('on-demand')) throw err;
        spotRefused = true;
        spec.warn?.(`Spot launch refused (${code}: ${errorMessage(err)}); launching on-demand`);
        refusals.push(`spot: ${code}`);
        continue;
      }
      refusals.push(`${types.length > 1 ? `${instanceType} in ` : ''}${subnetId ?? 'default subnet'}${several ? ` (${market})` : ''}: ${code}`);
      continue;
    }
    return {
      instanceId: instance.InstanceId ?? '',
      instanceType: instance.InstanceType ?? instanceType,
      subnetId: instance.SubnetId ?? subnetId,
      launchedAt: (instance.LaunchTime ?? new Date()).toISOString(),
      capacitySource: 'launched',
      market,
    };
  }
  throw new CapacityError(
    `EC2 has no capacity for ${types.join(' or ')}${several ? ` in the ${spec.markets.join(' or ')} market` : ''} right now (${refusals.join('; ')}). Retry the stage later, add fallback types to ${spec.typesName} (comma-separated, best first), or configure more subnets (context ec2-build-action:subnetIds).`,
  );
}
