import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DEFAULT_IMAGE_ID, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from '../../local/services/ec2';

/**
 * The local EC2 pages DescribeInstances as EC2 does: MaxResults bounds an answer and a NextToken leads to the rest, so
 * a caller that reads only the first page misses instances here too (#16: the sweeper's and refill's listings).
 */
const ec2 = new LocalEc2({ bootMs: 10, shutdownMs: 10 });
let client: EC2Client;
beforeAll(async () => {
  client = new EC2Client({ endpoint: await ec2.start(), region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
});
afterAll(() => ec2.stop());

const ids = (out: { Reservations?: { Instances?: { InstanceId?: string }[] }[] }) => (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));

it('answers at most MaxResults instances and a NextToken while more remain; the token leads to the rest', async () => {
  // GIVEN 7 instances
  const launch = () => client.send(new RunInstancesCommand({ ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.medium', MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } }));
  const all = (await Promise.all(Array.from({ length: 7 }, launch))).map((r) => r.Instances![0].InstanceId);
  const Filters = [{ Name: 'instance-id', Values: all as string[] }];
  // WHEN they are listed 5 at a time
  const first = await client.send(new DescribeInstancesCommand({ Filters, MaxResults: 5 }));
  const second = await client.send(new DescribeInstancesCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }));
  // THEN two pages hold them all, the last without a token
  expect(ids(first)).toHaveLength(5);
  expect(first.NextToken).toEqual(expect.any(String));
  expect(second.NextToken).toBeUndefined();
  expect([...ids(first), ...ids(second)].sort()).toEqual([...all].sort());
  // AND without MaxResults the answer is unpaginated: every match at once
  expect(ids(await client.send(new DescribeInstancesCommand({ Filters })))).toHaveLength(7);
  // AND a token from another request is refused, never taken for a first page
  await expect(client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [all[0]!] }], MaxResults: 5, NextToken: first.NextToken }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
});
