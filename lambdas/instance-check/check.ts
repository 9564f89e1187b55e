import { describeInstanceState } from '../shared/ec2';
import { AgentNotOnlineError, errorCode, InstanceLostError, InstanceNotReadyError, THROTTLING_CODES } from '../shared/errors';
import { agentPingStatus } from '../shared/ssm';

export interface Readiness {
  /** When the agent was seen online (ISO 8601): the state machine compares it with the input URL's age. */
  readonly readyAt: string;
}

/** What one look asks: Systems Manager for the agent, EC2 for the instance's state, or both. */
export interface Look {
  readonly agent: boolean;
  readonly ec2: boolean;
}

/**
 * One look at the instance. Ready when the agent is Online (which it can only be on a running
 * instance). Otherwise EC2's state says why not: InstanceNotReady while pending, AgentNotOnline
 * while running (both retried), or InstanceLost (not retried: it stopped or terminated). A look
 * that does not ask EC2 throws `notYet`, what the last look that did found.
 */
export async function checkInstance(instanceId: string, look: Look, notYet: () => Error, now: () => number = Date.now): Promise<Readiness> {
  const agent = look.agent ? await agentPingStatus(instanceId) : undefined;
  if (agent === 'Online') return { readyAt: new Date(now()).toISOString() };
  if (!look.ec2) throw notYet();
  const described = await describeInstanceState(instanceId);
  const state = described?.state ?? 'pending'; // EC2 is eventually consistent right after launch
  if (state !== 'pending' && state !== 'running') {
    const why = described?.reason ? ` (${described.reason})` : '';
    throw new InstanceLostError(`instance ${instanceId} is ${state}${why} before the build finished starting`);
  }
  if (state === 'pending') throw new InstanceNotReadyError(`instance ${instanceId} is still pending`);
  throw new AgentNotOnlineError(`the SSM agent on ${instanceId} is ${agent === undefined ? 'not online yet' : (agent ?? 'not registered')}`);
}

export interface WatchOptions {
  /** How long to keep looking, in ms; 0 looks once. */
  readonly watchMs: number;
  /** Pause between looks while EC2 says pending (the agent cannot be online yet). */
  readonly pendingIntervalMs: number;
  /** Pause between looks once the instance runs (its agent registers within seconds)... */
  readonly runningIntervalMs: number;
  /** ...while it was launched less than `fastWindowMs` ago; after that, its agent is late: */
  readonly fastWindowMs: number;
  /** the pause between looks at a running instance whose agent is late. */
  readonly lateIntervalMs: number;
  /** When the instance was launched (epoch ms); the watch's start when unknown. */
  readonly launchedAt?: number;
  /** While running, EC2 is asked again every this many looks (a lost instance stops the watch). */
  readonly ec2Every: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** What a look that saw the instance not ready throws; a look that was throttled (THROTTLING_CODES) saw nothing yet. */
const NOT_YET = new Set(['InstanceNotReady', 'AgentNotOnline']);
/** The longest pause between looks after throttling. */
const MAX_INTERVAL_MS = 2000;

/**
 * Watches the instance for up to `watchMs`: slowly while it is pending, quickly once it runs (for
 * the first minutes after launch, then slowly again: an agent that late is probably missing), so
 * the agent coming online is seen within a fraction of a second for few calls (one per look),
 * instead of at the state machine's next whole-second retry. A second of Lambda at 256 MB costs
 * about a seventh of one state transition, so watching is also cheaper than retrying. Throttled
 * looks double the pause (up to 2 s) instead of failing the build. Throws the last "not yet"
 * error when the time is up; InstanceLost at once.
 */
export async function watchInstance(instanceId: string, options: WatchOptions): Promise<Readiness> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + options.watchMs;
  const launchedAt = Number.isFinite(options.launchedAt) ? options.launchedAt! : now();
  const runningPause = () => (now() - launchedAt < options.fastWindowMs ? options.runningIntervalMs : options.lateIntervalMs);
  let lastNotYet: Error | null = null;
  let throttledMs = 0;
  let runningLooks = 0;
  // What the last look that asked EC2 found: the instance runs, its agent is not online yet.
  const running = () => lastNotYet?.name === 'AgentNotOnline';
  for (;;) {
    // Not known yet (first look, after throttling): ask both. Pending: EC2 only. Running: the
    // agent, and EC2 as well every `ec2Every` looks.
    const look: Look =
      lastNotYet === null || throttledMs > 0
        ? { agent: true, ec2: true }
        : running()
          ? { agent: true, ec2: runningLooks % Math.max(1, options.ec2Every) === 0 }
          : { agent: false, ec2: true };
    try {
      return await checkInstance(instanceId, look, () => lastNotYet!, now);
    } catch (err) {
      if (THROTTLING_CODES.has(errorCode(err))) {
        throttledMs = Math.min(Math.max(throttledMs * 2, options.runningIntervalMs * 2, 1), MAX_INTERVAL_MS);
      } else if (NOT_YET.has((err as Error).name)) {
        if (look.ec2) throttledMs = 0;
        lastNotYet = err as Error;
      } else {
        throw err;
      }
    }
    runningLooks = running() ? runningLooks + 1 : 0;
    const pause = throttledMs || (running() ? runningPause() : options.pendingIntervalMs);
    if (options.watchMs <= 0 || pause <= 0 || now() + pause >= deadline) {
      throw lastNotYet ?? new InstanceNotReadyError(`AWS throttled every look at instance ${instanceId}`);
    }
    await sleep(pause);
  }
}
