import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { LocalEc2 } from '../../local/services/ec2';
import { buildJob } from '../fixtures/job';

/** The launcher against the local EC2, which refuses a root volume smaller than the AMI's root snapshot, as EC2 does. */
const LARGE_IMAGE = 'ami-0fedcba9876543210'; // a 50 GiB root snapshot
const TEMPLATE = 'lt-0local0000000000'; // maps a 30 GiB root volume
const ec2 = new LocalEc2({ bootMs: 60_000, shutdownMs: 10 });
let client: EC2Client;
let launch: typeof import('../../lambdas/launcher/launch');
const config = (rootVolumeGiB: number) => ({ launchTemplateId: TEMPLATE, subnetIds: [], stackTagValue: 'Ec2BuildAction', rootVolumeGiB });
const job = (imageId: string) => buildJob({ properties: { ...buildJob().properties, imageId } });

beforeAll(async () => {
  const endpoint = await ec2.start();
  Object.assign(process.env, { AWS_ENDPOINT_URL_EC2: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  client = new EC2Client({ endpoint });
  // The Lambda modules build their SDK client when loaded: after the endpoint is set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  launch = require('../../lambdas/launcher/launch') as typeof import('../../lambdas/launcher/launch');
});
afterAll(() => ec2.stop());

describe('root volume and the AMI\'s root snapshot', () => {
  it('local EC2 refuses RunInstances whose root volume is smaller than the snapshot, with EC2\'s code and wording', async () => {
    const run = (BlockDeviceMappings?: { DeviceName: string; Ebs: { VolumeSize: number } }[]) =>
      client.send(new RunInstancesCommand({ LaunchTemplate: { LaunchTemplateId: TEMPLATE }, ImageId: LARGE_IMAGE, InstanceType: 't3.medium', MinCount: 1, MaxCount: 1, BlockDeviceMappings }));
    // the template's 30 GiB root, and an explicit 40 GiB one, are both too small for a 50 GiB snapshot
    await expect(run()).rejects.toMatchObject({ name: 'InvalidBlockDeviceMapping', message: "Volume of size 30GB is smaller than  snapshot 'snap-0fedcba9876543210', expect size >= 50GB" });
    await expect(run([{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 40 } }])).rejects.toMatchObject({ name: 'InvalidBlockDeviceMapping' });
    await expect(run([{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 50 } }])).resolves.toMatchObject({ Instances: [expect.objectContaining({ ImageId: LARGE_IMAGE })] });
  });

  it('the launcher fails with a ConfigurationError naming both sizes and the context key, before launching anything', async () => {
    const before = ec2.instances.size;
    await expect(launch.launchBuildInstance(job(LARGE_IMAGE), 'exec-small', config(30))).rejects.toMatchObject({
      name: 'JobConfigurationError',
      message: expect.stringMatching(/50 GiB root snapshot.*30 GiB root volume.*ec2-build-action:rootVolumeGiB=50/),
    });
    expect(ec2.instances.size).toBe(before);
  });

  it('the launcher launches an image whose root snapshot fits the stack\'s root volume', async () => {
    await expect(launch.launchBuildInstance(job('ami-0a1b2c3d4e5f67890'), 'exec-fits', config(30))).resolves.toMatchObject({ instanceId: expect.stringMatching(/^i-/) });
  });
});
