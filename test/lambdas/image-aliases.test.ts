import { DescribeImagesCommand, DescribeInstanceTypesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ImageCache, launchBuildInstance } from '../../lambdas/launcher/launch';
import { parseProperties } from '../../lambdas/poller/job';
import { parseFleets } from '../../lambdas/shared/fleets';
import { expandImageAlias, IMAGE_ALIASES, IMAGE_ALIAS_NAMES } from '../../lambdas/shared/image-aliases';
import { isWindowsFleet } from '../../local/soak-fleets';
import { buildJob } from '../fixtures/job';

/** Stock image aliases: which values ImageId and a fleet's imageId take, and the launcher's checks before a launch. */

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const config = { launchTemplateId: 'lt-0123', subnetIds: [], stackTagValue: 'Ec2BuildAction', rootVolumeGiB: 30 };
const ARM_AMI = 'ami-0a1b2c3d4e5f6a7b8';
const job = (imageId: string, instanceType: string, fallbackInstanceTypes: string[] = []) =>
  buildJob({ properties: { ...buildJob().properties, imageId, instanceType, fallbackInstanceTypes } });
const types = (entries: Record<string, string[]>) => ({
  InstanceTypes: Object.entries(entries).map(([InstanceType, SupportedArchitectures]) => ({ InstanceType: InstanceType as never, ProcessorInfo: { SupportedArchitectures: SupportedArchitectures as never[] } })),
});

describe('ImageId and a fleet\'s imageId', () => {
  const properties = { InstanceType: 'c7g.large', Command: 'make' };

  it.each(IMAGE_ALIAS_NAMES)('ImageId takes the alias %s as it is (the launcher resolves it)', (alias) => {
    expect(parseProperties({ ...properties, ImageId: alias }).imageId).toBe(alias);
  });

  it.each(['AL2023', 'al2023-x86_64', 'ubuntu-22.04', 'windows-2025', 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64'])(
    'ImageId refuses %s, listing the aliases',
    (imageId) => {
      expect(() => parseProperties({ ...properties, ImageId: imageId })).toThrow(
        `ImageId must be an AMI ID like ami-0123456789abcdef0 or a stock image alias (al2023, al2023-arm64, ubuntu-24.04, ubuntu-24.04-arm64, windows-2022), got ${JSON.stringify(imageId)}.`,
      );
    },
  );

  it('a fleet\'s alias becomes the resolve:ssm: parameter it names, so the refill, the claims and the grants treat it as one', () => {
    const fleets = parseFleets({ arm: { imageId: 'ubuntu-24.04-arm64', instanceTypes: ['c7g.large'], market: 'on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 1, maxQueueMinutes: 0 } }, 'fleets');
    expect(fleets.arm.imageId).toBe('resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id');
    expect(expandImageAlias('windows-2022')).toBe(`resolve:ssm:${IMAGE_ALIASES['windows-2022']}`);
    expect(expandImageAlias('ami-0a1b2c3d4e5f67890')).toBe('ami-0a1b2c3d4e5f67890');
  });

  it('the platform follows the alias: windows-2022 is a Windows fleet to the local cloud, the Linux aliases are not', () => {
    const fleetOf = (imageId: string) => parseFleets({ f: { imageId, instanceTypes: ['m7i.large'], market: 'on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 1, maxQueueMinutes: 0 } }, 'fleets').f;
    expect(IMAGE_ALIAS_NAMES.filter((alias) => isWindowsFleet(fleetOf(alias)))).toEqual(['windows-2022']);
  });
});

describe('the launcher\'s checks before a launch', () => {
  beforeEach(() => {
    ssm.on(GetParameterCommand, { Name: IMAGE_ALIASES['al2023-arm64'] }).resolves({ Parameter: { Value: ARM_AMI } });
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: ARM_AMI, Architecture: 'arm64', RootDeviceName: '/dev/xvda', State: 'available' }] });
    ec2.on(DescribeInstanceTypesCommand).resolves(types({ 'c7g.large': ['arm64'], 'm7g.large': ['arm64'], 'c7i.large': ['x86_64'] }));
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0abc', InstanceType: 'c7g.large' }] });
  });
  afterEach(() => {
    ec2.reset();
    ssm.reset();
  });

  it('launches an alias as the AMI ID its parameter holds', async () => {
    await launchBuildInstance(job('al2023-arm64', 'c7g.large'), 'exec-1', config);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstanceTypesCommand, { InstanceTypes: ['c7g.large'] as never[] });
    expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, { ImageId: ARM_AMI, InstanceType: 'c7g.large' });
  });

  it('looks the instance types up while the alias and the image are looked up, not after', async () => {
    // GIVEN a parameter read that answers only once the instance types have been asked for
    let typesAsked!: () => void;
    const asked = new Promise<void>((resolve) => (typesAsked = resolve));
    ec2.on(DescribeInstanceTypesCommand).callsFake(async () => {
      typesAsked();
      return types({ 'c7g.large': ['arm64'] });
    });
    ssm.on(GetParameterCommand).callsFake(async () => {
      await asked;
      return { Parameter: { Value: ARM_AMI } };
    });
    // WHEN / THEN the launch completes: a lookup that waited for the image would never start
    await expect(launchBuildInstance(job('al2023-arm64', 'c7g.large'), 'exec-1', config)).resolves.toMatchObject({ instanceId: 'i-0abc' });
  }, 5_000);

  it('a warm launcher asks nothing again for the same alias and types', async () => {
    const images = new ImageCache();
    await launchBuildInstance(job('al2023-arm64', 'c7g.large'), 'exec-1', config, images);
    await launchBuildInstance(job('al2023-arm64', 'c7g.large'), 'exec-2', config, images);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstanceTypesCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 2);
  });

  it('refuses an image whose architecture a fallback type does not run, naming that type, before launching', async () => {
    await expect(launchBuildInstance(job('al2023-arm64', 'c7g.large', ['c7i.large', 'm7g.large']), 'exec-1', config)).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/^ImageId \(al2023-arm64\) "ami-0a1b2c3d4e5f6a7b8" is an arm64 image, but InstanceType does not match it \(c7i\.large runs x86_64\)\. Use instance types that run arm64/),
    });
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('reports a type EC2 does not offer (InvalidInstanceType) as a ConfigurationError, before launching', async () => {
    const refused = Object.assign(new Error('The following supplied instance types do not exist: [c7z.large]'), { name: 'InvalidInstanceType', $metadata: {} });
    ec2.on(DescribeInstanceTypesCommand).rejects(refused);
    await expect(launchBuildInstance(job('al2023-arm64', 'c7z.large'), 'exec-1', config)).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/^InstanceType "c7z\.large" names a type EC2 does not offer in this Region \(InvalidInstanceType: .*c7z\.large.*\)\. Pick an instance type/),
    });
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('leaves the check to RunInstances when EC2 gives no architecture', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: ARM_AMI, RootDeviceName: '/dev/xvda', State: 'available' }] });
    await expect(launchBuildInstance(job('al2023-arm64', 'c7i.large'), 'exec-1', config)).resolves.toMatchObject({ instanceId: 'i-0abc' });
  });
});
