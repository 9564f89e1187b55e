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
