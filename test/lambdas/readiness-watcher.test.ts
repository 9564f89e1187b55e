import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { InstanceState } from '../../lambdas/shared/ec2';
import type { PoolTable } from '../../lambdas/shared/pool-store';
import { handOverLease, listWaiters, putWaiter, READINESS_PK, takeLease, takeWaiter, type Waiter } from '../../lambdas/shared/readiness-table';
import { REQUEST_TIMEOUT_MS, runWatcher, type WatchCalls } from '../../lambdas/readiness-watcher/watch';
import { leaseMs } from '../../lambdas/shared/readiness';
import { WATCH_RUN_MS, WATCH_TICK_MS } from '../../lib/readiness';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * The one readiness watcher (lambdas/readiness-watcher/watch.ts) against a real DynamoDB implementation (dynalite),
 * with its AWS calls injected and counted and a clock that moves only when it sleeps.
 */
let stop: () => Promise<void>;
let t: PoolTable;
const timing = { tickMs: 100, runMs: 60_000 };
const T0 = Date.parse('2026-12-02T10:00:00Z');

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('watcher-test'));
});
afterAll(() => stop());
beforeEach(async () => {
  for (const w of await listWaiters(t)) await takeWaiter(t, w.instanceId);
  await t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: { pk: { S: READINESS_PK }, sk: { S: 'WATCHER' } } }));
});

const id = (i: number) => `i-0${i.toString(16).padStart(16, '0')}`;
function waiter(i: number, state: Waiter['state'], over: Partial<Waiter> = {}): Waiter {
  return {
    instanceId: id(i),
    taskToken: `token-${i}`,
    executionName: `exec-${i}`,
    state,
    registeredAt: new Date(T0).toISOString(),
    giveUpAt: new Date(T0 + 1_320_000).toISOString(),
    renewBy: new Date(T0 + 2_700_000).toISOString(),
    renewalSeconds: 2700,
    waitTimeoutSeconds: 4200,
    ...over,
  };
}

/**
 * Fake AWS: which agents are online, what EC2 says, and every call made. `request` stands for one
 * DescribeInstanceInformation on its way (it may move the clock, or throw); each goes through the watcher's pace, as
 * lambdas/shared/ssm.ts onlineAgents sends them.
 */
function fakeAws(online: Set<string>, states = new Map<string, InstanceState>(), request: (ids: string[]) => void = () => undefined) {
  const log = {
    agentCalls: [] as string[][],
    ec2Calls: [] as string[][],
    ec2TimeoutsMs: [] as number[],
    resumed: [] as { token: string; output: { readyAt: string; buildWaitSeconds: number } }[],
    failed: [] as { token: string; error: string; cause: string }[],
    /** The timeout each SendTaskSuccess and SendTaskFailure was given. */
    settleTimeoutsMs: [] as number[],
  };
  const calls: WatchCalls = {
    onlineAgents: async (ids, paced) => {
      // One DescribeInstanceInformation per 50 (lambdas/shared/ssm.ts onlineAgents): counted per call here.
      for (let i = 0; i < ids.length; i += 50) {
        const chunk = ids.slice(i, i + 50);
        await paced(async () => {
          request(chunk);
          log.agentCalls.push(chunk);
        });
      }
      return new Set(ids.filter((x) => online.has(x)));
    },
    instanceStates: async (ids, timeoutMs) => {
      log.ec2Calls.push([...ids]);
      log.ec2TimeoutsMs.push(timeoutMs);
      return new Map([...states].filter(([k]) => ids.includes(k)));
    },
    resume: async (token, output, timeoutMs) => {
      log.resumed.push({ token, output: output as never });
      log.settleTimeoutsMs.push(timeoutMs);
      return true;
    },
    fail: async (token, error, cause, timeoutMs) => {
      log.failed.push({ token, error, cause });
      log.settleTimeoutsMs.push(timeoutMs);
      return true;
    },
  };
  return { calls, log };
}

/** The fake's calls, with its look at EC2 refused by `error` the first `times` times (refusals are not logged as calls). */
function refusingEc2(aws: ReturnType<typeof fakeAws>, times: number, error: () => Error): WatchCalls {
  let refusals = times;
  return {
    ...aws.calls,
    instanceStates: async (ids, timeoutMs) => {
      if (refusals-- > 0) throw error();
      return aws.calls.instanceStates(ids, timeoutMs);
    },
  };
}

/**
 * The test's table, with `before` run ahead of each command it sends to DynamoDB: to move the clock (a slow call), to
 * act meanwhile, or to throw as DynamoDB would (the command is then not sent).
 */
function tableWith(before: (command: object) => void | Promise<void>): PoolTable {
  return {
    tableName: t.tableName,
    client: {
      send: async (command: never) => {
        await before(command);
        return t.client.send(command);
      },
    } as never,
  };
}

const internalError = () => Object.assign(new Error('internal error'), { name: 'InternalServerError' });

function clock(start = T0) {
  let now = start;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps, advance: (ms: number) => (now += ms) };
}

/** Lambda's remaining time as a watcher sees it, running out after `n` rounds. */
function forRounds(n: number) {
  let rounds = 0;
  return () => (rounds++ < n ? Infinity : 0);
}

/** Registered half a second before T0, within any safety-net period: a waiter the watcher sees as new. */
const justRegistered = { registeredAt: new Date(T0 - 500).toISOString() };

async function lease(owner: string, at = T0) {
  expect(await takeLease(t, owner, new Date(at), 15_000)).toBe(true);
}

