import { describeInstanceState } from '../shared/ec2';
import { errorCode, ReadinessRegistrationFailedError, THROTTLING_CODES } from '../shared/errors';
import type { PoolTable } from '../shared/pool-store';
import { GONE_STATES, kickWatcher, readyOutput, type WatchTiming } from '../shared/readiness';
import { markRunning, putWaiter, takeWaiter, type Waiter } from '../shared/readiness-table';
import { failTask, resumeTask } from '../shared/sfn';
import { agentPingStatus } from '../shared/ssm';

/** "Is Instance Ready?" (lambda:invoke.waitForTaskToken): what the state machine sends. */
export interface RegisterEvent {
  readonly instanceId: string;
  /**
   * Where Launch Instance got the instance: 'launched' (RunInstances, just now), 'hot-pool' or 'stopped-pool'. Absent
   * from executions started before it was passed: those are looked at, as before.
   */
  readonly capacitySource?: string;
  /** When Launch Instance got it (ISO 8601): a registration soon after a launch is the build's first. */
  readonly launchedAt?: string;
  /** The instance's subnet, when Launch Instance knows it (null for a pool member; absent from older executions). */
  readonly subnetId?: string | null;
  readonly taskToken: string;
  readonly executionName: string;
  /** The job's horizon and the build's wait (from the poller): Run Build's first wait is computed from them. */
  readonly renewBy: string;
  readonly renewalSeconds: number;
  readonly waitTimeoutSeconds: number;
}

export interface RegisterContext {
  readonly table: PoolTable;
  readonly watcherFunction: string;
  readonly readyWithinMs: number;
  readonly firstRegistrationMs: number;
  readonly timing: WatchTiming;
}

/** What registration found: ready at once (resumed here), lost (failed here), or waiting for the watcher. */
export type Registration = 'ready' | 'lost' | 'waiting';

/**
 * A registration within ctx.firstRegistrationMs of RunInstances (lib/readiness.ts FIRST_REGISTRATION_SECONDS): the
 * build's first, after its launch. Not a pool member's, and not the one after the input URL aged past its refresh (5
 * minutes on), whose instance may well be ready: those look.
 */
function firstAfterLaunch(event: RegisterEvent, ctx: RegisterContext, now: Date): boolean {
  return event.capacitySource === 'launched' && event.launchedAt !== undefined && now.getTime() - Date.parse(event.launchedAt) < ctx.firstRegistrationMs;
}

/**
 * Registers the build with the readiness watcher, then looks once itself: a build that is already ready (a hot pool
 * instance) or already lost is settled here, without waiting for a watcher's round. The waiter is written BEFORE the
 * look, so an EC2 state-change event that arrives after the look finds it, and one that arrived before is covered by
 * the look. A build's first registration after RunInstances is not looked at (firstAfterLaunch): its instance is
 * pending then (RunInstances answers so: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html),
 * so the look would cost a DescribeInstances per build (half of all the stack's at 1,000 builds: issue #16's budget)
 * to say so; its state-change events reach the waiter, and one that came before the waiter was written, or never came
 * (EventBridge delivers on a best-effort basis), is found by the watcher's look at new waiters within a second or its
 * safety net (lambdas/readiness-watcher/watch.ts). Whoever takes the waiter out of the table (here, the watcher, the
 * event handler) settles the task, once. A throttled look is no answer: the watcher looks again. Any other failure is
 * ReadinessRegistrationFailed, which the state machine retries with a new token (the waiter is replaced).
 */
export async function register(event: RegisterEvent, ctx: RegisterContext, now: () => Date = () => new Date()): Promise<Registration> {
  try {
    const registeredAt = now();
    const waiter: Waiter = {
      instanceId: event.instanceId,
      taskToken: event.taskToken,
      executionName: event.executionName,
      state: 'pending',
      registeredAt: registeredAt.toISOString(),
      giveUpAt: new Date(registeredAt.getTime() + ctx.readyWithinMs).toISOString(),
      renewBy: event.renewBy,
      renewalSeconds: event.renewalSeconds,
      waitTimeoutSeconds: event.waitTimeoutSeconds,
      ...(event.subnetId ? { subnetId: event.subnetId } : {}),
    };
    await putWaiter(ctx.table, waiter);
    const settled = firstAfterLaunch(event, ctx, registeredAt) ? null : await lookOnce(waiter, ctx, now);
    if (settled) return settled;
    await kickWatcher(ctx.table, ctx.watcherFunction, ctx.timing, now());
    return 'waiting';
  } catch (err) {
    if (err instanceof ReadinessRegistrationFailedError) throw err;
    throw new ReadinessRegistrationFailedError(`could not register instance ${event.instanceId} with the readiness watcher: ${errorCode(err) || (err as Error).message}`, { cause: err });
  }
}

/** One look at EC2 (and at the agent when it runs); settles the build when it can. */
async function lookOnce(waiter: Waiter, ctx: RegisterContext, now: () => Date): Promise<Registration | null> {
  const described = await unlessThrottled(() => describeInstanceState(waiter.instanceId));
  if (described === undefined || described === null) return null; // throttled, or not visible yet (EC2 is eventually consistent)
  // Step Functions settles a token once (a second settlement is refused: TaskTimedOut), so settling first and taking
  // the waiter out after is safe against the watcher and the event handler doing the same.
  if (GONE_STATES.has(described.state)) {
    const why = described.reason ? ` (${described.reason})` : '';
    await failTask(waiter.taskToken, 'InstanceLost', `instance ${waiter.instanceId} is ${described.state}${why} before the build finished starting`);
    await takeWaiter(ctx.table, waiter.instanceId, waiter.taskToken);
    return 'lost';
  }
  if (described.state !== 'running') return null;
  await markRunning(ctx.table, waiter.instanceId);
  const agent = await unlessThrottled(() => agentPingStatus(waiter.instanceId));
  if (agent !== 'Online') return null;
  await resumeTask(waiter.taskToken, readyOutput(waiter, now()));
  await takeWaiter(ctx.table, waiter.instanceId, waiter.taskToken);
  return 'ready';
}

/** The call's answer, or undefined when AWS throttled it (THROTTLING_CODES). */
async function unlessThrottled<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (THROTTLING_CODES.has(errorCode(err))) return undefined;
    throw err;
  }
}
