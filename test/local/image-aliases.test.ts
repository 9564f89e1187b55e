import * as path from 'node:path';
import { DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parseFleets } from '../../lambdas/shared/fleets';
import { IMAGE_ALIASES } from '../../lambdas/shared/image-aliases';
import { credentialsFor } from '../../local/iam/identity';
import { LocalCloud } from '../../local/cloud';
import { runJob, type JobOptions } from '../../local/job';
import { PUBLIC_AMI_PARAMETERS } from '../../local/services/ssm-parameters';

/**
 * Stock image aliases end to end in the local cloud (IAM enforced from the synthesized template, the real functions
 * and state machine): an alias resolves through Parameter Store to its image, on a job's ImageId and on a fleet's
 * imageId, and an image whose architecture an instance type does not run is a ConfigurationError before launch.
 */
const AL2023_ARM = PUBLIC_AMI_PARAMETERS['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64'];
const UBUNTU_ARM = PUBLIC_AMI_PARAMETERS['/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id'];
const fleet = (imageId: string, instanceTypes: string[], hotPool = 0) => ({ imageId, instanceTypes, market: 'on-demand', hotPool, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5 });
const fleets = parseFleets(
  {
    'ubuntu-arm': fleet('ubuntu-24.04-arm64', ['t4g.medium'], 1),
    'arm-on-intel': fleet('al2023-arm64', ['c7g.large', 'c7i.large']),
  },
  'fleets',
);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets });
  await cloud.fillPools();
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

const HELLO = path.join(__dirname, '../../examples/hello');
const job = (options: Partial<JobOptions>): JobOptions => ({ source: HELLO, command: 'bash build.sh', ...options });
const launchedImages = (instanceIds: string[]) => instanceIds.map((id) => cloud.ec2.instances.get(id)?.imageId);

describe('ImageId aliases', () => {
  it('builds on al2023-arm64 with c7g.large: the alias resolves to the arm64 Amazon Linux image', async () => {
    const s = await runJob(cloud, job({ imageId: 'al2023-arm64', instanceType: 'c7g.large' }));
    expect(s).toMatchObject({ status: 'Succeeded', instancesLaunched: 1, instancesReleased: 1 });
    expect(launchedImages(s.timeline.instances.map((i) => i.instanceId))).toEqual([AL2023_ARM]);
  });

  it('fails al2023-arm64 with c7i.large as a ConfigurationError naming both properties and the fix, launching nothing', async () => {
    const before = cloud.ec2.instances.size;
    const s = await runJob(cloud, job({ imageId: 'al2023-arm64', instanceType: 'c7i.large' }));
    expect(s).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 0 });
    expect(s.failureMessage).toMatch(/ImageId \(al2023-arm64\) "ami-0a1b2c3d4e5f6a7b8" is an arm64 image, but InstanceType does not match it \(c7i\.large runs x86_64\)\. Use instance types that run arm64/);
    expect(cloud.ec2.instances.size).toBe(before);
  });

  it('checks every type of a fallback list, and an x86_64 AMI ID against an arm64 type', async () => {
    const list = await runJob(cloud, job({ imageId: 'ubuntu-24.04', instanceType: 'c7i.large,m7g.large,t4g.medium' }));
    expect(list).toMatchObject({ failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(list.failureMessage).toMatch(/is an x86_64 image, but InstanceType does not match it \(m7g\.large runs arm64, t4g\.medium runs arm64\)/);
    const amiId = await runJob(cloud, job({ imageId: 'ami-0a1b2c3d4e5f67890', instanceType: 'c7g.large' }));
    expect(amiId).toMatchObject({ failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(amiId.failureMessage).toMatch(/^Step "Launch Instance" failed: ImageId "ami-0a1b2c3d4e5f67890" is an x86_64 image.*c7g\.large runs arm64/);
  });

  it('rejects a name that is not one of the five aliases, listing them, before anything is launched', async () => {
    const s = await runJob(cloud, job({ imageId: 'al2024-arm64' }));
    expect(s).toMatchObject({ failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(s.failureMessage).toMatch(/^ImageId must be an AMI ID like ami-0123456789abcdef0 or a stock image alias \(al2023, al2023-arm64, ubuntu-24\.04, ubuntu-24\.04-arm64, windows-2022\), got "al2024-arm64"/);
  });
});

describe('fleet imageId aliases', () => {
  it('fills the pool of a ubuntu-24.04-arm64 fleet from the resolved image, and builds on it', async () => {
    const s = await runJob(cloud, job({ properties: { Fleet: 'ubuntu-arm' } }));
    expect(s).toMatchObject({ status: 'Succeeded', capacitySource: 'hot-pool' });
    expect(launchedImages(s.timeline.instances.map((i) => i.instanceId))).toEqual([UBUNTU_ARM]);
  });

  it('fails a fleet whose instance types do not all run its image, naming the fleet\'s settings, launching nothing', async () => {
    const before = cloud.ec2.instances.size;
    const s = await runJob(cloud, job({ properties: { Fleet: 'arm-on-intel' } }));
    expect(s).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(s.failureMessage).toMatch(/fleet "arm-on-intel"'s imageId \(resolve:ssm:\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-arm64\) "ami-0a1b2c3d4e5f6a7b8" is an arm64 image, but fleet "arm-on-intel"'s instanceTypes does not match it \(c7i\.large runs x86_64\)/);
    expect(cloud.ec2.instances.size).toBe(before);
  });
});

describe('IAM for the aliases and the checks (the synthesized template\'s policies, enforced)', () => {
  const statement = (role: RegExp, sid: string) => cloud.authorizer.allStatements().find((s) => role.test(s) && s.endsWith(`/${sid}`));

  it('the launcher\'s statements allowed the runs above: its parameter reads and its instance type lookups', () => {
    for (const sid of ['ReadStockImageParameters', 'ReadInstanceTypes']) {
      const launcher = statement(/^TasksLaunchRole/, sid);
      expect(launcher).toBeDefined();
      expect(cloud.authorizer.usedStatements.has(launcher!)).toBe(true);
    }
    // The refill launches fleets' pool members, whose parameters the fleets' own grant names; it checks no types.
    expect(statement(/^FleetsRefillRole/, 'ReadStockImageParameters')).toBeUndefined();
    expect(statement(/^FleetsRefillRole/, 'ReadInstanceTypes')).toBeUndefined();
  });

  it('the launcher reads the five aliases\' parameters and no other public parameter', async () => {
    const role = statement(/^TasksLaunchRole/, 'ReadStockImageParameters')!.split(' ')[0];
    const credentials = credentialsFor(role);
    const ssm = new SSMClient({ region: 'us-east-1', maxAttempts: 1, credentials });
    for (const name of Object.values(IMAGE_ALIASES)) await expect(ssm.send(new GetParameterCommand({ Name: name }))).resolves.toMatchObject({ Parameter: { Name: name } });
    await expect(ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(new EC2Client({ region: 'us-east-1', maxAttempts: 1, credentials }).send(new DescribeInstanceTypesCommand({ InstanceTypes: ['c7g.large'] }))).resolves.toMatchObject({
      InstanceTypes: [{ InstanceType: 'c7g.large', ProcessorInfo: { SupportedArchitectures: ['arm64'] } }],
    });
  });
});