describe('the readiness watcher', () => {
  it('asks about running waiters one batch of 50 a round, in turn, resumes each online one through its token, and leaves pending ones to their events', async () => {
    for (let i = 1; i <= 120; i++) await putWaiter(t, waiter(i, 'running'));
    for (let i = 121; i <= 130; i++) await putWaiter(t, waiter(i, 'pending'));
    const online = new Set([id(3), id(77), id(119)]);
    const aws = fakeAws(online);
    const c = clock();
    await lease('w1');
    // (its turn starts at a random waiter: here the first)
    jest.spyOn(Math, 'random').mockReturnValueOnce(0);
    // Four rounds: the first reads the table, then asks about a first batch of what it read; each of the next asks
    // about the next batch (while it reads the table again, when due).
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 301 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    expect(summary).toMatchObject({ rounds: 4, resumed: 3, failed: 0, stopped: 'hand-over' });
    // 120 running waiters: one call of 50 a round (at most 1000 / tickMs calls a second whatever the number of
    // builds), every running waiter asked about within three rounds; the pending ones are never asked about.
    expect(aws.log.agentCalls.map((ids) => ids.length)).toEqual([50, 50, 50, 50]);
    expect(new Set(aws.log.agentCalls.slice(0, 3).flat()).size).toBe(120);
    expect(aws.log.agentCalls.flat()).not.toContain(id(125));
    expect(aws.log.resumed.map((r) => r.token).sort()).toEqual(['token-119', 'token-3', 'token-77']);
    // Seen online at the first round: a watcher asks about what its first read found in that same round (one that
    // hands over after a round, as a loaded machine's may, would otherwise never ask about any agent).
    const first = aws.log.resumed.find((r) => r.token === 'token-3')!;
    expect(first.output.readyAt).toBe(new Date(T0).toISOString());
    // Run Build's first wait ends at the job's horizon, 2700 s after T0: 2700 whole seconds after readyAt.
    expect(first.output.buildWaitSeconds).toBe(2700);
    expect(c.sleeps).toEqual([100, 100, 100, 100]);
    expect((await listWaiters(t)).length).toBe(127);
  });

  it('gives up on a build past its giveUpAt: AgentNotOnline when its instance runs, InstanceNotReady when it never did', async () => {
    const late = { registeredAt: new Date(T0 - 1_320_001).toISOString(), giveUpAt: new Date(T0 - 1).toISOString() };
    await putWaiter(t, waiter(1, 'running', late));
    await putWaiter(t, waiter(2, 'pending', late));
    const aws = fakeAws(new Set());
    const c = clock();
    await lease('w1');
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    expect(aws.log.failed.map((f) => [f.token, f.error])).toEqual([
      ['token-1', 'AgentNotOnline'],
      ['token-2', 'InstanceNotReady'],
    ]);
    expect(aws.log.failed[0].cause).toMatch(/did not come online within 22 minutes: check that the image runs the SSM agent/);
    expect(await listWaiters(t)).toEqual([]);
  });

  it('catches a lost state-change event in its safety net: a pending waiter whose instance runs is asked about next, a lost one fails', async () => {
    await putWaiter(t, waiter(1, 'pending'));
    await putWaiter(t, waiter(2, 'pending'));
    const states = new Map<string, InstanceState>([
      [id(1), { state: 'running', reason: '' }],
      [id(2), { state: 'terminated', reason: 'Client.UserInitiatedShutdown' }],
    ]);
    const aws = fakeAws(new Set([id(1)]), states);
    const c = clock();
    await lease('w1');
    // Ten seconds of rounds (the safety net runs every runMs / 6 = 10 s).
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 10_500 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    // One EC2 call for both, after the safety-net period, not one per round.
    expect(aws.log.ec2Calls).toEqual([[id(1), id(2)]]);
    expect(aws.log.failed).toEqual([{ token: 'token-2', error: 'InstanceLost', cause: `instance ${id(2)} is terminated (Client.UserInitiatedShutdown) before the build finished starting` }]);
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-1']);
  });

  it('asks EC2 about the pending waiters just registered, all in one call, at once: a running event that came before the waiter is not waited for', async () => {
    // GIVEN three builds registered a moment ago whose instances were launched just before (not looked at when they
    // registered), one of them already running (its state-change event came before its waiter was written), and one
    // build registered long ago (the safety net's, not looked at again before its period)
    for (const i of [1, 2, 3]) await putWaiter(t, waiter(i, 'pending', justRegistered));
    await putWaiter(t, waiter(4, 'pending', { registeredAt: new Date(T0 - 3_600_000).toISOString(), giveUpAt: new Date(T0 + 60_000).toISOString() }));
    const aws = fakeAws(new Set([id(2)]), new Map([[id(2), { state: 'running', reason: '' }]]));
    const c = clock();
    await lease('w1');
    // WHEN the watcher runs for two rounds (its run, and so its safety-net period, as the stack's)
    await runWatcher('w1', { table: t, timing, calls: aws.calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(2) });
    // THEN one EC2 call about the three new ones, at the first round; the running one is asked about at the next round
    // (not at the next read of the table, a second later) and resumed
    expect(aws.log.ec2Calls).toEqual([[id(1), id(2), id(3)]]);
    // (each of its requests given up after 5 real seconds, so that one that hangs does not hold the watcher)
    expect(aws.log.ec2TimeoutsMs).toEqual([5000]);
    expect(aws.log.agentCalls).toEqual([[id(2)]]);
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-2']);
    expect((await listWaiters(t)).map((w) => [w.instanceId, w.state])).toEqual([
      [id(1), 'pending'],
      [id(3), 'pending'],
      [id(4), 'pending'],
    ]);
  });

  it('asks again at the next read when its look at new waiters failed or EC2 did not know them yet, until EC2 answers', async () => {
    for (const i of [1, 2]) await putWaiter(t, waiter(i, 'pending', justRegistered));
    const aws = fakeAws(new Set(), new Map([[id(1), { state: 'pending', reason: '' }]]));
    const calls = refusingEc2(aws, 1, () => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    const c = clock();
    await lease('w1');
    // Three reads of the table, 400 ms apart (with the backoff after the refused call), all within the safety-net period.
    await runWatcher('w1', { table: t, timing, calls, now: c.now, sleep: c.sleep, remainingMs: () => (c.now() - T0 < 1_500 ? Infinity : 0) });
    // The refused look is not counted (fakeAws logs answered calls): then both asked; then only id(2), which EC2 did not know.
    expect(aws.log.ec2Calls.slice(0, 2)).toEqual([[id(1), id(2)], [id(2)]]);
  });

  it('goes on at its tick when EC2 refuses its look otherwise than by throttling (a disrupted zone), and asks again at the next read', async () => {
    // GIVEN a build whose instance runs (its agent not online yet) and one just registered, pending
    await putWaiter(t, waiter(1, 'running'));
    await putWaiter(t, waiter(2, 'pending', justRegistered));
    const aws = fakeAws(new Set(), new Map([[id(2), { state: 'pending', reason: '' }]]));
    const logged: string[] = [];
    // What EC2 answers a DescribeInstances while the zone of one of the instances is disrupted (no code documented)
    const calls = refusingEc2(aws, 1, () => Object.assign(new Error('The Availability Zone is disrupted'), { name: 'Unavailable' }));
    const c = clock();
    await lease('w1');
    // WHEN the watcher runs for two reads of the table (a read every 4 ticks)
    await runWatcher('w1', { table: t, timing, calls, now: c.now, sleep: c.sleep, log: (m) => void logged.push(m), remainingMs: () => (c.now() - T0 < 700 ? Infinity : 0) });
    // THEN no round backed off: the running build's agent was asked about at every tick
    expect(c.sleeps.every((ms) => ms === timing.tickMs)).toBe(true);
    expect(aws.log.agentCalls.length).toBeGreaterThanOrEqual(7);
    // AND the refusal was logged, and the new build asked about again at the next read, answered then
    expect(logged).toContain('could not ask EC2 about instances');
    expect(aws.log.ec2Calls).toEqual([[id(2)]]);
  });

  it('asks EC2 about each subnet\'s instances apart: a disrupted zone leaves only its own builds unanswered', async () => {
    // GIVEN three builds just registered: two in a healthy subnet (one of them already running: its event came before
    // its waiter was written), one in a subnet whose zone is disrupted, and a pool member (no subnet known)
    await putWaiter(t, waiter(1, 'pending', { ...justRegistered, subnetId: 'subnet-0aaaaaaaaaaaaaaaa' }));
    await putWaiter(t, waiter(2, 'pending', { ...justRegistered, subnetId: 'subnet-0aaaaaaaaaaaaaaaa' }));
    await putWaiter(t, waiter(3, 'pending', { ...justRegistered, subnetId: 'subnet-0bbbbbbbbbbbbbbbb' }));
    await putWaiter(t, waiter(4, 'pending', justRegistered));
    const aws = fakeAws(new Set([id(2)]), new Map([[id(2), { state: 'running', reason: '' }], [id(1), { state: 'pending', reason: '' }], [id(4), { state: 'pending', reason: '' }]]));
    const refused: string[][] = [];
    const calls: WatchCalls = {
      ...aws.calls,
      instanceStates: async (ids, timeoutMs) => {
        // EC2 fails a DescribeInstances that names an instance in the disrupted zone (API_DescribeInstances.html)
        if (ids.includes(id(3))) {
          refused.push([...ids]);
          throw Object.assign(new Error('The Availability Zone is disrupted'), { name: 'Unavailable' });
        }
        return aws.calls.instanceStates(ids, timeoutMs);
      },
    };
    const c = clock();
    await lease('w1');
    // WHEN the watcher runs two rounds
    await runWatcher('w1', { table: t, timing, calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(2) });
    // THEN one call per subnet, and one for the pool member: the refused one named only the disrupted zone's instance
    expect(refused).toEqual([[id(3)]]);
    expect(aws.log.ec2Calls).toEqual([[id(1), id(2)], [id(4)]]);
    // AND the healthy zone's running build was asked about and resumed
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-2']);
  });

  it('does not take a just-registered pool member that still reads "stopped" for lost (EC2 is eventually consistent); a terminated one it fails', async () => {
    for (const i of [1, 2]) await putWaiter(t, waiter(i, 'pending', justRegistered));
    const aws = fakeAws(new Set(), new Map<string, InstanceState>([
      [id(1), { state: 'stopped', reason: '' }],
      [id(2), { state: 'terminated', reason: 'Client.UserInitiatedShutdown' }],
    ]));
    const c = clock();
    await lease('w1');
    await runWatcher('w1', { table: t, timing, calls: aws.calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(2) });
    expect(aws.log.ec2Calls).toEqual([[id(1), id(2)]]);
    expect(aws.log.failed.map((f) => [f.token, f.error])).toEqual([['token-2', 'InstanceLost']]);
    expect((await listWaiters(t)).map((w) => w.instanceId)).toEqual([id(1)]);
  });

  it('leaves a waiter in the table when its resume fails (throttled), and resumes it at a later round', async () => {
    await putWaiter(t, waiter(1, 'running'));
    const aws = fakeAws(new Set([id(1)]));
    let refusals = 1;
    const resume = (token: string, output: unknown) => aws.calls.resume(token, output, 5000);
    const calls: WatchCalls = {
      ...aws.calls,
      resume: async (token, output) => {
        if (refusals-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return resume(token, output);
      },
    };
    const c = clock();
    await lease('w1');
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1_000 }, calls, now: c.now, sleep: c.sleep });
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-1']);
    expect(summary.resumed).toBe(1);
    // The refused settlement held up nothing: the next round, a tick later, settled it.
    expect(c.sleeps.slice(0, 2)).toEqual([100, 100]);
  });

  it('backs off a throttled Systems Manager by doubling ticks, up to 8 ticks, then looks every tick again', async () => {
    // GIVEN Systems Manager throttles the first 6 looks
    await putWaiter(t, waiter(1, 'running'));
    let refusals = 6;
    const aws = fakeAws(new Set([id(1)]), new Map(), () => {
      if (refusals-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    const calls = aws.calls;
    const c = clock();
    await lease('w1');
    // WHEN the watcher runs
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 5_000 }, calls, now: c.now, sleep: c.sleep });
    // THEN from the first round's look (after the table's first read) its pauses double from 2 ticks and stop at 8 (in
    // ticks, so that a scaled clock scales them), then a round every tick once it is answered, and the build is resumed
    expect(c.sleeps.slice(0, 7)).toEqual([200, 400, 800, 800, 800, 800, 100]);
    expect(summary.resumed).toBe(1);
  });

  it('asks a throttled batch again after backing off, before the batches after it: a failed round keeps its turn', async () => {
    // GIVEN 120 running builds (three batches of 50 at most), and Systems Manager throttling the second ask
    for (let i = 1; i <= 120; i++) await putWaiter(t, waiter(i, 'running'));
    const attempts: string[][] = [];
    const aws = fakeAws(new Set(), new Map(), (ids) => {
      attempts.push(ids);
      if (attempts.length === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });
    const c = clock();
    await lease('w1');
    jest.spyOn(Math, 'random').mockReturnValueOnce(0);
    // WHEN the watcher runs four rounds' worth
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 601 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    // THEN the ask after the back-off names the throttled batch, and the batch after it comes next
    expect(attempts.slice(0, 4).map((ids) => [ids[0], ids.length])).toEqual([
      [id(1), 50],
      [id(51), 50],
      [id(51), 50],
      [id(101), 50],
    ]);
    expect(attempts[2]).toEqual(attempts[1]);
  });

  it('moves the turn on when a round fails after it used its answer (EC2 throttled): that batch is not asked again first', async () => {
    // GIVEN 120 running builds read for the first time (EC2 is asked about them once), and EC2 throttling that look,
    // which comes after the round resumed what its ask found
    for (let i = 1; i <= 120; i++) await putWaiter(t, waiter(i, 'running'));
    const aws = fakeAws(new Set([id(7)]));
    const calls = refusingEc2(aws, 1, () => Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    const c = clock();
    await lease('w1');
    jest.spyOn(Math, 'random').mockReturnValueOnce(0);
    // WHEN the watcher runs past its back-off
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 601 }, calls, now: c.now, sleep: c.sleep });
    // THEN one round failed (the back-off of 2 ticks), the first round's online build was resumed, and no batch was
    // asked about twice in a row: the failed round's batch gave its turn to the next
    const failedRound = c.sleeps.indexOf(2 * timing.tickMs);
    expect(failedRound).toBeGreaterThanOrEqual(0);
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-7']);
    const firsts = aws.log.agentCalls.map((ids) => ids[0]);
    expect(firsts.length).toBeGreaterThan(failedRound + 1);
    expect(firsts[failedRound + 1]).not.toBe(firsts[failedRound]);
    expect(firsts.slice(0, 3)).toEqual([id(1), id(51), id(101)]);
  });

  it('keeps settling the other builds when one settlement or one batch is refused for good', async () => {
    await putWaiter(t, waiter(1, 'running'));
    await putWaiter(t, waiter(2, 'running'));
    const aws = fakeAws(new Set([id(1), id(2)]));
    const logged: string[] = [];
    const calls: WatchCalls = {
      ...aws.calls,
      // token-1 is refused for good (a task Step Functions no longer knows, say), token-2 is fine
      resume: async (token, output) => {
        if (token === 'token-1') throw Object.assign(new Error('Invalid token'), { name: 'InvalidToken' });
        return aws.calls.resume(token, output, 5000);
      },
    };
    const c = clock();
    await lease('w1');
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 301 }, calls, now: c.now, sleep: c.sleep, log: (m) => void logged.push(m) });
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-2']);
    expect(logged).toContain('could not settle a waiting build');
    // A batch Systems Manager refuses (not throttling) counts as none online, and the watcher goes on.
    const refusing: WatchCalls = { ...aws.calls, onlineAgents: async () => Promise.reject(Object.assign(new Error('bad id'), { name: 'InvalidInstanceId' })) };
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 301 }, calls: refusing, now: c.now, sleep: c.sleep, log: (m) => void logged.push(m) });
    expect(summary.rounds).toBe(4);
    expect(logged).toContain('could not ask about agents');
  });

  it('lets one copy of a handed-over event take the lease: a duplicate delivery stops at once', async () => {
    await lease('handed');
    expect(await handOverLease(t, 'handed', 'first-copy', new Date(T0), 15_000)).toBe(true);
    expect(await handOverLease(t, 'handed', 'second-copy', new Date(T0), 15_000)).toBe(false);
    expect((await runWatcher('second-copy', { table: t, timing, calls: fakeAws(new Set()).calls, now: clock().now, sleep: clock().sleep })).stopped).toBe('lease-lost');
  });

  it("takes a handed-over lease again when the same invocation's write is retried after DynamoDB applied it", async () => {
    // GIVEN a hand-over whose first write was applied, but whose answer the SDK did not get (timed out, or reset)
    await lease('handed');
    expect(await handOverLease(t, 'handed', 'invocation', new Date(T0), 15_000)).toBe(true);
    // WHEN the SDK sends the same write again
    // THEN it is the invocation's lease still (refused as a duplicate, no watcher would run until the lease lapsed),
    // and another copy of the event still finds it taken
    expect(await handOverLease(t, 'handed', 'invocation', new Date(T0), 15_000)).toBe(true);
    expect(await handOverLease(t, 'handed', 'another-copy', new Date(T0), 15_000)).toBe(false);
  });

  it('stops when nothing has waited for a while, giving the lease back', async () => {
    const aws = fakeAws(new Set());
    const c = clock();
    await lease('w1');
    const summary = await runWatcher('w1', { table: t, timing, calls: aws.calls, now: c.now, sleep: c.sleep });
    expect(summary.stopped).toBe('idle');
    // About the safety-net period (10 s) of idle rounds, not the whole minute.
    expect(c.now() - T0).toBeGreaterThanOrEqual(10_000);
    expect(c.now() - T0).toBeLessThan(11_000);
    expect(await takeLease(t, 'next', new Date(c.now()), 15_000)).toBe(true);
  });

  it('stops when another watcher holds the lease', async () => {
    await lease('other');
    const aws = fakeAws(new Set());
    const c = clock();
    expect((await runWatcher('w1', { table: t, timing, calls: aws.calls, now: c.now, sleep: c.sleep })).stopped).toBe('lease-lost');
  });

  it('hands over with builds still waiting when its run is over', async () => {
    await putWaiter(t, waiter(1, 'pending'));
    const aws = fakeAws(new Set());
    const c = clock();
    await lease('w1');
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 12_000 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    expect(summary.stopped).toBe('hand-over');
    expect(c.now() - T0).toBeGreaterThanOrEqual(12_000);
    // Within its run (120 rounds), EC2, which never knew the instance, was asked about it at each read of the table
    // (every 4 rounds) while it was new (its first safety-net period, 2 s: 5 reads), then once per safety-net period
    // (4 more): flat, never per round.
    expect(summary.rounds).toBeGreaterThan(100);
    expect(aws.log.ec2Calls.length).toBeLessThanOrEqual(10);
    expect(aws.log.ec2Calls.length).toBeGreaterThanOrEqual(9);
  });

  it('asks about the running waiters it reads in its first round: a watcher that hands over after each round still resumes them', async () => {
    // GIVEN a running build whose agent is online, and watchers whose run is shorter than one round (each hands over
    // after its first, as under a scaled clock on a loaded machine)
    await putWaiter(t, waiter(1, 'running'));
    const aws = fakeAws(new Set([id(1)]));
    const c = clock();
    await lease('w1');
    // WHEN one such watcher runs
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    // THEN its one round read the table, asked about the agent and resumed the build
    expect(summary).toMatchObject({ rounds: 1, resumed: 1, stopped: 'hand-over' });
    expect(aws.log.agentCalls).toEqual([[id(1)]]);
    expect(await listWaiters(t)).toEqual([]);
  });

  it('gets to every waiter of more than 50 even when each watcher hands over after one round: a watcher starts its turn at a random one', async () => {
    // GIVEN 120 running builds, only the last (by id) online, and watchers whose run is one round each
    for (let i = 1; i <= 120; i++) await putWaiter(t, waiter(i, 'running'));
    const aws = fakeAws(new Set([id(120)]));
    await lease('w1');
    // WHEN up to 40 such watchers run one after another (without the random start each asks about the first 50 ids)
    for (let n = 0; n < 40 && aws.log.resumed.length === 0; n++) {
      const c = clock();
      await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1 }, calls: aws.calls, now: c.now, sleep: c.sleep });
    }
    // THEN the online build was resumed (the chance that 40 random starts all miss it: (70/120)^40, about 4e-10)
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-120']);
    expect(aws.log.agentCalls.every((ids) => ids.length === 50)).toBe(true);
  });

  it('never asks Systems Manager twice within a tick, even when a round\'s ask comes after its read of the table, nor within a tick of the watcher it took over from', async () => {
    // GIVEN a running build whose agent stays offline, and a table whose every request takes 40 ms (so a round that
    // reads before it asks, its first, asks 40 ms into its tick)
    await putWaiter(t, waiter(1, 'running'));
    const c = clock();
    const asked: number[] = [];
    const aws = fakeAws(new Set(), new Map(), () => void asked.push(c.now()));
    const calls = aws.calls;
    const slow = tableWith(() => void c.advance(40));
    await lease('w1');
    // WHEN it runs a few rounds, then hands over
    const summary = await runWatcher('w1', { table: slow, timing: { ...timing, runMs: 500 }, calls, now: c.now, sleep: c.sleep });
    // THEN its asks are a tick apart at least (without the pace, the second came 60 ms after the first)
    expect(asked.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < asked.length; i++) expect(asked[i] - asked[i - 1]).toBeGreaterThanOrEqual(timing.tickMs);
    // AND it tells the next watcher when Systems Manager last answered it, which keeps the pace from its first ask
    expect(summary).toMatchObject({ stopped: 'hand-over', agentsAskedAt: asked[asked.length - 1] });
    const next: number[] = [];
    const nextCalls = fakeAws(new Set(), new Map(), () => void next.push(c.now())).calls;
    expect(await handOverLease(t, 'w1', 'w2', new Date(c.now()), 15_000)).toBe(true);
    const before = c.now() - 10;
    await runWatcher('w2', { table: t, timing: { ...timing, runMs: 1 }, calls: nextCalls, now: c.now, sleep: c.sleep, agentsAskedAt: before });
    expect(next).toHaveLength(1);
    expect(next[0] - before).toBeGreaterThanOrEqual(timing.tickMs);
    // AND a predecessor's time from a clock a minute ahead holds its first ask back a tick at most
    const third: number[] = [];
    const thirdCalls = fakeAws(new Set(), new Map(), () => void third.push(c.now())).calls;
    expect(await handOverLease(t, 'w2', 'w3', new Date(c.now()), 15_000)).toBe(true);
    const started = c.now();
    await runWatcher('w3', { table: t, timing: { ...timing, runMs: 1 }, calls: thirdCalls, now: c.now, sleep: c.sleep, agentsAskedAt: started + 60_000 });
    expect(third).toHaveLength(1);
    expect(third[0] - started).toBeLessThanOrEqual(timing.tickMs);
  });

  it('keeps a tick between one ask\'s answer and the next ask, so that asks slowed on their way still reach Systems Manager a tick apart', async () => {
    // GIVEN a running build whose agent stays offline, and asks that take 80 ms, then 0, by turns (a request reaches
    // Systems Manager at some moment between its ask and its answer: at the answer, for a slow one, at worst)
    await putWaiter(t, waiter(1, 'running'));
    const c = clock();
    const sent: number[] = [];
    const answered: number[] = [];
    const calls = fakeAws(new Set(), new Map(), () => {
      sent.push(c.now());
      if (sent.length % 2 === 1) c.advance(80);
      answered.push(c.now());
    }).calls;
    await lease('w1');
    // WHEN it runs a few rounds
    const summary = await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1000 }, calls, now: c.now, sleep: c.sleep });
    // THEN each ask comes a tick after the last answer at least (paced from the ask, the ask after a slow one came
    // 20 ms after its answer: two arrivals 20 ms apart)
    expect(sent.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < sent.length; i++) expect(sent[i] - answered[i - 1]).toBeGreaterThanOrEqual(timing.tickMs);
    // AND the pace holds an ask back no longer than that: exactly a tick after the last answer
    for (let i = 1; i < sent.length; i++) expect(sent[i] - answered[i - 1]).toBeLessThanOrEqual(timing.tickMs);
    // AND the watcher after it keeps the pace from the last answer
    expect(summary).toMatchObject({ stopped: 'hand-over', agentsAskedAt: answered[answered.length - 1] });
  });

  it('waits for an ask still on its way when the table\'s read beside it fails, so that the next round\'s ask does not overtake it', async () => {
    // GIVEN a running build whose agent stays offline, asks that take 300 ms (and a few real ms: they are on their way
    // while the round's other work goes on), and a table whose second read fails (the one made beside an ask)
    await putWaiter(t, waiter(1, 'running'));
    const c = clock();
    const events: { what: 'sent' | 'answered'; at: number }[] = [];
    const calls: WatchCalls = {
      ...fakeAws(new Set()).calls,
      onlineAgents: async (_ids, paced) => {
        await paced(async () => {
          events.push({ what: 'sent', at: c.now() });
          await new Promise((r) => setTimeout(r, 5));
          c.advance(300);
          events.push({ what: 'answered', at: c.now() });
        });
        return new Set<string>();
      },
    };
    let reads = 0;
    const failing = tableWith((command) => {
      if (command instanceof QueryCommand && ++reads === 2) throw internalError();
    });
    await lease('w1');
    // WHEN it runs a few rounds
    const logged: string[] = [];
    await runWatcher('w1', { table: failing, timing: { ...timing, runMs: 2000 }, calls, now: c.now, sleep: c.sleep, log: (m) => void logged.push(m) });
    // THEN the read did fail, beside an ask
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(logged).toContain('watch round failed');
    // AND every ask was answered before the next was sent, a tick later at least (without waiting for it, the round
    // after the failure sent its ask while the last was on its way)
    expect(events.length).toBeGreaterThanOrEqual(6);
    events.forEach((e, i) => expect(e.what).toBe(i % 2 === 0 ? 'sent' : 'answered'));
    for (let i = 2; i < events.length; i += 2) expect(events[i].at - events[i - 1].at).toBeGreaterThanOrEqual(timing.tickMs);
  });

  it('keeps every request a tick after the last answer, a page of one ask\'s answer too', async () => {
    // GIVEN a running build whose agent stays offline, and a Systems Manager that answers each ask in two pages (a
    // NextToken, then the rest), each request taking 30 ms
    await putWaiter(t, waiter(1, 'running'));
    const c = clock();
    const sent: number[] = [];
    const answered: number[] = [];
    const calls: WatchCalls = {
      ...fakeAws(new Set()).calls,
      onlineAgents: async (_ids, paced) => {
        for (let page = 0; page < 2; page++) {
          await paced(async () => {
            sent.push(c.now());
            c.advance(30);
            answered.push(c.now());
          });
        }
        return new Set<string>();
      },
    };
    await lease('w1');
    // WHEN it runs a few rounds
    await runWatcher('w1', { table: t, timing: { ...timing, runMs: 1000 }, calls, now: c.now, sleep: c.sleep });
    // THEN each request, the second of an ask's too, comes a tick after the last one's answer
    expect(sent.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < sent.length; i++) expect(sent[i] - answered[i - 1]).toBeGreaterThanOrEqual(timing.tickMs);
  });

  it('gives each settlement its request timeout, and resumes a build whose settlement was given up at a later round', async () => {
    // GIVEN two online builds and one past its giveUpAt, requests given 50 ms, and a first SendTaskSuccess that hangs
    // until its timeout gives it up (the SDK's AbortError)
    await putWaiter(t, waiter(1, 'running'));
    await putWaiter(t, waiter(2, 'running'));
    await putWaiter(t, waiter(3, 'running', { giveUpAt: new Date(T0 - 1).toISOString() }));
    const aws = fakeAws(new Set([id(1), id(2)]));
    let hung = 0;
    const calls: WatchCalls = {
      ...aws.calls,
      resume: async (token, output, timeoutMs) => {
        if (token === 'token-1' && hung++ === 0) {
          await new Promise((r) => setTimeout(r, timeoutMs));
          throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
        }
        return aws.calls.resume(token, output, timeoutMs);
      },
    };
    const c = clock();
    await lease('w1');
    const logged: string[] = [];
    // WHEN the watcher runs until its next read of the table (every 4 ticks) and the ask after it
    const summary = await runWatcher('w1', { table: t, timing, calls, requestTimeoutMs: 50, now: c.now, sleep: c.sleep, remainingMs: forRounds(6), log: (m) => void logged.push(m) });
    // THEN every settlement was given the timeout; the one given up was logged, and its build resumed at a later round
    expect(aws.log.settleTimeoutsMs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(aws.log.settleTimeoutsMs)).toEqual(new Set([50]));
    expect(logged).toContain('could not settle a waiting build');
    expect(aws.log.resumed.map((r) => r.token).sort()).toEqual(['token-1', 'token-2']);
    expect(aws.log.failed.map((f) => f.token)).toEqual(['token-3']);
    expect(summary).toMatchObject({ resumed: 2, failed: 1 });
  });

  it('gives each request to Systems Manager 5 real seconds, whatever the scale of its clock', async () => {
    // GIVEN a watcher on the local cloud's fastest clock (20 ms a simulated second: a 40 ms tick, a 1.2 s run and a
    // 400 ms lease), and a Systems Manager that takes 300 real ms to answer (a loaded machine's)
    await putWaiter(t, waiter(1, 'running'));
    const aborted: boolean[] = [];
    const calls: WatchCalls = {
      ...fakeAws(new Set()).calls,
      onlineAgents: async (_ids, paced) => {
        await paced(async (signal) => {
          await new Promise((r) => setTimeout(r, 300));
          aborted.push(signal.aborted);
        });
        return new Set<string>();
      },
    };
    await lease('w1');
    // WHEN it asks
    await runWatcher('w1', { table: t, timing: { tickMs: 40, runMs: 1200 }, calls, remainingMs: forRounds(1) });
    // THEN the answer came before the request's timeout (a third of the lease, 134 ms, gave up every such answer)
    expect(aborted).toEqual([false]);
  });

  it('gives up a request to Systems Manager at its timeout, and gives EC2 the same', async () => {
    // GIVEN a running build whose agent is online and a pending one, a watcher whose requests are given 50 ms, and a
    // Systems Manager that never answers (the fake waits for the request's signal, as the SDK does)
    await putWaiter(t, waiter(1, 'running'));
    await putWaiter(t, waiter(2, 'pending', justRegistered));
    const aws = fakeAws(new Set([id(1)]));
    const aborted: boolean[] = [];
    const calls: WatchCalls = {
      ...aws.calls,
      onlineAgents: async (_ids, paced) =>
        paced(async (signal) => {
          await new Promise<void>((r) => {
            signal.addEventListener('abort', () => r());
            setTimeout(r, 2000);
          });
          aborted.push(signal.aborted);
          throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
        }),
    };
    await lease('w1');
    const logged: string[] = [];
    // WHEN it runs a round
    const c = clock();
    await runWatcher('w1', { table: t, timing, calls, requestTimeoutMs: 50, now: c.now, sleep: c.sleep, remainingMs: forRounds(1), log: (m) => void logged.push(m) });
    // THEN the ask was given up at its timeout (a signal that never aborts waited the fake's 2 s), logged, and the build
    // left waiting for a later round; EC2's look at the pending build was given the same timeout
    expect(aborted).toEqual([true]);
    expect(logged).toContain('could not ask about agents');
    expect(aws.log.resumed).toHaveLength(0);
    expect(aws.log.ec2TimeoutsMs).toEqual([50]);
  });

  it('backs off a throttled renewal of its lease as it does a round, and goes on', async () => {
    // GIVEN a running build whose agent is online, and a table that throttles the watcher's first two lease writes
    await putWaiter(t, waiter(1, 'running'));
    const aws = fakeAws(new Set([id(1)]));
    let throttled = 0;
    const table = tableWith((command) => {
      if (command instanceof PutItemCommand && throttled < 2) {
        throttled++;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
    });
    await lease('w1');
    const c = clock();
    // WHEN it runs a few rounds
    const summary = await runWatcher('w1', { table, timing, calls: aws.calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(4) });
    // THEN it backed off twice (2 ticks, then 4), took its lease, and resumed the build (the throttling used to end
    // the watcher: the build waited for the schedule's watcher)
    expect(throttled).toBe(2);
    expect(c.sleeps.slice(0, 2)).toEqual([2 * timing.tickMs, 4 * timing.tickMs]);
    expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-1']);
    expect(summary.stopped).toBe('hand-over');
  });

  describe('asks only under a lease it holds', () => {
    /** A table whose first read (a Query) is held up `ms` on the watcher's clock, while `meanwhile` runs. */
    function slowFirstRead(c: ReturnType<typeof clock>, ms: number, meanwhile: () => Promise<void>): PoolTable {
      let reads = 0;
      return tableWith(async (command) => {
        if (command instanceof QueryCommand && ++reads === 1) {
          c.advance(ms);
          await meanwhile();
        }
      });
    }
    /**
     * Calls whose DescribeInstanceInformation answers in two pages, the first held up `firstMs`, while `meanwhile` runs;
     * `sending` runs as each request goes out.
     */
    function twoPages(c: ReturnType<typeof clock>, firstMs: number, meanwhile: () => Promise<void>, sent: number[], sending: () => Promise<void> = async () => undefined): WatchCalls {
      return {
        ...fakeAws(new Set()).calls,
        onlineAgents: async (_ids, paced) => {
          for (let page = 0; page < 2; page++) {
            await paced(async () => {
              sent.push(c.now());
              await sending();
              if (sent.length === 1) {
                c.advance(firstMs);
                await meanwhile();
              }
            });
          }
          return new Set<string>();
        },
      };
    }
    const leaseUntil = async () => Number((await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: READINESS_PK }, sk: { S: 'WATCHER' } } }))).Item?.until?.N);

    it("has, with the stack's timing, room for a request's whole timeout and a tick between the rounds' renewal and the lease's end", () => {
      // A request sent just before the renewal is due is given up before the lease lapses, a tick before another watcher
      // can take it; the rounds renew it every third of a lease, so normal rounds renew it no more often than before.
      const stack = { tickMs: WATCH_TICK_MS, runMs: WATCH_RUN_MS };
      expect(leaseMs(stack) / 3).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
      expect(REQUEST_TIMEOUT_MS + WATCH_TICK_MS).toBeLessThan((2 * leaseMs(stack)) / 3);
    });

    it('does not ask under a lease it gave back when idle: a failed look after giving it back leaves it to the watcher that took it', async () => {
      // GIVEN a watcher with nothing to wait for, and a table whose read after the watcher gives its lease back fails,
      // while a build registers (running already) and its registration starts another watcher, which takes the lease
      const c = clock();
      const aws = fakeAws(new Set());
      await lease('w1');
      let released = false;
      let tookOver = false;
      const table = tableWith(async (command) => {
        if (command instanceof DeleteItemCommand) released = true;
        else if (command instanceof QueryCommand && released) {
          released = false;
          await putWaiter(t, waiter(1, 'running'));
          tookOver = await takeLease(t, 'other', new Date(c.now()), 15_000);
          throw internalError();
        }
      });
      // WHEN the watcher runs
      const summary = await runWatcher('w1', { table, timing, calls: aws.calls, now: c.now, sleep: c.sleep });
      // THEN it stops without asking about the new build (the other watcher does: with the lease it gave back taken for
      // its own, it asked beside the other watcher until its next renewal)
      expect(tookOver).toBe(true);
      expect(summary.stopped).toBe('lease-lost');
      expect(aws.log.agentCalls).toHaveLength(0);
    });

    it("fails the round, not the ask, when its lease cannot be renewed ahead of a page: the table's error is logged as the table's", async () => {
      // GIVEN a running build, an ask whose first page takes 11 s (the lease must be renewed before the second), and a
      // table that fails that renewal
      await putWaiter(t, waiter(1, 'running'));
      const c = clock();
      const sent: number[] = [];
      let failing = 0;
      const table = tableWith((command) => {
        if (command instanceof PutItemCommand && failing-- > 0) throw internalError();
      });
      await lease('w1');
      const calls = twoPages(c, 11_000, async () => void (failing = 1), sent);
      const logged: { message: string; error: unknown }[] = [];
      // WHEN the watcher runs a round
      await runWatcher('w1', { table, timing, calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(1), log: (message, d) => void logged.push({ message, error: d.error }) });
      // THEN the second page was not sent, and the round failed with the table's error, backing off (logged as Systems
      // Manager's refusal, it was "could not ask about agents", and the round went on at its tick)
      expect(sent).toHaveLength(1);
      expect(logged).toEqual([{ message: 'watch round failed', error: 'InternalServerError' }]);
      expect(c.sleeps[c.sleeps.length - 1]).toBe(2 * timing.tickMs);
    });

    it("still asks on the local cloud's fastest clock when every lease write takes longer than the lease's slack", async () => {
      // GIVEN a watcher at 20 ms a simulated second (a 40 ms tick, a 400 ms lease: renewed ahead of an ask within
      // 173 ms of its end), a running build whose agent is online, and lease writes that take 250 ms (a loaded machine's)
      await putWaiter(t, waiter(1, 'running'));
      const c = clock();
      const aws = fakeAws(new Set([id(1)]));
      const table = tableWith((command) => {
        if (command instanceof PutItemCommand) c.advance(250);
      });
      await lease('w1');
      // WHEN it runs a few rounds
      await runWatcher('w1', { table, timing: { tickMs: 40, runMs: 1200 }, calls: aws.calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(3) });
      // THEN it asked, and resumed the build (renewing until the slack was back, it renewed for ever and never asked)
      expect(aws.log.agentCalls.length).toBeGreaterThanOrEqual(1);
      expect(aws.log.resumed.map((r) => r.token)).toEqual(['token-1']);
    }, 10_000);

    it('stops without asking when its read of the table outlasted the lease and another watcher took it meanwhile', async () => {
      // GIVEN a running build, and a first read of the table that takes 16 s (the lease is 15), while the schedule's
      // watcher takes the lapsed lease
      await putWaiter(t, waiter(1, 'running'));
      const c = clock();
      const aws = fakeAws(new Set());
      await lease('w1');
      let tookOver = false;
      const table = slowFirstRead(c, 16_000, async () => void (tookOver = await takeLease(t, 'other', new Date(c.now()), 15_000)));
      // WHEN the watcher runs
      const summary = await runWatcher('w1', { table, timing, calls: aws.calls, now: c.now, sleep: c.sleep });
      // THEN it stops, having asked Systems Manager nothing (its ask after the read would have reached it beside the
      // other watcher's)
      expect(tookOver).toBe(true);
      expect(summary.stopped).toBe('lease-lost');
      expect(aws.log.agentCalls).toHaveLength(0);
    });

    it("sends no further page once a request outlasted the lease and another watcher took it meanwhile", async () => {
      // GIVEN a running build, and an ask whose first page takes 16 s, while the schedule's watcher takes the lapsed lease
      await putWaiter(t, waiter(1, 'running'));
      const c = clock();
      const sent: number[] = [];
      await lease('w1');
      let tookOver = false;
      const calls = twoPages(c, 16_000, async () => void (tookOver = await takeLease(t, 'other', new Date(c.now()), 15_000)), sent);
      // WHEN the watcher runs
      const summary = await runWatcher('w1', { table: t, timing, calls, now: c.now, sleep: c.sleep });
      // THEN the second page is not sent, and the watcher stops
      expect(tookOver).toBe(true);
      expect(sent).toHaveLength(1);
      expect(summary.stopped).toBe('lease-lost');
    });

    it('renews the lease before a request that could outlast it, and goes on when no other watcher took it', async () => {
      // GIVEN a running build, and an ask whose first page takes 11 s: the lease (15 s) would lapse within the next
      // request's 5 s timeout and a tick
      await putWaiter(t, waiter(1, 'running'));
      const c = clock();
      const sent: number[] = [];
      const heldUntil: number[] = [];
      await lease('w1');
      const calls = twoPages(c, 11_000, async () => undefined, sent, async () => void heldUntil.push(await leaseUntil()));
      // WHEN the watcher runs a round or two
      const summary = await runWatcher('w1', { table: t, timing, calls, now: c.now, sleep: c.sleep, remainingMs: forRounds(2) });
      // THEN the second page went out under a lease renewed before it, held for a whole lease from then (the lease the
      // first round took, until T0 + 15 s, would have lapsed within the request's 5 s timeout)
      expect(sent.length).toBeGreaterThanOrEqual(2);
      expect(sent[1]).toBeGreaterThanOrEqual(T0 + 11_000);
      expect(heldUntil[1]).toBe(sent[1] + 15_000);
      // AND the watcher carried on until its time was up
      expect(summary.stopped).toBe('hand-over');
    });
  });
});
