import { instanceTags } from '../shared/ec2';
import { SpotInterruptedError } from '../shared/errors';
import { POOL_TAGS, TAGS } from '../shared/env';
import { SPOT_BREAKER } from '../shared/fleets';
import { recordInterruption, type PoolTable } from '../shared/pool-table';
import { STATES } from '../shared/renewal';
import { executionArnOf, failTask, latestWaitingTask } from '../shared/sfn';
import { buildCommandOf, getCommand } from '../shared/ssm';

/**
 * EC2's "EC2 Spot Instance Interruption Warning", two minutes before it stops, hibernates or terminates a Spot
 * instance (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html#ec2-spot-instance-interruption-warning-event):
 * detail `instance-id` and `instance-action`.
 */
export interface InterruptionWarning {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly time?: string;
  readonly detail?: { readonly 'instance-id'?: string; readonly 'instance-action'?: string };
}

export type InterruptionOutcome =
  | { readonly outcome: 'not-ours' }
  | { readonly outcome: 'pool-member'; readonly fleet: string }
  | { readonly outcome: 'build-stopped' | 'no-build-waiting'; readonly fleet: string; readonly executionName: string; readonly breakerOpenUntil: string | null };

export interface InterruptionContext {
  readonly stackTagValue: string;
  readonly stateMachineArn: string;
  readonly table: PoolTable;
}

/**
 * Counts the interruption against the instance's fleet (its circuit breaker), and stops waiting for the build on it:
 * the waiting task fails with SpotInterrupted, which the state machine catches to release the instance and run the
 * build again, once, on on-demand. The build's task is "Run Build" (its token is the build command's TaskToken
 * parameter) or, after a renewal, "Wait For Build". A build not waiting yet (still booting) finds its instance gone
 * ("Is Instance Ready?" fails with InstanceLost, rerun as well); an idle pool member is the refill's to replace.
 */
export async function handleInterruption(event: InterruptionWarning, ctx: InterruptionContext, now: Date): Promise<InterruptionOutcome> {
  const instanceId = event.detail?.['instance-id'] ?? '';
  const tags = instanceId ? await instanceTags(instanceId) : null;
  if (!tags || tags[TAGS.stack] !== ctx.stackTagValue) return { outcome: 'not-ours' };
  const fleet = tags[POOL_TAGS.fleet] ?? '';
  const breaker = fleet ? await recordInterruption(ctx.table, fleet, now, SPOT_BREAKER) : { onDemandUntil: null };
  const executionName = tags[TAGS.execution];
  if (!executionName) return { outcome: 'pool-member', fleet };
  const interrupted = new SpotInterruptedError(`EC2 interrupts Spot instance ${instanceId} (${event.detail?.['instance-action'] ?? 'terminate'} in two minutes)`);
  const command = await buildCommandOf(instanceId, executionName);
  const token = command ? (await getCommand(command.commandId))?.parameters.TaskToken?.[0] : undefined;
  let stopped = token ? await failTask(token, interrupted.name, interrupted.message) : false;
  if (!stopped) {
    const waiting = await latestWaitingTask(executionArnOf(ctx.stateMachineArn, executionName), STATES.waitForBuild);
    if (waiting) stopped = await failTask(waiting.taskToken, interrupted.name, interrupted.message);
  }
  return { outcome: stopped ? 'build-stopped' : 'no-build-waiting', fleet, executionName, breakerOpenUntil: breaker.onDemandUntil };
}
