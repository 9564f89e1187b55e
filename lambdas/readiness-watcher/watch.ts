import { errorCode, THROTTLING_CODES } from '../shared/errors';
import type { PoolTable } from '../shared/pool-store';
import { GONE_STATES, leaseMs, readyOutput, type WatchTiming } from '../shared/readiness';
import { getWaiters, listWaiterHeads, markRunning, releaseLease, takeLease, takeWaiter, type Waiter, type WaiterHead } from '../shared/readiness-table';
import { AGENTS_PER_CALL, type Paced } from '../shared/ssm';
import type { InstanceState } from '../shared/ec2';

/** The AWS calls a watcher makes besides its table: injected, so tests can count and fail them. */
export interface WatchCalls {
  /** The instances among these whose agent is Online (DescribeInstanceInformation, 50 a call, each request `paced`). */
  onlineAgents(instanceIds: readonly string[], paced: Paced): Promise<Set<string>>;
  /**
   * EC2's state of each of these instances it knows (DescribeInstances by their IDs: lambdas/shared/ec2.ts
   * watchedInstanceStates), each request given up after `requestTimeoutMs`.
   */
  instanceStates(instanceIds: readonly string[], requestTimeoutMs: number): Promise<Map<string, InstanceState>>;
  /**
   * SendTaskSuccess / SendTaskFailure: false when the task is already over; each given up after `requestTimeoutMs`
   * (lambdas/shared/sfn.ts), so that a settlement that hangs holds the round for that long at most, not until the lease
   * lapses. One given up leaves its build in the table for a later round; if it was applied after all, the next one is
   * refused with TaskTimedOut, "the task associated with the token has already been closed", and the waiter is taken
   * out as settled, not counted as resumed or failed
   * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html).
   */
  resume(taskToken: string, output: unknown, requestTimeoutMs: number): Promise<boolean>;
  fail(taskToken: string, error: string, cause: string, requestTimeoutMs: number): Promise<boolean>;
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
  /** When Systems Manager last answered the watcher this one took over from (epoch ms): its first ask keeps the pace. */
  readonly agentsAskedAt?: number;
  /**
   * How long a request to Systems Manager, EC2 or Step Functions is waited for, in real ms (REQUEST_TIMEOUT_MS unless a
   * test says).
   */
  readonly requestTimeoutMs?: number;
}

/** What one watcher invocation did, and whether a successor must carry on. */
export interface WatchSummary {
  readonly rounds: number;
  readonly resumed: number;
  readonly failed: number;
  /** idle: nothing waits; lease-lost: another watcher holds the lease; hand-over: time is up and builds still wait. */
  readonly stopped: 'idle' | 'lease-lost' | 'hand-over';
  /** When Systems Manager last answered it (epoch ms), for the watcher it hands over to; absent when it never asked. */
  readonly agentsAskedAt?: number;
}

/** EC2 states in which the instance can still become ready. */
const LIVE_STATES = new Set(['pending', 'running']);
/**
 * The longest pause after throttling, in ticks (2 s with the stack's 250 ms, as the per-build check had), so that a
 * scaled clock scales it too: in real ms, the local cloud's 20 ms a simulated second made it 100 simulated seconds, and
 * a few throttled rounds outlasted the 22-minute readiness bound.
 */
const MAX_BACKOFF_TICKS = 8;
/** Stop this long before the invocation's own timeout, to hand over in time. */
const TIMEOUT_MARGIN_MS = 5000;
/** The watcher's pauses: between rounds, and before an ask that would come within a tick of the last. */
const sleepOf = (ctx: WatchContext) => ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

/**
 * What a watcher remembers between its rounds: each waiter's whole item (read once: its token does not change while
 * its registration stands), when EC2 was last asked about each waiter, the new waiters EC2 has not answered about
 * yet, the last safety net, the waiters that ran at the last round and where the rotation through them stands (one
 * batch of them is asked about while the table is read again: the two calls overlap).
 */
interface Memory {
  readonly waiters: Map<string, Waiter>;
  /** The heads the last read of the table found, and when it was made. */
  heads: readonly WaiterHead[];
  readAt: number;
  readonly ec2LookedAt: Map<string, number>;
  /** Pending waiters seen new whose instance EC2 has not yet answered about (a failed or too early look is tried again). */
  readonly unanswered: Set<string>;
  lastSafetyNetAt: number;
  running: readonly string[];
  /** The last instance asked about: the next batch starts after it (by id, so waiters leaving do not shift the turn). */
  lastAsked: string;
  /** When Systems Manager last answered an ask (askAgents): never asked again within a tick of it. */
  agentsAskedAt: number;
  /** Whose lease this watcher runs under, and until when it holds it, by its own clock (holdLease). */
  readonly owner: string;
  leaseUntil: number;
}

