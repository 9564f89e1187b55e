import { errorCode, THROTTLING_CODES } from '../shared/errors';
import type { PoolTable } from '../shared/pool-store';
import { leaseMs, readyOutput, type WatchTiming } from '../shared/readiness';
import { listWaiters, markRunning, releaseLease, takeLease, takeWaiter, type Waiter } from '../shared/readiness-table';
import { AGENTS_PER_CALL } from '../shared/ssm';
import type { InstanceState } from '../shared/ec2';

/** The AWS calls a watcher makes besides its table: injected, so tests can count and fail them. */
export interface WatchCalls {
  /** The instances among these whose agent is Online (DescribeInstanceInformation, 50 a call). */
  onlineAgents(instanceIds: readonly string[]): Promise<Set<string>>;
  /** EC2's state of each of these instances it knows (DescribeInstances, filtered and paginated). */
  instanceStates(instanceIds: readonly string[]): Promise<Map<string, InstanceState>>;
  /** SendTaskSuccess / SendTaskFailure: false when the task is already over. */
  resume(taskToken: string, output: unknown): Promise<boolean>;
  fail(taskToken: string, error: string, cause: string): Promise<boolean>;
}

export interface WatchContext {
  readonly table: PoolTable;
  readonly timing: WatchTiming;
  readonly calls: WatchCalls;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** What is left of the invocation (Lambda's context.getRemainingTimeInMillis). */
  readonly remainingMs?: () => number;
  readonly log?: (message: string, details: Record<string, unknown>) => void;
}

/** What one watcher invocation did, and whether a successor must carry on. */
export interface WatchSummary {
  readonly rounds: number;
  readonly resumed: number;
  readonly failed: number;
  /** idle: nothing waits; lease-lost: another watcher holds the lease; hand-over: time is up and builds still wait. */
  readonly stopped: 'idle' | 'lease-lost' | 'hand-over';
}

/** EC2 states in which the instance can still become ready. */
const LIVE_STATES = new Set(['pending', 'running']);
/** The longest pause after throttling (as the per-build check had). */
const MAX_BACKOFF_MS = 2000;
/** Stop this long before the invocation's own timeout, to hand over in time. */
const TIMEOUT_MARGIN_MS = 5000;

/**
 * What a watcher remembers between its rounds: when EC2 was last asked about each waiter, the last safety net, and the
 * waiters that ran at the last round (asked about while the table is read again: the two calls overlap).
 */
interface Memory {
  readonly ec2LookedAt: Map<string, number>;
  lastSafetyNetAt: number;
  running: readonly string[];
}

/** The safety net's period: a lost state-change event is noticed within it. Also how long a watcher idles before it stops. */
export const safetyNetMs = (t: WatchTiming) => t.runMs / 6;

/**
 * Runs the one watcher for up to `timing.runMs`: every tick, every waiting build is read from the table (one Query);
 * the running ones' agents are asked about together (one DescribeInstanceInformation per 50) and each online one is
 * resumed through its task token; a build past its giveUpAt is failed. Every safety-net period, EC2 is asked once
 * (one DescribeInstances per 100) about waiters whose state no event has confirmed lately, for a lost event. The pause
 * grows with the number of 50-instance batches, so Systems Manager sees at most 1000 / tickMs calls a second (5 with
 * the stack's 200 ms) whatever the number of builds. Throttled calls back off (doubling, up to 2 s). The lease is
 * renewed as it goes.
 */
export async function runWatcher(owner: string, ctx: WatchContext): Promise<WatchSummary> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const remaining = ctx.remainingMs ?? (() => Infinity);
  const lease = leaseMs(ctx.timing);
  const stopAt = now() + ctx.timing.runMs;
  const memory: Memory = { ec2LookedAt: new Map(), lastSafetyNetAt: now(), running: [] };
  let renewedAt = -Infinity;
  let idleSince: number | null = null;
  let backoffMs = 0;
  const totals = { rounds: 0, resumed: 0, failed: 0 };
  while (now() < stopAt && remaining() > TIMEOUT_MARGIN_MS) {
    if (now() - renewedAt >= lease / 3) {
      if (!(await takeLease(ctx.table, owner, new Date(now()), lease))) return { ...totals, stopped: 'lease-lost' };
      renewedAt = now();
    }
    let pauseMs: number;
    const roundStart = now();
    try {
      const round = await watchRound(ctx, memory, now);
      totals.rounds++;
      totals.resumed += round.resumed;
      totals.failed += round.failed;
      backoffMs = 0;
      // A round every tick (per batch), however long the round itself took: the calls keep their rate and an agent
      // that came online is seen half a tick later on average.
      pauseMs = Math.max(0, ctx.timing.tickMs * Math.max(1, Math.ceil(round.running / AGENTS_PER_CALL)) - (now() - roundStart));
      if (round.waiting > 0) idleSince = null;
      else if ((idleSince ??= now()) + safetyNetMs(ctx.timing) <= now()) {
        await releaseLease(ctx.table, owner);
        // Looked at once more after the lease is back: a registration that saw it held just before did not start a
        // watcher, and its waiter is in the table by now.
        if ((await listWaiters(ctx.table)).length === 0) return { ...totals, stopped: 'idle' };
        if (!(await takeLease(ctx.table, owner, new Date(now()), lease))) return { ...totals, stopped: 'lease-lost' };
        renewedAt = now();
        idleSince = null;
      }
    } catch (err) {
      backoffMs = Math.min(Math.max(backoffMs * 2, ctx.timing.tickMs * 2), MAX_BACKOFF_MS);
      pauseMs = backoffMs;
      if (!THROTTLING_CODES.has(errorCode(err))) ctx.log?.('watch round failed', { error: errorCode(err), message: (err as Error).message });
    }
    await sleep(pauseMs);
  }
  return { ...totals, stopped: 'hand-over' };
}

