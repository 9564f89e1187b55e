import type { Handler } from 'aws-lambda';
import { loadStateMachineArn } from '../shared/config';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { stopAbandonedBuilds, type AbandonedAction } from './stop';

/** The part of an ABANDONED "CodePipeline Action Execution State Change" event this handler reads. */
export interface AbandonEvent {
  readonly detail: AbandonedAction;
}

const stateMachineArn = loadStateMachineArn();
const logger = createLogger('abandon');
const metrics = createMetrics('abandon');

/** "Stop and abandon": stops the build executions of the abandoned action. */
export const handler: Handler<AbandonEvent, { stopped: number }> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const d = event.detail;
  logger.appendKeys({ pipeline: d.pipeline, pipelineExecutionId: d['execution-id'], stage: d.stage, action: d.action });
  return { stopped: await stopAbandonedBuilds(stateMachineArn, d, logger) };
});
