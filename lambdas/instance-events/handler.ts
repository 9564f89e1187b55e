import type { Handler } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { poolTableFromEnv } from '../shared/pool-store';
import { markRunning, putWaiter, takeWaiter } from '../shared/readiness-table';
import { failTask } from '../shared/sfn';

/**
 * EC2's "EC2 Instance State-change Notification" (source aws.ec2; detail `instance-id` and `state`:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html). EventBridge cannot
 * match an instance's tags, so every instance of the account comes here; only those a build waits for are in the
 * readiness table, and for any other the conditional write changes nothing.
 */
export interface StateChangeEvent {
  readonly detail?: { readonly 'instance-id'?: string; readonly state?: string };
}

export type StateChangeOutcome = 'marked-running' | 'failed-build' | 'not-waited-for';

/** States after which an instance cannot become ready: its waiting build fails with InstanceLost. */
export const LOST_STATES: ReadonlySet<string> = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

const table = poolTableFromEnv();
const logger = createLogger('instance-events');

/** Marks a waiting build's instance running (the watcher then asks for its agent), or fails the build at once when it is lost. */
export const handler: Handler<StateChangeEvent, StateChangeOutcome> = async (event, context) => {
  logger.addContext(context);
  const instanceId = event?.detail?.['instance-id'];
  const state = event?.detail?.state;
  if (!instanceId || !state) return 'not-waited-for';
  if (state === 'running') return (await markRunning(table, instanceId)) ? 'marked-running' : 'not-waited-for';
  if (!LOST_STATES.has(state)) return 'not-waited-for';
  const waiter = await takeWaiter(table, instanceId);
  if (!waiter) return 'not-waited-for';
  try {
    await failTask(waiter.taskToken, 'InstanceLost', `instance ${instanceId} is ${state} before the build finished starting`);
  } catch (err) {
    // Not settled (throttled, say): back in the table, where the watcher's safety net finds the lost instance.
    await putWaiter(table, waiter);
    throw err;
  }
  logger.info('build failed: its instance is lost', { instanceId, state, execution: waiter.executionName });
  return 'failed-build';
};