/** The lease was taken by another watcher while this one's round went on: it stops. */
class LeaseLost extends Error {}

/**
 * The lease could not be renewed ahead of an ask (the table throttled or failed the write): the round fails and backs
 * off, and the failure is the table's, not Systems Manager's (askAgents logs Systems Manager's refusals as its own).
 */
class LeaseNotRenewed extends Error {
  constructor(readonly reason: unknown) {
    super(`could not renew the watcher's lease: ${(reason as Error)?.message ?? String(reason)}`);
  }
}

/**
 * How long the watcher waits for a request to Systems Manager, EC2 or Step Functions (a settlement), in real ms: 5 s,
 * a third of the stack's 15 s lease. Without it, a request that hangs holds the watcher until Lambda ends it: the SDK's
 * request handler gives a request no time limit unless told (NodeHttpHandlerOptions' requestTimeout "defaults to 0,
 * which disables the timeout": https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler;
 * the clients' socket idle timeout is 15 minutes, longer than a watcher's run), so each request is sent with an abort
 * signal that fires after it. Not in the watcher's clock: a scaled one (the local cloud's) does not make a machine
 * answer sooner, and at 20 ms a simulated second a third of the lease was 134 real ms, which a loaded machine's answers
 * outlasted (a soak's build never saw its agent).
 */
export const REQUEST_TIMEOUT_MS = 5000;

/**
 * How long before its lease lapses the watcher renews it ahead of an ask (holdLease): a request's whole timeout, then a
 * tick, with the stack's timing (its lease's third is the timeout at least: test/lambdas/readiness-watcher.test.ts). A
 * scaled clock's lease is shorter than a real request's timeout, and a third of the lease stands in for it (the loop
 * renews it every third): there the guarantee is a tick after the lease's third, not after the timeout.
 */
const leaseMarginMs = (ctx: WatchContext) => Math.min(requestTimeoutOf(ctx), leaseMs(ctx.timing) / 3) + ctx.timing.tickMs;
const requestTimeoutOf = (ctx: WatchContext) => ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;

/**
 * Renews the lease when it would not outlast a request sent now (leaseMarginMs: its whole timeout, then a tick): an
 * ask is sent only while this watcher holds the lease, so that it reaches Systems Manager before a watcher that takes
 * the lease over sends its own, a tick apart (rounds renew it every third of a lease, so this renews only after a round
 * held up for longer: a table read or an ask that hung). Throws LeaseLost when another watcher holds it.
 * Renewed once: a renewal that itself took longer than the lease's slack (9.75 s with the stack's timing: only the
 * SDK's retries of the table's 5 s attempts take that long) leaves the ask's request less than its timeout on the
 * lease, a window in which a watcher taking the lease over could ask beside it. Renewing again until the slack is
 * back starved the asks on the local cloud's fastest clock, where the slack is 227 real ms and a loaded machine's table
 * writes took longer (a soak's throttled builds never saw their agents).
 */
async function holdLease(ctx: WatchContext, memory: Memory, now: () => number): Promise<void> {
  if (now() + leaseMarginMs(ctx) < memory.leaseUntil) return;
  if (!(await renewLease(ctx, memory, now))) throw new LeaseLost();
}

/**
 * Takes the lease, or renews it, for a whole lease from now, and notes until when this watcher holds it (counted from
 * before the write: the stored expiry is the same); false when another watcher holds it.
 */
async function renewLease(ctx: WatchContext, memory: Memory, now: () => number): Promise<boolean> {
  const at = now();
  if (!(await takeLease(ctx.table, memory.owner, new Date(at), leaseMs(ctx.timing)))) return false;
  memory.leaseUntil = at + leaseMs(ctx.timing);
  return true;
}

/**
 * The next batch of running waiters to ask about, in turn: one call a round, each waiter asked every ⌈running/50⌉ rounds.
 * A watcher's first batch starts at a random waiter: a watcher's turn does not outlive its run, and if every watcher
 * began at the first id, one whose run lasts only a round or two (a loaded machine's) would ask about the same 50 each
 * time and never about the others.
 */
