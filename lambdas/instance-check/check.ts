import { describeInstanceState } from '../shared/ec2';
import { AgentNotOnlineError, InstanceLostError, InstanceNotReadyError } from '../shared/errors';
import { agentPingStatus } from '../shared/ssm';

export type Readiness = 'running' | 'online';

/**
 * One look at the instance. Returns when it has reached `wanted`; otherwise throws
 * InstanceNotReady / AgentNotOnline (the state machine retries with backoff, a bounded number of
 * times) or InstanceLost (not retried: the instance stopped or terminated).
 */
export async function checkInstance(instanceId: string, wanted: Readiness): Promise<{ state: string; agent: string | null }> {
  const described = await describeInstanceState(instanceId);
  const state = described?.state ?? 'pending'; // EC2 is eventually consistent right after launch
  if (state !== 'pending' && state !== 'running') {
    const why = described?.reason ? ` (${described.reason})` : '';
    throw new InstanceLostError(`instance ${instanceId} is ${state}${why} before the build finished starting`);
  }
  if (state === 'pending') throw new InstanceNotReadyError(`instance ${instanceId} is still pending`);
  if (wanted === 'running') return { state, agent: null };
  const agent = await agentPingStatus(instanceId);
  if (agent !== 'Online') throw new AgentNotOnlineError(`the SSM agent on ${instanceId} is ${agent ?? 'not registered'}`);
  return { state, agent };
}

export interface WatchOptions {
  /** How long to keep looking, in ms; 0 looks once. */
  readonly watchMs: number;
  /** Pause between looks, in ms. */
  readonly intervalMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

const NOT_YET = new Set(['InstanceNotReady', 'AgentNotOnline']);

/**
 * Looks at the instance every `intervalMs` for up to `watchMs`, so readiness is seen within a
 * fraction of a second instead of at the state machine's next whole-second retry. A second of
 * Lambda at 256 MB costs about a seventh of one state transition, so watching is also cheaper
 * than retrying. Throws the last "not yet" error when the time is up; InstanceLost at once.
 */
export async function watchInstance(instanceId: string, wanted: Readiness, options: WatchOptions): Promise<{ state: string; agent: string | null }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + options.watchMs;
  for (;;) {
    try {
      return await checkInstance(instanceId, wanted);
    } catch (err) {
      if (!NOT_YET.has((err as Error).name) || options.intervalMs <= 0 || now() + options.intervalMs >= deadline) throw err;
    }
    await sleep(options.intervalMs);
  }
}
