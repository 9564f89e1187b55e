import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { register, type RegisterEvent } from '../../lambdas/instance-check/register';
import type { PoolTable } from '../../lambdas/shared/pool-store';
import { listWaiters, READINESS_PK, takeLease } from '../../lambdas/shared/readiness-table';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * "Is Instance Ready?" registration (lambdas/instance-check/register.ts) against a real DynamoDB implementation
 * (dynalite), with EC2, Systems Manager, Step Functions and Lambda mocked: a ready instance is settled at once, a lost
 * one fails at once, anything else waits in the table and starts one watcher.
 */
let stop: () => Promise<void>;
let t: PoolTable;
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
const timing = { tickMs: 100, runMs: 60_000 };
const ctx = () => ({ table: t, watcherFunction: 'watcher-fn', readyWithinMs: 1_320_000, firstRegistrationMs: 240_000, timing });
let n = 0;
const event = (): RegisterEvent => ({
  instanceId: `i-0${(++n).toString(16).padStart(16, '0')}`,
  taskToken: `token-${n}`,
  executionName: `exec-${n}`,
  renewBy: new Date(Date.now() + 45 * 60_000).toISOString(),
  renewalSeconds: 2700,
  waitTimeoutSeconds: 4200,
});
const instance = (id: string, state: string, reason?: string) => ({ Reservations: [{ Instances: [{ InstanceId: id, State: { Name: state as never }, StateReason: reason ? { Message: reason } : undefined }] }] });
const freeLease = () => t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: { pk: { S: READINESS_PK }, sk: { S: 'WATCHER' } } }));

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('readiness-test'));
});
afterAll(() => stop());
beforeEach(async () => {
  for (const m of [ec2, ssm, sfn, lambda]) m.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
  await freeLease();
});

describe('registering a build with the readiness watcher', () => {
  it('resumes a build whose instance already runs with its agent online (a hot pool member) at once, with no watcher', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'running'));
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: e.instanceId, PingStatus: 'Online' }] });
    expect(await register(e, ctx())).toBe('ready');
    const [call] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(call.args[0].input.taskToken).toBe(e.taskToken);
    const output = JSON.parse(call.args[0].input.output!) as { readyAt: string; buildWaitSeconds: number };
    // Run Build's first wait ends at the job's horizon (45 minutes from now).
    expect(output.buildWaitSeconds).toBeGreaterThan(44 * 60);
    expect(output.buildWaitSeconds).toBeLessThanOrEqual(45 * 60);
    expect((await listWaiters(t)).map((w) => w.instanceId)).not.toContain(e.instanceId);
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
  });

  it('keeps a pending instance in the table with its token and starts one watcher for many builds', async () => {
    const a = event();
    const b = event();
    ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => instance(input.InstanceIds[0], 'pending'));
    expect(await register(a, ctx())).toBe('waiting');
    expect(await register(b, ctx())).toBe('waiting');
    const waiting = await listWaiters(t);
    expect(waiting.filter((w) => [a.instanceId, b.instanceId].includes(w.instanceId)).map((w) => [w.taskToken, w.state])).toEqual([
      [a.taskToken, 'pending'],
      [b.taskToken, 'pending'],
    ]);
    // One watcher: the second registration finds the lease held.
    expect(lambda.commandCalls(InvokeCommand).map((c) => [c.args[0].input.FunctionName, c.args[0].input.InvocationType])).toEqual([['watcher-fn', 'Event']]);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    // No agent is asked about while EC2 says pending: its agent cannot be online yet.
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it('does not look at an instance RunInstances has just launched: it waits, pending, for its state-change events and the watcher', async () => {
    const e = { ...event(), capacitySource: 'launched', launchedAt: new Date(Date.now() - 2_000).toISOString(), subnetId: 'subnet-0aaaaaaaaaaaaaaaa' };
    // Were it looked at, this would settle it at once (as for a hot pool member): the look is what is left out.
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'running'));
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: e.instanceId, PingStatus: 'Online' }] });
    expect(await register(e, ctx())).toBe('waiting');
    expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
    // (with its subnet: the watcher asks EC2 about each zone's instances apart)
    expect((await listWaiters(t)).find((w) => w.instanceId === e.instanceId)).toMatchObject({ taskToken: e.taskToken, state: 'pending', subnetId: 'subnet-0aaaaaaaaaaaaaaaa' });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: 'watcher-fn', InvocationType: 'Event' });
  });

  it('looks at a launched instance when it registers again to refresh its input URL (5 minutes after the launch): it may be ready at once', async () => {
    const e = { ...event(), capacitySource: 'launched', launchedAt: new Date(Date.now() - 5 * 60_000).toISOString() };
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'running'));
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: e.instanceId, PingStatus: 'Online' }] });
    expect(await register(e, ctx())).toBe('ready');
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: e.taskToken });
  });

  it('looks at a pool member it was given (hot or stopped): a hot one may be ready at once', async () => {
    for (const capacitySource of ['hot-pool', 'stopped-pool']) {
      ec2.resetHistory();
      const e = { ...event(), capacitySource };
      ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'pending'));
      expect(await register(e, ctx())).toBe('waiting');
      expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    }
  });

  it('marks a running instance whose agent is not online yet as running, for the watcher to ask about', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'running'));
    expect(await register(e, ctx())).toBe('waiting');
    expect((await listWaiters(t)).find((w) => w.instanceId === e.instanceId)?.state).toBe('running');
  });

  it('fails the build at once with InstanceLost when its instance already terminated, naming the reason', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'terminated', 'Server.SpotInstanceTermination'));
    expect(await register(e, ctx())).toBe('lost');
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: e.taskToken,
      error: 'InstanceLost',
      cause: `instance ${e.instanceId} is terminated (Server.SpotInstanceTermination) before the build finished starting`,
    });
    expect((await listWaiters(t)).map((w) => w.instanceId)).not.toContain(e.instanceId);
  });

  it('waits (does not fail) when EC2 still reads "stopped" right after a stopped pool member was started (eventual consistency)', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'stopped'));
    expect(await register(e, ctx())).toBe('waiting');
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('waits (does not fail) when EC2 throttles its one look: the watcher looks again', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    expect(await register(e, ctx())).toBe('waiting');
    expect((await listWaiters(t)).map((w) => w.instanceId)).toContain(e.instanceId);
  });

  it('replaces an earlier registration of the same instance (a retried task has a new token)', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'pending'));
    await register(e, ctx());
    await register({ ...e, taskToken: 'newer-token' }, ctx());
    expect((await listWaiters(t)).filter((w) => w.instanceId === e.instanceId).map((w) => w.taskToken)).toEqual(['newer-token']);
  });

  it('is ReadinessRegistrationFailed, which the state machine retries, when the watcher cannot be started; the lease is given back', async () => {
    const e = event();
    ec2.on(DescribeInstancesCommand).resolves(instance(e.instanceId, 'pending'));
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' }));
    await expect(register(e, ctx())).rejects.toMatchObject({ name: 'ReadinessRegistrationFailed', message: expect.stringContaining('TooManyRequestsException') });
    // The lease is free again: the next registration can start a watcher.
    expect(await takeLease(t, 'someone-else', new Date(), 10_000)).toBe(true);
  });
});