function nextBatch(memory: Memory): string[] {
  const running = [...memory.running].sort();
  if (running.length <= AGENTS_PER_CALL) return running;
  const after = memory.lastAsked ? running.findIndex((id) => id > memory.lastAsked) : Math.floor(Math.random() * running.length);
  const start = after === -1 ? 0 : after;
  const batch = [...running.slice(start), ...running.slice(0, start)].slice(0, AGENTS_PER_CALL);
  memory.lastAsked = batch[batch.length - 1];
  return batch;
}

/**
 * How often the table is read: every item read is billed by its whole size (a projection saves none:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html), and a new
 * waiter, or one whose instance began to run, can wait a second to be seen (its agent takes seconds to register); the
 * agents are asked about every tick from what the last read found. In ticks, so that a scaled clock scales it too
 * (a second with the stack's 250 ms).
 */
const READ_EVERY_TICKS = 4;

/** The safety net's period: a lost state-change event is noticed within it. Also how long a watcher idles before it stops. */
export const safetyNetMs = (t: WatchTiming) => t.runMs / 6;

/**
 * Runs the one watcher for up to `timing.runMs`. Every tick, one batch of up to 50 running waiters, in turn, is asked
 * about (one DescribeInstanceInformation: Systems Manager sees at most 1000 / tickMs calls a second, 4 with the
 * stack's 250 ms, whatever the number of builds) and each online one is resumed through its token; a build past its
 * giveUpAt is failed. Once a second the waiting builds are read from the table (one Query; a waiter's whole item, with
 * its token, is read once, BatchGetItem). EC2 is asked (one DescribeInstances per 100) about the pending waiters each
 * read finds new, and every safety-net period about waiters it was not asked about lately, for an event that came
 * before the waiter was written or was lost. Throttled calls back off (doubling, up to 8 ticks: 2 s).
 * The lease is renewed as it goes.
 */
export async function runWatcher(owner: string, ctx: WatchContext): Promise<WatchSummary> {
  const now = ctx.now ?? Date.now;
  const sleep = sleepOf(ctx);
  const remaining = ctx.remainingMs ?? (() => Infinity);
  const lease = leaseMs(ctx.timing);
  const stopAt = now() + ctx.timing.runMs;
  const memory: Memory = { waiters: new Map(), heads: [], readAt: -Infinity, ec2LookedAt: new Map(), unanswered: new Set(), lastSafetyNetAt: now(), running: [], lastAsked: '', agentsAskedAt: ctx.agentsAskedAt ?? -Infinity, owner, leaseUntil: -Infinity };
  let idleSince: number | null = null;
  let backoffMs = 0;
  const totals = { rounds: 0, resumed: 0, failed: 0 };
  const asked = () => (Number.isFinite(memory.agentsAskedAt) ? { agentsAskedAt: memory.agentsAskedAt } : {});
  while (now() < stopAt && remaining() > TIMEOUT_MARGIN_MS) {
    let pauseMs: number;
    const roundStart = now();
    try {
      // A renewal that fails otherwise than by another watcher holding the lease (throttled, timed out) is backed off
      // from as a round is: thrown out of the watcher, it left the builds to the schedule's watcher, a minute later. Its
      // asks stay under the lease meanwhile (holdLease).
      if (memory.leaseUntil - now() <= (2 * lease) / 3 && !(await renewLease(ctx, memory, now))) return { ...totals, ...asked(), stopped: 'lease-lost' };
      const round = await watchRound(ctx, memory, now);
      totals.rounds++;
      totals.resumed += round.resumed;
      totals.failed += round.failed;
      backoffMs = 0;
      // A round (and at most one call to Systems Manager) every tick, however long the round itself took: an agent
      // that came online is seen half a tick (plus half an ask's round trip: askAgents) later on average when 50 builds
      // or fewer wait on running instances.
      pauseMs = Math.max(0, ctx.timing.tickMs - (now() - roundStart));
      if (round.waiting > 0) idleSince = null;
      else if ((idleSince ??= now()) + safetyNetMs(ctx.timing) <= now()) {
        // Given back: whatever fails from here on, the next round takes it again before it asks.
        memory.leaseUntil = -Infinity;
        await releaseLease(ctx.table, owner);
        // Looked at once more after the lease is back: a registration that saw it held just before did not start a
        // watcher, and its waiter is in the table by now.
        if ((await listWaiterHeads(ctx.table)).length === 0) return { ...totals, stopped: 'idle' };
        if (!(await renewLease(ctx, memory, now))) return { ...totals, ...asked(), stopped: 'lease-lost' };
        idleSince = null;
      }
    } catch (err) {
      if (err instanceof LeaseLost) return { ...totals, ...asked(), stopped: 'lease-lost' };
      backoffMs = Math.min(Math.max(backoffMs * 2, ctx.timing.tickMs * 2), ctx.timing.tickMs * MAX_BACKOFF_TICKS);
      pauseMs = backoffMs;
      const code = errorCode(err instanceof LeaseNotRenewed ? err.reason : err);
      if (!THROTTLING_CODES.has(code)) ctx.log?.('watch round failed', { error: code, message: (err as Error).message });
    }
    await sleep(pauseMs);
  }
  return { ...totals, ...asked(), stopped: 'hand-over' };
}

