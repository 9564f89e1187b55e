import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DEFAULT_IMAGE_ID, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from '../../local/services/ec2';

/**
 * Many instances' states (lambdas/shared/ec2.ts: watchedInstanceStates, the readiness watcher's look, by instance ID;
 * instanceStates, the pool refill's, by filter) against the local EC2, which fails a DescribeInstances that names no
 * instance ID, or one in a disrupted Availability Zone, as the API reference says EC2 does (API_DescribeInstances.html).
 */
const ec2 = new LocalEc2({ bootMs: 60_000, shutdownMs: 10 });
let client: EC2Client;
/** The watcher's look, each request given 5 s, as the watcher gives it (watch.ts REQUEST_TIMEOUT_MS). */
let states: (ids: readonly string[]) => ReturnType<typeof import('../../lambdas/shared/ec2').watchedInstanceStates>;
let byFilter: typeof import('../../lambdas/shared/ec2').instanceStates;
const HEALTHY = 'subnet-0aaaaaaaaaaaaaaaa';
const DISRUPTED = 'subnet-0bbbbbbbbbbbbbbbb';
const UNKNOWN = 'i-0123456789abcdef0';

beforeAll(async () => {
  const endpoint = await ec2.start();
  // One attempt: the local EC2's 503 would otherwise be retried by the SDK, which only slows the test.
  Object.assign(process.env, { AWS_ENDPOINT_URL_EC2: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_MAX_ATTEMPTS: '1' });
  client = new EC2Client({ endpoint, maxAttempts: 1 });
  // The Lambda modules build their SDK client when loaded: after the endpoint is set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const shared = require('../../lambdas/shared/ec2') as typeof import('../../lambdas/shared/ec2');
  states = (ids) => shared.watchedInstanceStates(ids, 5000);
  byFilter = shared.instanceStates;
});
afterAll(() => ec2.stop());
afterEach(() => ec2.disruptedSubnets.clear());

async function launch(SubnetId: string): Promise<string> {
  const out = await client.send(new RunInstancesCommand({ ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.medium', MinCount: 1, MaxCount: 1, SubnetId, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } }));
  return out.Instances![0].InstanceId!;
}

describe('DescribeInstances while an Availability Zone is disrupted (local EC2)', () => {
  it('fails a call that names no instance ID or one in the zone, and answers one that names only instances elsewhere', async () => {
    const [healthy, affected] = [await launch(HEALTHY), await launch(DISRUPTED)];
    ec2.disruptedSubnets.add(DISRUPTED);
    const byFilter = new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [healthy] }], MaxResults: 5 });
    await expect(client.send(byFilter)).rejects.toMatchObject({ name: 'Unavailable', $metadata: { httpStatusCode: 503 } });
    await expect(client.send(new DescribeInstancesCommand({ InstanceIds: [healthy, affected] }))).rejects.toMatchObject({ name: 'Unavailable' });
    const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [healthy] }));
    expect(out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([healthy]);
    // AND once the zone recovers, the filtered call works again
    ec2.disruptedSubnets.clear();
    await expect(client.send(byFilter)).resolves.toMatchObject({ Reservations: [expect.anything()] });
  });
});

describe('watchedInstanceStates (the readiness watcher\'s)', () => {
  it('answers about instances in healthy zones while another zone is disrupted', async () => {
    const healthy = [await launch(HEALTHY), await launch(HEALTHY)];
    await launch(DISRUPTED);
    ec2.disruptedSubnets.add(DISRUPTED);
    const answer = await states(healthy);
    expect([...answer.keys()].sort()).toEqual([...healthy].sort());
    expect([...answer.values()].map((s) => s.state)).toEqual(['pending', 'pending']);
  });

  it('leaves out an instance EC2 does not know (yet, or any more), or an ID that is not one, and answers about the others', async () => {
    const known = await launch(HEALTHY);
    expect([...(await states([known, UNKNOWN])).keys()]).toEqual([known]);
    expect([...(await states([known, 'i-not-an-id'])).keys()]).toEqual([known]);
  });

  it('names its instances by ID and filter, with no MaxResults (EC2 refuses it with IDs), and makes one call when EC2 knows them all', async () => {
    const known = [await launch(HEALTHY), await launch(HEALTHY)];
    const send = jest.spyOn(EC2Client.prototype, 'send');
    try {
      await states(known);
      expect(send.mock.calls.map(([c]) => c.input)).toEqual([{ InstanceIds: known, Filters: [{ Name: 'instance-id', Values: known }] }]);
    } finally {
      send.mockRestore();
    }
  });

  it('throws when the batch names an instance in the disrupted zone, for the caller to ask again later', async () => {
    const [healthy, affected] = [await launch(HEALTHY), await launch(DISRUPTED)];
    ec2.disruptedSubnets.add(DISRUPTED);
    await expect(states([healthy, affected])).rejects.toMatchObject({ name: 'Unavailable' });
  });

  it('asks one call per 100 instances when EC2 knows them all', async () => {
    const ids = await Promise.all(Array.from({ length: 101 }, () => launch(HEALTHY)));
    const send = jest.spyOn(EC2Client.prototype, 'send');
    try {
      expect((await states(ids)).size).toBe(101);
      expect(send).toHaveBeenCalledTimes(2);
    } finally {
      send.mockRestore();
    }
  });
});

describe('instanceStates (the pool refill\'s)', () => {
  it('asks by the instance-id filter alone, paginated, in one call that leaves an unknown instance out', async () => {
    const known = await launch(HEALTHY);
    const send = jest.spyOn(EC2Client.prototype, 'send');
    try {
      expect([...(await byFilter([known, UNKNOWN])).keys()]).toEqual([known]);
      expect(send.mock.calls.map(([c]) => c.input)).toEqual([{ Filters: [{ Name: 'instance-id', Values: [known, UNKNOWN] }], MaxResults: 1000 }]);
    } finally {
      send.mockRestore();
    }
  });
});
