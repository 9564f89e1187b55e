import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ImageCache, launchBuildInstance } from '../../lambdas/launcher/launch';
import { buildJob } from '../fixtures/job';

const config = { launchTemplateId: 'lt-0123', subnetIds: ['subnet-a', 'subnet-b'], stackTagValue: 'Ec2BuildAction', rootVolumeGiB: 40 };
const ec2Error = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: {} });

const ec2 = mockClient(EC2Client);

describe('launch instance', () => {
  beforeEach(() => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0a1b2c3d4e5f67890', RootDeviceName: '/dev/xvda', State: 'available' }] });
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0abc', InstanceType: 't3.medium', SubnetId: 'subnet-a', LaunchTime: new Date('2026-01-01T00:00:00Z') }] });
  });
  afterEach(() => ec2.reset());

  it('launches from the launch template with the job tags and an idempotency token', async () => {
    const instance = await launchBuildInstance(buildJob(), 'exec-1', config);
    expect(instance).toEqual({ instanceId: 'i-0abc', instanceType: 't3.medium', subnetId: 'subnet-a', launchedAt: '2026-01-01T00:00:00.000Z', capacitySource: 'launched', market: 'on-demand' });
    expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
      LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '$Latest' },
      ImageId: 'ami-0a1b2c3d4e5f67890',
      InstanceType: 't3.medium',
      SubnetId: 'subnet-a',
      ClientToken: 'exec-1-0',
      TagSpecifications: expect.arrayContaining([
        { ResourceType: 'instance', Tags: expect.arrayContaining([{ Key: 'ec2-build-action:stack', Value: 'Ec2BuildAction' }, { Key: 'ec2-build-action:job-id', Value: buildJob().jobId }]) },
      ]),
    });
    expect(ec2.commandCalls(RunInstancesCommand)[0].args[0].input.BlockDeviceMappings).toBeUndefined();
  });

  it('encrypts the root volume under the AMI\'s own root device name when it is not the template\'s', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/sda1', State: 'available' }] });
    await launchBuildInstance(buildJob(), 'exec-1', config);
    expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, {
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { Encrypted: true, VolumeSize: 40, VolumeType: 'gp3', DeleteOnTermination: true } }],
    });
  });

  it('reports an AMI that does not exist as a ConfigurationError without launching', async () => {
    ec2.on(DescribeImagesCommand).rejects(ec2Error('InvalidAMIID.NotFound'));
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringMatching(/^ImageId "ami-0a1b2c3d4e5f67890" was rejected by EC2 \(InvalidAMIID.NotFound/) });
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('reports a root snapshot larger than the stack\'s root volume as a ConfigurationError naming both sizes, without launching', async () => {
    ec2.on(DescribeImagesCommand).resolves({
      Images: [{ RootDeviceName: '/dev/xvda', State: 'available', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-1', VolumeSize: 100 } }] }],
    });
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/100 GiB root snapshot, larger than this stack's 40 GiB root volume.*rootVolumeGiB=100/),
    });
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('reports RunInstances\' InvalidBlockDeviceMapping as a ConfigurationError with the fix, never as "retry later"', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('InvalidBlockDeviceMapping'));
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/InvalidBlockDeviceMapping.*ec2-build-action:rootVolumeGiB/),
    });
    expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 1);
  });

  it('reports an unknown instance type as a ConfigurationError', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('InvalidParameterValue'));
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringContaining('InstanceType "t3.medium"') });
  });

  it('quotes at most the start of a long EC2 message, so the fix still shows', async () => {
    ec2.on(RunInstancesCommand).rejects(Object.assign(new Error(`Member must satisfy enum value set: [${'a1.medium, '.repeat(500)}]`), { name: 'InvalidParameterValue', $metadata: {} }));
    const err = (await launchBuildInstance(buildJob(), 'exec-1', config).catch((e: Error) => e)) as Error;
    expect(err.message.length).toBeLessThan(700);
    expect(err.message).toMatch(/InvalidParameterValue: Member must satisfy.*…\)\. Pick an instance type offered in this Region/);
  });

  it('tries the next subnet when one lacks capacity', async () => {
    ec2.on(RunInstancesCommand, { SubnetId: 'subnet-a' }).rejects(ec2Error('InsufficientInstanceCapacity'));
    const instance = await launchBuildInstance(buildJob(), 'exec-1', config);
    expect(instance.instanceId).toBe('i-0abc');
    expect(ec2).toHaveReceivedCommandWith(RunInstancesCommand, { SubnetId: 'subnet-b', ClientToken: 'exec-1-1' });
  });

  it('throws a CapacityError naming every subnet when none has capacity', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('InsufficientInstanceCapacity'));
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({
      name: 'CapacityError',
      message: expect.stringContaining('subnet-a: InsufficientInstanceCapacity; subnet-b: InsufficientInstanceCapacity'),
    });
  });

  it('tries each fallback instance type in every subnet, in order, when the first has no capacity anywhere', async () => {
    // GIVEN c7i.large has no capacity anywhere and c6i.large none in subnet-a
    const job = buildJob({ properties: { ...buildJob().properties, instanceType: 'c7i.large', fallbackInstanceTypes: ['c6i.large', 'm7i.large'] } });
    ec2.on(RunInstancesCommand, { InstanceType: 'c7i.large' as never }).rejects(ec2Error('InsufficientInstanceCapacity'));
    ec2.on(RunInstancesCommand, { InstanceType: 'c6i.large' as never, SubnetId: 'subnet-a' }).rejects(ec2Error('InsufficientInstanceCapacity'));
    ec2.on(RunInstancesCommand, { InstanceType: 'c6i.large' as never, SubnetId: 'subnet-b' }).resolves({ Instances: [{ InstanceId: 'i-0fb', InstanceType: 'c6i.large', SubnetId: 'subnet-b' }] });
    // WHEN
    const instance = await launchBuildInstance(job, 'exec-1', config);
    // THEN the fourth attempt lands, and m7i.large is never tried
    expect(instance).toMatchObject({ instanceId: 'i-0fb', instanceType: 'c6i.large', subnetId: 'subnet-b' });
    expect(ec2.commandCalls(RunInstancesCommand).map((c) => `${c.args[0].input.InstanceType}@${c.args[0].input.SubnetId}#${c.args[0].input.ClientToken}`)).toEqual([
      'c7i.large@subnet-a#exec-1-0',
      'c7i.large@subnet-b#exec-1-1',
      'c6i.large@subnet-a#exec-1-2',
      'c6i.large@subnet-b#exec-1-3',
    ]);
  });

  it('names every type and subnet it tried when none has capacity', async () => {
    const job = buildJob({ properties: { ...buildJob().properties, instanceType: 'c7i.large', fallbackInstanceTypes: ['c6i.large'] } });
    ec2.on(RunInstancesCommand).rejects(ec2Error('InsufficientInstanceCapacity'));
    await expect(launchBuildInstance(job, 'exec-1', config)).rejects.toMatchObject({
      name: 'CapacityError',
      message: expect.stringMatching(/no capacity for c7i.large or c6i.large .*c6i.large in subnet-b: InsufficientInstanceCapacity\)/),
    });
  });

  it('stops at a fallback type EC2 does not know, naming it', async () => {
    const job = buildJob({ properties: { ...buildJob().properties, instanceType: 'c7i.large', fallbackInstanceTypes: ['z9.mega'] } });
    ec2.on(RunInstancesCommand, { InstanceType: 'c7i.large' as never }).rejects(ec2Error('InsufficientInstanceCapacity'));
    ec2.on(RunInstancesCommand, { InstanceType: 'z9.mega' as never }).rejects(ec2Error('InvalidParameterValue'));
    await expect(launchBuildInstance(job, 'exec-1', config)).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringContaining('InstanceType "z9.mega"') });
  });

  it('passes other errors on for the state machine to retry', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('InternalError'));
    await expect(launchBuildInstance(buildJob(), 'exec-1', config)).rejects.toMatchObject({ name: 'InternalError' });
  });
});