/**
 * The online agents among a batch. Throttling is the round's to back off from; any other refusal (an instance id
 * Systems Manager calls invalid, say) is logged and counts as none online, so one bad instance delays its batch, not
 * every build: the safety net finds a lost instance within its period, and a build gives up at its giveUpAt.
 * Never within a tick of the last ask's answer (this watcher's, or the one's it took over from): a round's late ask,
 * made after its read of the table, came less than a tick before the next round's, and the scale phase counted 5 calls
 * within one second (issue #16's budget: under half of the 10 a second the README assumes for Systems Manager's reads).
 * Paced from the ask, the scale phase still counted 5 once: a call delayed on its way arrived less than a tick before
 * the next one. Costs the call's round trip on the tick (about 20 ms a tick with the benchmark's latency).
 */
async function askAgents(ctx: WatchContext, memory: Memory, now: () => number, batch: readonly string[]): Promise<Set<string>> {
  // Each request (a page of the answer too) a tick after the last one's answer, not its ask: a request reaches Systems
  // Manager at some moment between the two, so only this keeps two arrivals a tick apart however long either took on
  // its way (4 arrivals in any second).
  const paced: Paced = async (send) => {
    // At most a tick: a predecessor's clock (another environment's) may run ahead of this one's.
    const wait = Math.min(ctx.timing.tickMs, memory.agentsAskedAt + ctx.timing.tickMs - now());
    if (wait > 0) await sleepOf(ctx)(wait);
    try {
      await holdLease(ctx, memory, now);
    } catch (err) {
      throw err instanceof LeaseLost ? err : new LeaseNotRenewed(err);
    }
    try {
      return await send(AbortSignal.timeout(requestTimeoutOf(ctx)));
    } finally {
      memory.agentsAskedAt = now();
    }
  };
  try {
    return await ctx.calls.onlineAgents(batch, paced);
  } catch (err) {
    if (err instanceof LeaseLost || err instanceof LeaseNotRenewed || THROTTLING_CODES.has(errorCode(err))) throw err;
    ctx.log?.('could not ask about agents', { instances: batch.length, error: errorCode(err), message: (err as Error).message });
    return new Set();
  }
}

type RoundResult = { waiting: number; running: number; resumed: number; failed: number };

/**
 * One round over every waiting build; returns how many still wait, how many of them run, and what it settled. A round
 * that fails before it used its ask's answer (Systems Manager or the table throttled, the table's read failed, the
 * lease not renewed) puts its batch's turn back: the batch is asked about again once the watcher has backed off,
 * instead of after every other batch of more than 50 running waiters. One that fails after (EC2's look throttled, say)
 * resumed what the answer found, and its turn moves on. An ask refused otherwise does not fail the round: its batch
 * gives up its turn (askAgents), so that one batch Systems Manager keeps refusing does not hold up the others.
 */
export async function watchRound(ctx: WatchContext, memory: Memory, now: () => number): Promise<RoundResult> {
  const turn = memory.lastAsked;
  const progress = { answerUsed: false };
  try {
    return await roundOverWaiters(ctx, memory, now, progress);
  } catch (err) {
    if (!progress.answerUsed) memory.lastAsked = turn;
    throw err;
  }
}

