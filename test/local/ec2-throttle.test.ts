import { CreateTagsCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DEFAULT_IMAGE_ID, LocalEc2 } from '../../local/services/ec2';
import { EC2_THROTTLING, Ec2Throttle } from '../../local/services/ec2-throttle';

/**
 * EC2's token buckets ("Request throttling for the Amazon EC2 API":
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), on a clock the test moves.
 */
function clock() {
  let t = 1000;
  return { now: () => t, advance: (seconds: number) => (t += seconds) };
}
const query = (params: Record<string, string> = {}) => new URLSearchParams(params);
/** How many of n requests the buckets admit before the first RequestLimitExceeded (which must come). */
function admitted(throttle: Ec2Throttle, action: string, params: URLSearchParams, n: number): number {
  for (let i = 0; i < n; i++) {
    try {
      throttle.admit(action, params);
    } catch (err) {
      expect(err).toMatchObject({ code: 'RequestLimitExceeded', status: 503 });
      return i;
    }
  }
  throw new Error(`all ${n} ${action} requests were admitted`);
}

describe('EC2 token buckets', () => {
  it('admits a burst up to the bucket capacity, then answers RequestLimitExceeded', () => {
    // GIVEN a fresh account
    const throttle = new Ec2Throttle(clock().now);
    // WHEN it calls DescribeImages (non-mutating: 100) and DescribeInstances by id alone (unfiltered: 50) in one instant
    // THEN exactly the capacities go through
    expect(admitted(throttle, 'DescribeImages', query({ 'ImageId.1': DEFAULT_IMAGE_ID }), 200)).toBe(100);
    expect(admitted(throttle, 'DescribeInstances', query({ 'InstanceId.1': 'i-0123456789abcdef0' }), 200)).toBe(50);
  });

  it('refills at the documented rate, never above capacity', () => {
    // GIVEN an empty DescribeImages bucket (refill 20 a second)
    const c = clock();
    const throttle = new Ec2Throttle(c.now);
    admitted(throttle, 'DescribeImages', query(), 200);
    // WHEN half a second passes THEN 10 more requests go through
    c.advance(0.5);
    expect(admitted(throttle, 'DescribeImages', query(), 200)).toBe(10);
    // WHEN a minute passes THEN the bucket holds its capacity, no more
    c.advance(60);
    expect(admitted(throttle, 'DescribeImages', query(), 200)).toBe(100);
  });

  it('keeps each action in its own bucket, and a filtered DescribeInstances out of the unfiltered one', () => {
    // GIVEN DescribeInstances without filter nor pagination is exhausted
    const throttle = new Ec2Throttle(clock().now);
    admitted(throttle, 'DescribeInstances', query(), 200);
    // THEN a filtered or paginated DescribeInstances still has the non-mutating bucket (100)
    expect(admitted(throttle, 'DescribeInstances', query({ 'Filter.1.Name': 'instance-state-name', 'Filter.1.Value.1': 'running' }), 200)).toBe(100);
    expect(throttle.bucket('DescribeInstances').available()).toBe(0);
    // AND other actions are untouched: DescribeImages (100), CreateTags (uncategorized: 100), StopInstances (mutating: 50)
    expect(admitted(throttle, 'DescribeImages', query(), 200)).toBe(100);
    expect(admitted(throttle, 'CreateTags', query({ 'ResourceId.1': 'i-0123456789abcdef0' }), 200)).toBe(100);
    expect(throttle.bucket('StopInstances').available()).toBe(50);
    expect(throttle.refused.get('DescribeInstances:unfiltered')).toBe(1);
  });

  it('takes one resource token per instance, and refuses a request whose instances exceed the resource bucket', () => {
    // GIVEN RunInstances has launched 999 instances at once (resource bucket 1000, refill 2 a second)
    const c = clock();
    const throttle = new Ec2Throttle(c.now);
    throttle.admit('RunInstances', query({ MinCount: '999', MaxCount: '999' }));
    // WHEN a request for 2 more comes THEN it is refused although its request bucket (5) has tokens
    expect(() => throttle.admit('RunInstances', query({ MinCount: '1', MaxCount: '2' }))).toThrow(expect.objectContaining({ code: 'RequestLimitExceeded' }));
    expect(throttle.refused.get('RunInstances:resources')).toBe(1);
    // AND one more launches; after half a second (one token), one more again
    throttle.admit('RunInstances', query({ MinCount: '1', MaxCount: '1' }));
    expect(() => throttle.admit('RunInstances', query({ MinCount: '1', MaxCount: '1' }))).toThrow(expect.objectContaining({ code: 'RequestLimitExceeded' }));
    c.advance(0.5);
    throttle.admit('RunInstances', query({ MinCount: '1', MaxCount: '1' }));
    // AND TerminateInstances counts the instance ids of a request (resource bucket 1000)
    throttle.consume('TerminateInstances:resources', 998);
    const three = query({ 'InstanceId.1': 'i-1', 'InstanceId.2': 'i-2', 'InstanceId.3': 'i-3' });
    expect(() => throttle.admit('TerminateInstances', three)).toThrow(expect.objectContaining({ code: 'RequestLimitExceeded' }));
    throttle.admit('TerminateInstances', query({ 'InstanceId.1': 'i-1', 'InstanceId.2': 'i-2' }));
  });

  it('lets another client of the account spend a bucket, leaving the rest', () => {
    // GIVEN another client takes 90 of DescribeInstances' 100 tokens (and cannot take more than there are)
    const throttle = new Ec2Throttle(clock().now);
    expect(throttle.consume('DescribeInstances', 90)).toBe(90);
    expect(throttle.consume('DescribeInstances', 90)).toBe(10);
    // THEN a filtered DescribeInstances is refused at once
    expect(admitted(throttle, 'DescribeInstances', query({ 'Filter.1.Name': 'tag:x', 'Filter.1.Value.1': 'y' }), 10)).toBe(0);
  });

  it('refuses to serve an action that has no buckets', async () => {
    // GIVEN a table without CreateTags, which the local EC2 serves
    const table = Object.fromEntries(Object.entries(EC2_THROTTLING).filter(([action]) => action !== 'CreateTags'));
    // THEN the local EC2 does not start; with the whole table it does
    const partial = new LocalEc2({ bootMs: 10, shutdownMs: 10 }, new Ec2Throttle(clock().now, table));
    const whole = new LocalEc2({ bootMs: 10, shutdownMs: 10 }, new Ec2Throttle(clock().now));
    try {
      await expect(partial.start()).rejects.toThrow(/no throttling buckets for CreateTags/);
      await expect(whole.start()).resolves.toMatch(/^http:/);
    } finally {
      await Promise.all([partial.stop(), whole.stop()]);
    }
  });
});

