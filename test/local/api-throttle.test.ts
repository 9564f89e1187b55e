import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodePipelineClient, GetPipelineStateCommand, PollForJobsCommand } from '@aws-sdk/client-codepipeline';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DescribeInstanceInformationCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CODEPIPELINE_THROTTLING, SFN_THROTTLING, SSM_THROTTLING } from '../../local/services/api-quotas';
import { ApiThrottle, type ServiceThrottling } from '../../local/services/api-throttle';
import { LocalCodePipeline } from '../../local/services/codepipeline';
import { LocalStepFunctions } from '../../local/services/sfn';
import { LocalSsm } from '../../local/services/ssm';

/**
 * The local Systems Manager, Step Functions and CodePipeline throttle with the account's token buckets
 * (local/services/api-quotas.ts: Step Functions' published buckets, Parameter Store's published rate, and stated
 * assumptions where AWS publishes none), answering ThrottlingException (HTTP 400) as each service's Common Errors
 * page gives it, on a clock the test moves.
 */
function clock() {
  let t = 1000;
  return { now: () => t, advance: (seconds: number) => (t += seconds) };
}
const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });

/** How many calls go through before the first throttled one (which must come within `n`); other errors count as through. */
async function throughBeforeThrottled(call: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < n; i++) {
    try {
      await call();
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name !== 'ThrottlingException') continue;
      expect(e.$metadata?.httpStatusCode).toBe(400);
      return i;
    }
  }
  throw new Error(`none of ${n} calls was throttled`);
}

describe('API token buckets', () => {
  it('empties at the quota\'s capacity, answers ThrottlingException 400, and refills at its rate', () => {
    // GIVEN Step Functions' ListExecutions bucket (100, refill 2/s in most Regions)
    const c = clock();
    const throttle = new ApiThrottle(SFN_THROTTLING, c.now);
    // WHEN 100 requests arrive at once THEN all pass and the next is refused as AWS refuses it
    for (let i = 0; i < 100; i++) throttle.admit('ListExecutions');
    expect(() => throttle.admit('ListExecutions')).toThrow(expect.objectContaining({ code: 'ThrottlingException', status: 400 }));
    expect(throttle.refused.get('ListExecutions')).toBe(1);
    // WHEN two seconds pass THEN four more pass, not five
    c.advance(2);
    for (let i = 0; i < 4; i++) throttle.admit('ListExecutions');
    expect(() => throttle.admit('ListExecutions')).toThrow(expect.objectContaining({ code: 'ThrottlingException' }));
    // AND other operations keep their own buckets
    expect(throttle.bucket('DescribeExecution').available()).toBe(250);
  });

  it('shares one bucket among operations that share a quota (Parameter Store\'s 40 a second)', () => {
    const throttle = new ApiThrottle(SSM_THROTTLING, clock().now);
    for (let i = 0; i < 20; i++) throttle.admit('GetParameter');
    for (let i = 0; i < 20; i++) throttle.admit('GetParameters');
    expect(() => throttle.admit('GetParameter')).toThrow(expect.objectContaining({ code: 'ThrottlingException' }));
    expect(throttle.bucketOf('GetParameters')).toBe('ParameterStore');
  });

  it('lets another client spend a bucket, as consume() does for a fault', () => {
    const throttle = new ApiThrottle(SSM_THROTTLING, clock().now);
    expect(throttle.consume('DescribeInstanceInformation', 45)).toBe(45);
    expect(() => {
      for (let i = 0; i < 6; i++) throttle.admit('DescribeInstanceInformation');
    }).toThrow(expect.objectContaining({ code: 'ThrottlingException' }));
  });

  it('refuses to gate an operation that has no quota', () => {
    const throttle = new ApiThrottle({ ...SSM_THROTTLING, quotas: { SendCommand: SSM_THROTTLING.quotas.SendCommand } }, clock().now);
    expect(() => throttle.gate({ SendCommand: () => ({}), DescribeInstanceInformation: () => ({}) })).toThrow(/no throttling quota for DescribeInstanceInformation/);
  });

  it('gives every quota a source, and says which are published', () => {
    const tables: ServiceThrottling[] = [SSM_THROTTLING, SFN_THROTTLING, CODEPIPELINE_THROTTLING];
    for (const t of tables) {
      for (const [operation, q] of Object.entries(t.quotas)) {
        expect({ operation, source: q.source }).toEqual({ operation, source: expect.stringMatching(/^https:\/\/docs\.aws\.amazon\.com\//) });
        if (!q.published) expect(q.note).toMatch(/^ASSUMPTION/);
      }
    }
  });
});

describe('the local services answer ThrottlingException when a bucket is empty', () => {
  it('Systems Manager: DescribeInstanceInformation and Parameter Store', async () => {
    // GIVEN a local SSM with the account's buckets
    const c = clock();
    const ssm = new LocalSsm({ documentName: 'BuildDoc', timing: { registerMs: 1 }, disksDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ssm-throttle-')), onEvent: () => undefined, throttle: new ApiThrottle(SSM_THROTTLING, c.now) });
    const client = new SSMClient(config(await ssm.start()));
    try {
      const describe = () => client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ['i-0123456789abcdef0'] }] }));
      // WHEN a burst describes nodes THEN the 51st is throttled (assumed bucket 50)
      expect(await throughBeforeThrottled(describe, 60)).toBe(50);
      // AND after a simulated second, 10 more go through (refill 10/s)
      c.advance(1);
      expect(await throughBeforeThrottled(describe, 20)).toBe(10);
      // AND Parameter Store's own bucket is untouched until it too empties at 40
      expect(await throughBeforeThrottled(() => client.send(new GetParameterCommand({ Name: '/no/such/parameter' })), 50)).toBe(40);
    } finally {
      await ssm.stop();
    }
  });

  it('Step Functions: ListExecutions', async () => {
    const c = clock();
    const sfn = new LocalStepFunctions({
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Throttled',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      substitutions: {},
      functions: {},
      msPerSecond: 1,
      throttle: new ApiThrottle(SFN_THROTTLING, c.now),
    });
    const client = new SFNClient(config(await sfn.start()));
    try {
      const list = () => client.send(new ListExecutionsCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Throttled' }));
      expect(await throughBeforeThrottled(list, 110)).toBe(100);
      c.advance(1);
      expect(await throughBeforeThrottled(list, 10)).toBe(2);
    } finally {
      await sfn.stop();
    }
  });

  it('CodePipeline: the job-worker API, and a pipeline API operation served after start', async () => {
    const c = clock();
    const jobs = new LocalCodePipeline(60_000, new ApiThrottle(CODEPIPELINE_THROTTLING, c.now));
    const client = new CodePipelineClient(config(await jobs.start()));
    try {
      const poll = () => client.send(new PollForJobsCommand({ actionTypeId: { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version: '1' } }));
      expect(await throughBeforeThrottled(poll, 60)).toBe(50);
      // GIVEN an operation served after start THEN it takes tokens too, and one without a quota is refused
      jobs.serve({ GetPipelineState: () => ({ pipelineName: 'p', stageStates: [] }) });
      expect(await throughBeforeThrottled(() => client.send(new GetPipelineStateCommand({ name: 'p' })), 60)).toBe(50);
      expect(() => jobs.serve({ ListPipelines: () => ({}) })).toThrow(/no throttling quota for ListPipelines/);
      c.advance(1);
      expect(await throughBeforeThrottled(poll, 20)).toBe(10);
    } finally {
      await jobs.stop();
    }
  });
});