describe('AMI lookups kept between launches of a warm launcher', () => {
  const instance = { Instances: [{ InstanceId: 'i-0abc', InstanceType: 't3.medium' as const, SubnetId: 'subnet-a' }] };
  afterEach(() => ec2.reset());

  it('looks an available AMI up once within the time to live, and again after it', async () => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/sda1', State: 'available' }] });
    ec2.on(RunInstancesCommand).resolves(instance);
    let t = 0;
    const images = new ImageCache(60_000, () => t);
    await launchBuildInstance(buildJob(), 'exec-1', config, images);
    t = 59_000;
    await launchBuildInstance(buildJob(), 'exec-2', config, images);
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    // the cached root device still gets the encrypted volume
    expect(ec2.commandCalls(RunInstancesCommand)[1].args[0].input.BlockDeviceMappings?.[0].DeviceName).toBe('/dev/sda1');
    t = 60_000;
    await launchBuildInstance(buildJob(), 'exec-3', config, images);
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
  });

  it('keeps no AMI that is missing or not available, so the next launch asks again', async () => {
    const images = new ImageCache(60_000, () => 0);
    ec2.on(DescribeImagesCommand).resolvesOnce({ Images: [] }).resolvesOnce({ Images: [{ RootDeviceName: '/dev/xvda', State: 'pending' }] });
    await expect(launchBuildInstance(buildJob(), 'exec-1', config, images)).rejects.toMatchObject({ name: 'JobConfigurationError' });
    await expect(launchBuildInstance(buildJob(), 'exec-2', config, images)).rejects.toMatchObject({ name: 'JobConfigurationError', message: expect.stringContaining('is pending') });
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 2);
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });

  it('reports an AMI deregistered since it was kept as a ConfigurationError from RunInstances', async () => {
    const images = new ImageCache(60_000, () => 0);
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/xvda', State: 'available' }] });
    ec2.on(RunInstancesCommand).resolvesOnce(instance).rejects(ec2Error('InvalidAMIID.NotFound'));
    await launchBuildInstance(buildJob(), 'exec-1', config, images);
    await expect(launchBuildInstance(buildJob(), 'exec-2', config, images)).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/^ImageId "ami-0a1b2c3d4e5f67890" was rejected by EC2 \(InvalidAMIID.NotFound/),
    });
  });
});

describe('a throttled Spot launch', () => {
  beforeEach(() => {
    ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0a1b2c3d4e5f67890', RootDeviceName: '/dev/xvda', State: 'available' }] });
  });
  afterEach(() => ec2.reset());

  it('is not taken for Spot refusing: it fails as it is (the state machine retries it) instead of falling to on-demand', async () => {
    ec2.on(RunInstancesCommand).rejects(ec2Error('RequestLimitExceeded'));
    const warnings: string[] = [];
    const spec = { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], markets: ['spot', 'on-demand'] as const, imageName: 'the image', typesName: 'the types', warn: (m: string) => warnings.push(m) };
    await expect(launchBuildInstance(buildJob(), 'exec-1', config, new ImageCache(0), { ...spec, markets: [...spec.markets] })).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    expect(ec2.commandCalls(RunInstancesCommand)).toHaveLength(1);
    expect(warnings).toEqual([]);
  });
});