async function roundOverWaiters(ctx: WatchContext, memory: Memory, now: () => number, progress: { answerUsed: boolean }): Promise<RoundResult> {
  // One batch of the waiters that ran at the last round is asked about while the table is read again; a waiter that
  // began to run since is asked about from the next round (its agent needs seconds after boot to register anyway).
  const batch = nextBatch(memory);
  const reading = now() - memory.readAt >= READ_EVERY_TICKS * ctx.timing.tickMs;
  // Both are waited for, a failed read too: an ask left running past a failed round would still be on its way when the
  // next round asks, and the two could reach Systems Manager any time apart.
  const [read, ask] = await Promise.allSettled([reading ? listWaiterHeads(ctx.table) : memory.heads, batch.length > 0 ? askAgents(ctx, memory, now, batch) : new Set<string>()]);
  if (ask.status === 'rejected' && ask.reason instanceof LeaseLost) throw ask.reason;
  if (read.status === 'rejected') throw read.reason;
  if (ask.status === 'rejected') throw ask.reason;
  const heads = read.value;
  let online = ask.value;
  if (reading) {
    memory.heads = heads;
    memory.readAt = now();
  }
  // Nothing was asked about while the table was read (a watcher's first round, or no waiter ran at the last one): the
  // running waiters just read are asked about now, after the read. Without it a watcher asks about none in its first
  // round, and one that hands over after a round or two (its run shorter than a few rounds take, as on a machine
  // running a scaled clock under load) would never see an agent come online.
  if (batch.length === 0 && reading) {
    memory.running = heads.filter((h) => h.state === 'running').map((h) => h.instanceId);
    const late = nextBatch(memory);
    if (late.length > 0) online = await askAgents(ctx, memory, now, late);
  }
  const seen = new Set(heads.map((h) => h.instanceId));
  for (const id of memory.ec2LookedAt.keys()) if (!seen.has(id)) memory.ec2LookedAt.delete(id);
  for (const id of memory.unanswered) if (!seen.has(id)) memory.unanswered.delete(id);
  for (const id of memory.waiters.keys()) if (!seen.has(id)) memory.waiters.delete(id);
  // A waiter seen for the first time (or registered again, with a new token) is read whole, once.
  const unread = heads.filter((h) => memory.waiters.get(h.instanceId)?.registeredAt !== h.registeredAt).map((h) => h.instanceId);
  if (unread.length > 0) for (const w of await getWaiters(ctx.table, unread)) memory.waiters.set(w.instanceId, w);
  for (const id of unread) memory.unanswered.add(id);
  const waiters = heads.flatMap((h) => {
    const whole = memory.waiters.get(h.instanceId);
    return whole && whole.registeredAt === h.registeredAt ? [{ ...whole, state: h.state }] : [];
  });
  let resumed = 0;
  let failed = 0;
  let lost = 0;
  // Step Functions settles a token once: a second SendTaskSuccess or SendTaskFailure for it is refused (TaskTimedOut),
  // so whoever settles first wins and the waiter is taken out after, off the build's path. A call that fails
  // (throttled) leaves the waiter in the table for the next round.
  // One waiter's failure (throttled, or a token Step Functions refuses for another reason) is logged and leaves it for
  // a later round; it never holds up the others.
  const settle = async (w: Waiter, how: (w: Waiter) => Promise<boolean>) => {
    try {
      const settled = await how(w);
      await takeWaiter(ctx.table, w.instanceId, w.taskToken);
      memory.waiters.delete(w.instanceId);
      memory.heads = memory.heads.filter((h) => h.instanceId !== w.instanceId);
      return settled;
    } catch (err) {
      if (!THROTTLING_CODES.has(errorCode(err))) ctx.log?.('could not settle a waiting build', { instanceId: w.instanceId, error: errorCode(err), message: (err as Error).message });
      return false;
    }
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
    if (await settle(w, (t) => ctx.calls.fail(t.taskToken, error, cause, requestTimeoutOf(ctx)))) failed++;
  }

  const running = live.filter((w) => w.state === 'running');
  progress.answerUsed = true;
  const ready = running.filter((w) => online.has(w.instanceId));
  const settled = await Promise.all(ready.map((w) => settle(w, (t) => ctx.calls.resume(t.taskToken, readyOutput(t, new Date(now())), requestTimeoutOf(ctx)))));
  resumed += settled.filter(Boolean).length;
  memory.running = running.filter((w) => !online.has(w.instanceId)).map((w) => w.instanceId);

  const safety = safetyNetMs(ctx.timing);
  const due = now() - memory.lastSafetyNetAt >= safety;
  if (due) memory.lastSafetyNetAt = now();
  // EC2 is asked about the pending waiters registered since they were last read (a freshly launched instance is not
  // looked at when it registers: lambdas/instance-check/register.ts): its running event may have come before its waiter
  // was written, when the registration came late. On rounds that read the table (a second), one call per 100 of them,
  // whatever the number of builds; asked again at the next read until EC2 answers about them (a failed call, an id not
  // visible yet: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), for a safety-net period.
  // Then, every safety-net period, about every waiter EC2 was not asked about within it.
  for (const w of live) if (w.state !== 'pending' || now() - Date.parse(w.registeredAt) >= safety) memory.unanswered.delete(w.instanceId);
  const stale = live.filter(
    (w) => (reading && memory.unanswered.has(w.instanceId)) || (due && now() - (memory.ec2LookedAt.get(w.instanceId) ?? Date.parse(w.registeredAt)) >= safety),
  );
  if (stale.length > 0) {
    const { states, answered } = await askEc2(ctx, stale);
    // Each waiter's writes run together, not one after another: a look can find 50 builds' instances running at once
    // (registrations that came late, on a busy account), and 50 writes in a row would hold up the agents' next look.
    const outcomes = await Promise.all(
      answered.map(async (w) => {
        memory.ec2LookedAt.set(w.instanceId, now());
        const s = states.get(w.instanceId);
        if (!s) return false; // not visible yet (EC2 is eventually consistent): asked again, and giveUpAt bounds it
        memory.unanswered.delete(w.instanceId);
        if (s.state === 'running' && w.state === 'pending') {
          runsNow(memory, w.instanceId);
          await markRunning(ctx.table, w.instanceId);
        }
        if (LIVE_STATES.has(s.state)) return false;
        if (now() - Date.parse(w.registeredAt) < safety && !GONE_STATES.has(s.state)) return false;
        const why = s.reason ? ` (${s.reason})` : '';
        return settle(w, (t) => ctx.calls.fail(t.taskToken, 'InstanceLost', `instance ${w.instanceId} is ${s.state}${why} before the build finished starting`, requestTimeoutOf(ctx)));
      }),
    );
    lost += outcomes.filter(Boolean).length;
  }
  return { waiting: live.length - ready.length - lost, running: memory.running.length, resumed, failed: failed + lost };
}

