import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DEFAULT_IMAGE_ID, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from '../../local/services/ec2';

/**
 * The local EC2's DescribeInstances filters: instance-id (what the functions' one-instance look uses, for the larger
 * throttling bucket), and a filter it does not model is refused as EC2 refuses an unknown one, never ignored (which
 * would widen the answer to every instance).
 */
const ec2 = new LocalEc2({ bootMs: 10, shutdownMs: 10 });
let client: EC2Client;
beforeAll(async () => {
  client = new EC2Client({ endpoint: await ec2.start(), region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
});
afterAll(() => ec2.stop());

it('finds one instance by the instance-id filter, and none for an id it does not know', async () => {
  const launched = await Promise.all([0, 1].map(() => client.send(new RunInstancesCommand({ ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.medium', MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } }))));
  const [a] = launched.map((r) => r.Instances![0].InstanceId!);
  const out = await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [a] }] }));
  expect(out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([a]);
  const none = await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ['i-0123456789abcdef0'] }] }));
  expect(none.Reservations ?? []).toEqual([]);
});

it('refuses a filter it does not model with EC2\'s InvalidParameterValue, instead of answering with every instance', async () => {
  await expect(client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'image-id', Values: [DEFAULT_IMAGE_ID] }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: "The filter 'image-id' is invalid" });
});
