import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { runJob, type JobSummary } from '../../local/job';
import { parseFleets } from '../../lambdas/shared/fleets';
import type { PoolTable } from '../../lambdas/shared/pool-table';
import { FLEET_LINE_STATEMENTS, FLEET_SAFETY_NET_STATEMENTS, FLEET_STATEMENTS } from './fleet-statements';

/**
 * The safety nets know fleets, in the local cloud with the stack's own functions: the sweeper keeps idle pool members
 * the pool table knows and terminates the pools' leftovers; the execution-events watchdog and the sweeper give back
 * the fleet slots of executions that ended without "Free Fleet Slot", and the next waiting job runs.
 * Schedules are stopped: each sweep and refill here is the test's own.
 */
const IMAGE = 'ami-0a1b2c3d4e5f67890';
const base = { imageId: IMAGE, instanceTypes: ['t3.medium'], market: 'on-demand', maxQueueMinutes: 5 } as const;
const fleets = parseFleets({ warm: { ...base, hotPool: 2, stoppedPool: 0, maxConcurrent: 4 }, capped: { ...base, hotPool: 0, stoppedPool: 0, maxConcurrent: 1 } }, 'fleets');
const MINUTE = 60_000;
/** A job's summary, or a rejection when it has none within `ms` (a waiting job otherwise waits out its line). */
const within = <T>(ms: number, p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms))]);

let cloud: LocalCloud;
let table: PoolTable;
let pools: typeof import('../../lambdas/shared/pool-table');

beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets });
  cloud.bus.stopSchedules();
  // The test reads and writes the table as the slot function does (its role has every item action the test needs).
  const credentials = credentialsFor(cloud.functionAt('Fleets/Slots').roleLogicalId);
  table = { client: new DynamoDBClient({ credentials }), tableName: cloud.functionAt('Fleets/Slots').lambda.spec.env.POOL_TABLE_NAME };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pools = require('../../lambdas/shared/pool-table') as typeof pools;
}, 300_000);
afterAll(async () => {
  await cloud?.stop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const running = (id: string) => ['pending', 'running', 'stopping', 'stopped'].includes(cloud.ec2.instances.get(id)?.state ?? '');
/** Makes EC2 report an instance as launched `ms` ago. */
const age = (id: string, ms: number) => Object.assign(cloud.ec2.instances.get(id)!, { launchTime: new Date(Date.now() - ms) });

describe('the sweeper and pool instances', () => {
  let members: string[];
  beforeAll(async () => {
    await cloud.fillPools();
    members = (await pools.listMembers(table, 'warm')).map((m) => m.instanceId).sort();
  }, 120_000);

  it('keeps idle pool members the pool table knows', async () => {
    expect(members).toHaveLength(2);
    const report = await cloud.sweep();
    expect(report.terminated.map((t) => t.instanceId)).not.toEqual(expect.arrayContaining([members[0]]));
    expect(report.terminated.map((t) => t.instanceId)).not.toEqual(expect.arrayContaining([members[1]]));
    for (const id of members) expect(running(id)).toBe(true);
    expect((await pools.listMembers(table, 'warm')).map((m) => m.state)).toEqual(['ready', 'ready']);
  });

  it('keeps a pool instance the table does not know while it is young, and terminates it past the grace', async () => {
    // GIVEN a pool instance whose item is gone (a refill that died between launch and record)
    const [orphan] = members;
    await pools.removeMember(table, 'warm', orphan);
    // WHEN it was launched a moment ago THEN it is kept: the refill records what it launched right after
    expect((await cloud.sweep()).terminated.map((t) => t.instanceId)).not.toContain(orphan);
    expect(running(orphan)).toBe(true);
    // WHEN it was launched 11 minutes ago THEN it is a leftover
    age(orphan, 11 * MINUTE);
    const report = await cloud.sweep();
    expect(report.terminated).toContainEqual({ instanceId: orphan, reason: expect.stringContaining('the pool table does not know') });
    expect(running(orphan)).toBe(false);
  });

  it('terminates a pool instance claimed past the grace that never got its job\'s tags, and forgets it', async () => {
    const [, claimedId] = members;
    const claimed = await pools.claim(table, 'warm', 'hot', 'execution-that-died-claiming', new Date(Date.now() - 11 * MINUTE));
    expect(claimed?.instanceId).toBe(claimedId);
    const report = await cloud.sweep();
    expect(report.terminated).toContainEqual({ instanceId: claimedId, reason: expect.stringContaining('never tagged for its job') });
    expect(running(claimedId)).toBe(false);
    expect((await pools.listMembers(table, 'warm')).map((m) => m.instanceId)).not.toContain(claimedId);
  });
});

describe('fleet slots of executions that ended without "Free Fleet Slot"', () => {
  const holders = () => pools.slotHolders(table, 'capped');
  const queued = async () => (await pools.oldestQueued(table, 'capped', 10)).map((e) => e.executionName);
  const executionOf = (name: string) => [...cloud.sfn.executions.values()].find((e) => e.name === name)!;

  /** A long build holding capped's only slot, and a second job waiting in line behind it. */
  async function holderAndWaiter(): Promise<{ holder: string; waiter: string; first: Promise<JobSummary | void>; second: Promise<JobSummary> }> {
    const first = runJob(cloud, { source: null, command: 'sleep 120', properties: { Fleet: 'capped' } }).catch(() => undefined);
    const [holder] = await waitFor('the first job to hold the slot', async () => ((await holders()).length === 1 ? await holders() : null));
    const second = runJob(cloud, { source: null, command: 'echo built', properties: { Fleet: 'capped' } });
    // In line, and waiting on a task (its token stored), so that a freed slot resumes it.
    const [waiter] = await waitFor('the second job to wait in line', async () => {
      const line = await pools.oldestQueued(table, 'capped', 10);
      return line.length === 1 && line[0].taskToken !== null ? [line[0].executionName] : null;
    });
    return { holder, waiter, first, second };
  }
  const abort = (name: string) => {
    const e = executionOf(name);
    Object.assign(e, { error: 'Aborted', cause: 'stopped by a person in the Step Functions console' });
    e.abort?.();
  };

  it('the watchdog gives back the slot of an aborted execution, and the waiting job builds', async () => {
    const { holder, waiter, first, second } = await holderAndWaiter();
    // WHEN the holder's execution is aborted (no Free Fleet Slot runs), with no sweep at all
    abort(holder);
    // THEN the waiting job takes the slot and builds
    await expect(within(60_000, second)).resolves.toMatchObject({ status: 'Succeeded' });
    expect(await holders()).not.toContain(holder);
    expect(await queued()).not.toContain(waiter);
    await first;
  }, 240_000);

  it('the sweeper gives back the slot of an execution whose end event was lost, and the waiting job builds', async () => {
    const { holder, waiter, first, second } = await holderAndWaiter();
    // GIVEN the holder's end never reaches the watchdog
    cloud.injectFault(holder.slice(0, 36), { dropExecutionEvent: () => true });
    abort(holder);
    await waitFor('the holder to end', async () => executionOf(holder).status !== 'RUNNING');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await holders()).toEqual([holder]);
    expect(await queued()).toEqual([waiter]);
    // WHEN the sweeper runs
    const report = (await cloud.sweep()) as unknown as { slots: { freed: string[]; resumed: number } };
    // THEN it gives the slot back and resumes the waiting job, which builds
    expect(report.slots).toMatchObject({ freed: [`capped/${holder}`], resumed: 1 });
    await expect(within(60_000, second)).resolves.toMatchObject({ status: 'Succeeded' });
    // The lost end's job is failed by a later sweep, past the event grace.
    await new Promise((r) => setTimeout(r, cloud.eventGraceMs + 1000));
    await cloud.sweep();
    await first;
  }, 240_000);

  it('keeps a freed slot for a job taken out of the line while it waits on no task and its execution runs, and gives it back when it does not run', async () => {
    // GIVEN a long build holding capped's only slot, and in line, with no task waiting, that same running execution
    // (as a job between two waits is) and, behind it, an execution Step Functions does not know
    const first = runJob(cloud, { source: null, command: 'sleep 120', properties: { Fleet: 'capped' } }).catch(() => undefined);
    const [holder] = await waitFor('the job to hold the slot', async () => ((await holders()).length === 1 ? await holders() : null));
    const arnOf = (name: string) => executionOf(name).executionArn;
    const at = Date.now();
    const entry = (name: string, arn: string, n: number) => ({ executionName: name, executionArn: arn, jobId: `job-${name}`, taskToken: null, enqueuedAt: new Date(at + n).toISOString(), expiresAt: Math.floor(at / 1000) + 3600 });
    await pools.enqueue(table, 'capped', entry(holder, arnOf(holder), 0));
    // WHEN a slot is freed (the slot function's own "free", IAM enforced)
    const jobFleet = { name: 'capped', ...fleets.capped, queueTimeoutSeconds: 300, lineRefreshSeconds: 300, lineFirstReportSeconds: 30, pools: [] };
    const freed = await cloud.invoke(cloud.functionAt('Fleets/Slots'), { action: 'free', fleet: jobFleet, jobId: 'job-none', executionName: 'held-nothing' });
    // THEN the running execution keeps its slot (DescribeExecution said RUNNING), nobody was resumed, the line is empty
    expect(freed).toEqual({ resumed: 0 });
    expect(await holders()).toEqual([holder]);
    expect(await queued()).toEqual([]);
    // WHEN its execution ends and a job nobody runs is at the head of the line
    abort(holder);
    await waitFor('the watchdog to give the slot back', async () => (await holders()).length === 0, 30_000);
    const ghost = 'never-ran-00000000-0000-0000-0000-000000000000';
    await pools.enqueue(table, 'capped', entry(ghost, `${arnOf(holder).replace(/:[^:]*$/, '')}:${ghost}`, 1));
    await cloud.invoke(cloud.functionAt('Fleets/Slots'), { action: 'free', fleet: jobFleet, jobId: 'job-none', executionName: 'held-nothing' });
    // THEN the slot it was handed is given back
    expect(await holders()).toEqual([]);
    expect(await queued()).toEqual([]);
    await first;
  }, 120_000);

  it('the sweeper takes out line places of executions that are not running', async () => {
    // GIVEN a place in the line of a fleet no job runs on now, kept by an execution Step Functions does not know
    await pools.enqueue(table, 'warm', { executionName: 'never-ran-0123456789ab', executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Ec2BuildAction-BuildJob:never-ran-0123456789ab', jobId: 'job-gone', taskToken: 'token-of-a-task-that-is-gone', enqueuedAt: new Date().toISOString(), expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    // WHEN the sweeper runs THEN it is taken out
    const report = (await cloud.sweep()) as unknown as { slots: { dequeued: string[] } };
    expect(report.slots.dequeued).toEqual(['warm/never-ran-0123456789ab']);
    expect(await pools.oldestQueued(table, 'warm', 10)).toEqual([]);
  });
});

describe('the watchdog and a claimed pool instance', () => {
  it('terminates the pool instance of an aborted execution and forgets its item', async () => {
    // GIVEN a build running on a member claimed from warm's hot pool
    await cloud.fillPools();
    const job = runJob(cloud, { source: null, command: 'sleep 120', properties: { Fleet: 'warm' } }).catch(() => undefined);
    const claimed = await waitFor('a claim', async () => (await pools.listMembers(table, 'warm')).find((m) => m.state === 'claimed' && running(m.instanceId)));
    await waitFor('its job\'s tags', async () => cloud.ec2.instances.get(claimed.instanceId)?.tags['ec2-build-action:execution'] === claimed.claimedBy);
    // WHEN its execution is aborted
    const execution = [...cloud.sfn.executions.values()].find((e) => e.name === claimed.claimedBy)!;
    Object.assign(execution, { error: 'Aborted', cause: 'stopped by a person in the Step Functions console' });
    execution.abort?.();
    // THEN the watchdog terminates it and deletes its item
    await waitFor('the item to go', async () => !(await pools.listMembers(table, 'warm')).some((m) => m.instanceId === claimed.instanceId), 30_000);
    expect(running(claimed.instanceId)).toBe(false);
    await job;
  }, 120_000);
});

describe('the runner\'s count of instances the sweeper terminated', () => {
  it('counts what the sweeper\'s own role terminated, from the requests EC2 answered, and nothing another role terminated first', async () => {
    // GIVEN two idle pool members
    await cloud.fillPools();
    const [a, b] = (await pools.listMembers(table, 'warm')).map((m) => m.instanceId);
    const as = (logicalId: string) => new EC2Client({ credentials: credentialsFor(logicalId), maxAttempts: 1 });
    const workflowRole = cloud.stack.resources('AWS::IAM::Role').map(([id]) => id).find((id) => id.startsWith('WorkflowRole'))!;
    // WHEN the sweeper's role terminates one (no sweep ran: there is no payload to observe) and the state machine's role the other
    await as(cloud.functionAt('SafetyNets/Sweeper').roleLogicalId).send(new TerminateInstancesCommand({ InstanceIds: [a] }));
    await as(workflowRole).send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    // THEN only the first counts as swept
    expect(cloud.sweptInstances.has(a)).toBe(true);
    expect(cloud.sweptInstances.has(b)).toBe(false);
    // AND the sweeper terminating what another role already terminated (a race EC2 answers with its previous state) does not count
    await as(cloud.functionAt('SafetyNets/Sweeper').roleLogicalId).send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    expect(cloud.sweptInstances.has(b)).toBe(false);
  }, 120_000);
});

it('used every statement of the fleets\' safety nets (the watchdog\'s and the sweeper\'s fleet rights) and of the slot function\'s line: none is there for nothing', () => {
  const line = (s: string) => FLEET_LINE_STATEMENTS.test(s) && s.endsWith('/IsWaitingExecutionRunning');
  const checked = cloud.authorizer.allStatements().filter((s) => (FLEET_STATEMENTS.test(s) && FLEET_SAFETY_NET_STATEMENTS.test(s)) || line(s));
  expect(checked.filter(line)).toHaveLength(1);
  const unused = checked.filter((s) => !cloud.authorizer.usedStatements.has(s));
  expect(unused).toEqual([]);
});