/**
 * EC2's states of the stale waiters' instances, and the waiters EC2 answered about. Each subnet's instances (so each
 * Availability Zone's) are asked about in calls of their own: a disrupted zone fails a DescribeInstances that names an
 * instance in it (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html), and must not take
 * the other zones' builds with it. Waiters with no known subnet (pool members) are asked about together. Throttling is
 * the round's to back off from; any other refusal (a disruption, with a code the docs do not give) is logged and
 * leaves that group unanswered, asked again at the next read of the table or the next safety-net period: the round
 * goes on without a backoff, so agents keep being asked about at the tick. Calls: one per 100 waiters of each subnet,
 * so at most one more than per 100 for each of the stack's subnets, whatever the number of builds.
 */
async function askEc2(ctx: WatchContext, stale: readonly Waiter[]): Promise<{ states: Map<string, InstanceState>; answered: Waiter[] }> {
  const bySubnet = new Map<string, Waiter[]>();
  for (const w of stale) {
    const group = bySubnet.get(w.subnetId ?? '');
    if (group) group.push(w);
    else bySubnet.set(w.subnetId ?? '', [w]);
  }
  const states = new Map<string, InstanceState>();
  const answered: Waiter[] = [];
  for (const [subnetId, group] of bySubnet) {
    try {
      for (const [id, s] of await ctx.calls.instanceStates(group.map((w) => w.instanceId), requestTimeoutOf(ctx))) states.set(id, s);
      answered.push(...group);
    } catch (err) {
      if (THROTTLING_CODES.has(errorCode(err))) throw err;
      ctx.log?.('could not ask EC2 about instances', { subnetId: subnetId || null, instances: group.length, error: errorCode(err), message: (err as Error).message });
    }
  }
  return { states, answered };
}

/** A waiter EC2 says runs is asked about from the next round, without waiting for the next read of the table. */
function runsNow(memory: Memory, instanceId: string): void {
  memory.heads = memory.heads.map((h) => (h.instanceId === instanceId ? { ...h, state: 'running' } : h));
  if (!memory.running.includes(instanceId)) memory.running = [...memory.running, instanceId];
}

function waitedFor(w: Waiter): string {
  const minutes = Math.round((Date.parse(w.giveUpAt) - Date.parse(w.registeredAt)) / 60_000);
  return minutes >= 1 ? `${minutes} minutes` : `${Math.round((Date.parse(w.giveUpAt) - Date.parse(w.registeredAt)) / 1000)} s`;
}
