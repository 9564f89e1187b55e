import { describeInstanceState } from '../shared/ec2';
import { AgentNotOnlineError, errorCode, InstanceLostError, InstanceNotReadyError } from '../shared/errors';
import { agentPingStatus } from '../shared/ssm';

export interface Readiness {
  readonly state: string | null;
  readonly agent: string;
}

/**
 * One look at the instance: ready when its SSM agent is Online (which it can only be on a running
 * instance), so a ready instance costs one call. Otherwise, when `lookAtEc2`, the EC2 state says
 * why not: InstanceNotReady while pending, AgentNotOnline while running (both retried), or
 * InstanceLost (not retried: it stopped or terminated). Without `lookAtEc2`, `notYet` is thrown.
 */
export async function checkInstance(instanceId: string, lookAtEc2: boolean, notYet: () => Error): Promise<Readiness> {
  const agent = await agentPingStatus(instanceId);
  if (agent === 'Online') return { state: null, agent };
  if (!lookAtEc2) throw notYet();
  const described = await describeInstanceState(instanceId);
  const state = described?.state ?? 'pending'; // EC2 is eventually consistent right after launch
  if (state !== 'pending' && state !== 'running') {
    const why = described?.reason ? ` (${described.reason})` : '';
    throw new InstanceLostError(`instance ${instanceId} is ${state}${why} before the build finished starting`);
  }
  if (state === 'pending') throw new InstanceNotReadyError(`instance ${instanceId} is still pending`);
  throw new AgentNotOnlineError(`the SSM agent on ${instanceId} is ${agent ?? 'not registered'}`);
}

export interface WatchOptions {
  /** How long to keep looking, in ms; 0 looks once. */
  readonly watchMs: number;
  /** Pause between looks, in ms. */
  readonly intervalMs: number;
  /** The EC2 state is read on the first look and then every this many looks (lost instances, messages). */
  readonly ec2Every: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

const NOT_YET = new Set(['InstanceNotReady', 'AgentNotOnline']);
/** Throttling codes of SSM, EC2 and the SDK: a look that was throttled is a look that saw nothing yet. */
const THROTTLED = new Set(['ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'Throttling']);
/** The longest pause between looks after throttling. */
const MAX_INTERVAL_MS = 2000;

/**
 * Looks at the instance every `intervalMs` for up to `watchMs`, so readiness is seen within a
 * fraction of a second instead of at the state machine's next whole-second retry. A second of
 * Lambda at 256 MB costs about a seventh of one state transition, so watching is also cheaper
 * than retrying. Throttled looks double the pause (up to 2 s) instead of failing the build.
 * Throws the last "not yet" error when the time is up; InstanceLost at once.
 */
export async function watchInstance(instanceId: string, options: WatchOptions): Promise<Readiness> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + options.watchMs;
  let interval = options.intervalMs;
  let lastNotYet: Error | null = null;
  let throttledSinceEc2 = false;
  for (let look = 0; ; look++) {
    // After a throttled look the EC2 state is read again at the next chance, so "lost" is never missed.
    const lookAtEc2 = lastNotYet === null || throttledSinceEc2 || look % Math.max(1, options.ec2Every) === 0;
    try {
      return await checkInstance(instanceId, lookAtEc2, () => lastNotYet!);
    } catch (err) {
      const name = (err as Error).name;
      if (THROTTLED.has(errorCode(err))) {
        throttledSinceEc2 = true;
        interval = Math.min(Math.max(interval * 2, 1), MAX_INTERVAL_MS);
      } else if (NOT_YET.has(name)) {
        if (lookAtEc2) throttledSinceEc2 = false;
        lastNotYet = err as Error;
      } else {
        throw err;
      }
      if (options.intervalMs <= 0 || now() + interval >= deadline) {
        throw lastNotYet ?? new InstanceNotReadyError(`AWS throttled every look at instance ${instanceId} (${errorCode(err)})`);
      }
    }
    await sleep(interval);
  }
}