describe('the local EC2 endpoint throttles as EC2 does', () => {
  const c = clock();
  const ec2 = new LocalEc2({ bootMs: 10, shutdownMs: 10 }, new Ec2Throttle(c.now));
  let client: EC2Client;
  beforeAll(async () => {
    // One attempt: the SDK would otherwise retry RequestLimitExceeded itself.
    client = new EC2Client({ endpoint: await ec2.start(), region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
  });
  afterAll(() => ec2.stop());

  async function burst(n: number): Promise<{ ok: number; throttled: unknown[] }> {
    const outcomes = await Promise.allSettled(Array.from({ length: n }, () => client.send(new DescribeInstancesCommand({}))));
    return { ok: outcomes.filter((o) => o.status === 'fulfilled').length, throttled: outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : [])) };
  }

  it('refuses a burst of unfiltered DescribeInstances beyond the bucket, and serves again once it has refilled', async () => {
    // WHEN 60 DescribeInstances without filter nor pagination arrive at once (bucket 50)
    const first = await burst(60);
    // THEN 50 are served and 10 get RequestLimitExceeded, HTTP 503, through the SDK
    expect(first.ok).toBe(50);
    expect(first.throttled).toHaveLength(10);
    for (const err of first.throttled) expect(err).toMatchObject({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
    // AND other actions are still served
    await client.send(new DescribeImagesCommand({ ImageIds: [DEFAULT_IMAGE_ID] }));
    await expect(client.send(new CreateTagsCommand({ Resources: ['i-0000000000000000a'], Tags: [{ Key: 'k', Value: 'v' }] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    // WHEN one second passes (refill 10 a second) THEN 10 more are served, the 11th is not
    c.advance(1);
    expect((await burst(11)).ok).toBe(10);
    // WHEN five seconds pass THEN the whole bucket is back
    c.advance(5);
    expect((await burst(50)).ok).toBe(50);
  });
});
