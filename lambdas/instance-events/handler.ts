import type { Handler } from 'aws-lambda';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-store';
import { getWaiters, markRunning, takeWaiter } from '../shared/readiness-table';
import { failTask } from '../shared/sfn';

/**
 * EC2's "EC2 Instance State-change Notification" (source aws.ec2; detail `instance-id` and `state`:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html). EventBridge cannot
 * match an instance's tags, so every instance of the account comes here; only those a build waits for are in the
 * readiness table, and for any other the conditional write changes nothing.
 */
export interface StateChangeEvent {
  /** When the state changed (EventBridge's `time`, whole seconds). */
  readonly time?: string;
  readonly detail?: { readonly 'instance-id'?: string; readonly state?: string };
}

export type StateChangeOutcome = 'marked-running' | 'failed-build' | 'not-waited-for' | 'older-than-the-wait';

/**
 * EventBridge delivers EC2's events at least once and in no set order, and Lambda retries a failed asynchronous
 * invocation minutes later (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-delivery-level.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a "stopped" event of a stopped
 * pool member, sent when the refill stopped it, can arrive after a build claimed and started it. Only a change at or
 * after the build's registration fails it (with a second of slack: the event's time has whole seconds).
 */
const TIME_SLACK_MS = 1000;

/** States after which an instance cannot become ready: its waiting build fails with InstanceLost. */
export const LOST_STATES: ReadonlySet<string> = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

const table = poolTableFromEnv();
const logger = createLogger('instance-events');
const metrics = createMetrics('instance-events');

/** Marks a waiting build's instance running (the watcher then asks for its agent), or fails the build at once when it is lost. */
export const handler: Handler<StateChangeEvent, StateChangeOutcome> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const instanceId = event?.detail?.['instance-id'];
  const state = event?.detail?.state;
  if (!instanceId || !state) return 'not-waited-for';
  if (state === 'running') return (await markRunning(table, instanceId)) ? 'marked-running' : 'not-waited-for';
  if (!LOST_STATES.has(state)) return 'not-waited-for';
  const [waiter] = await getWaiters(table, [instanceId]);
  if (!waiter) return 'not-waited-for';
  const changedAt = event.time ? Date.parse(event.time) : NaN;
  if (changedAt + TIME_SLACK_MS < Date.parse(waiter.registeredAt)) return 'older-than-the-wait';
  // Settled first, taken out after: Step Functions settles a token once, and a crash between the two leaves the waiter
  // for the watcher (whose safety net finds the lost instance), never a build without anyone to settle it.
  await failTask(waiter.taskToken, 'InstanceLost', `instance ${instanceId} is ${state} before the build finished starting`);
  await takeWaiter(table, instanceId, waiter.taskToken);
  logger.info('build failed: its instance is lost', { instanceId, state, execution: waiter.executionName });
  return 'failed-build';
});
