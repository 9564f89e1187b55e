import type { Handler } from 'aws-lambda';
import { loadStateMachineArn } from '../shared/config';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { isRunningStatus } from '../shared/types';
import { deliverResult } from './result';

/**
 * The part of an "EC2 Command Invocation Status-change Notification" event this handler reads
 * (detail: command-id, document-name, instance-id, requested-date-time, status:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html).
 */
export interface CommandEvent {
  readonly detail: { readonly 'command-id': string; readonly 'instance-id': string; readonly status: string };
}

export type CommandEventResult = 'resumed' | 'stale' | 'ignored';

const stateMachineArn = loadStateMachineArn();
const logger = createLogger('command-events');
const metrics = createMetrics('command-events');

/**
 * Resumes the state machine when a build command finishes, so waiting costs no polling:
 * the task token travels as the command's TaskToken parameter.
 */
export const handler: Handler<CommandEvent, CommandEventResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const { 'command-id': commandId, 'instance-id': instanceId, status } = event.detail;
  logger.appendKeys({ commandId, instanceId, status });
  if (isRunningStatus(status)) return 'ignored';
  const delivery = await deliverResult(commandId, instanceId, status, stateMachineArn);
  if (delivery.outcome === 'ignored') {
    logger.info('command was not sent by a build execution; ignoring');
    return 'ignored';
  }
  logger.info(delivery.outcome === 'resumed' ? 'build execution resumed' : 'the waiting task had already ended', { exitCode: delivery.exitCode });
  return delivery.outcome;
});