/** One round over every waiting build; returns how many still wait, how many of them run, and what it settled. */
export async function watchRound(ctx: WatchContext, memory: Memory, now: () => number): Promise<{ waiting: number; running: number; resumed: number; failed: number }> {
  // The agents of the waiters that ran at the last round are asked about while the table is read again; a waiter that
  // began to run since is asked about at the next round (its agent needs seconds after boot to register anyway).
  const [waiters, online] = await Promise.all([listWaiters(ctx.table), memory.running.length > 0 ? ctx.calls.onlineAgents(memory.running) : new Set<string>()]);
  const seen = new Set(waiters.map((w) => w.instanceId));
  for (const id of memory.ec2LookedAt.keys()) if (!seen.has(id)) memory.ec2LookedAt.delete(id);
  let resumed = 0;
  let failed = 0;
  let lost = 0;
  // Step Functions settles a token once: a second SendTaskSuccess or SendTaskFailure for it is refused (TaskTimedOut),
  // so whoever settles first wins and the waiter is taken out after, off the build's path. A call that fails
  // (throttled) leaves the waiter in the table for the next round.
  const settle = async (w: Waiter, how: (w: Waiter) => Promise<boolean>) => {
    const settled = await how(w);
    await takeWaiter(ctx.table, w.instanceId, w.taskToken);
    return settled;
  };

  const live: Waiter[] = [];
  for (const w of waiters) {
    if (Date.parse(w.giveUpAt) > now()) {
      live.push(w);
      continue;
    }
    const [error, cause] =
      w.state === 'running'
        ? ['AgentNotOnline', `the SSM agent on ${w.instanceId} did not come online within ${waitedFor(w)}: check that the image runs the SSM agent and reaches Systems Manager (network, instance profile)`]
        : ['InstanceNotReady', `instance ${w.instanceId} did not start running within ${waitedFor(w)}`];
    if (await settle(w, (t) => ctx.calls.fail(t.taskToken, error, cause))) failed++;
  }

  const running = live.filter((w) => w.state === 'running');
  const ready = running.filter((w) => online.has(w.instanceId));
  const settled = await Promise.all(ready.map((w) => settle(w, (t) => ctx.calls.resume(t.taskToken, readyOutput(t, new Date(now()))))));
  resumed += settled.filter(Boolean).length;
  memory.running = running.filter((w) => !online.has(w.instanceId)).map((w) => w.instanceId);

  const safety = safetyNetMs(ctx.timing);
  if (now() - memory.lastSafetyNetAt >= safety) {
    memory.lastSafetyNetAt = now();
    const stale = live.filter((w) => now() - (memory.ec2LookedAt.get(w.instanceId) ?? Date.parse(w.registeredAt)) >= safety);
    if (stale.length > 0) {
      const states = await ctx.calls.instanceStates(stale.map((w) => w.instanceId));
      for (const w of stale) {
        memory.ec2LookedAt.set(w.instanceId, now());
        const s = states.get(w.instanceId);
        if (!s) continue; // not visible yet (EC2 is eventually consistent): giveUpAt bounds it
        if (s.state === 'running' && w.state === 'pending') await markRunning(ctx.table, w.instanceId);
        if (LIVE_STATES.has(s.state)) continue;
        const why = s.reason ? ` (${s.reason})` : '';
        if (await settle(w, (t) => ctx.calls.fail(t.taskToken, 'InstanceLost', `instance ${w.instanceId} is ${s.state}${why} before the build finished starting`))) lost++;
      }
    }
  }
  return { waiting: live.length - ready.length - lost, running: memory.running.length, resumed, failed: failed + lost };
}

function waitedFor(w: Waiter): string {
  const minutes = Math.round((Date.parse(w.giveUpAt) - Date.parse(w.registeredAt)) / 60_000);
  return minutes >= 1 ? `${minutes} minutes` : `${Math.round((Date.parse(w.giveUpAt) - Date.parse(w.registeredAt)) / 1000)} s`;
}
