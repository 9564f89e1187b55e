import type { Handler } from 'aws-lambda';
import { loadStateMachineArn } from '../shared/config';
import { createLogger } from '../shared/logger';
import { stopAbandonedBuilds, type AbandonedAction } from './stop';

/** The part of an ABANDONED "CodePipeline Action Execution State Change" event this handler reads. */
export interface AbandonEvent {
  readonly detail: AbandonedAction;
}

const stateMachineArn = loadStateMachineArn();
const logger = createLogger('abandon');

/** "Stop and abandon": stops the build executions of the abandoned action. */
export const handler: Handler<AbandonEvent, { stopped: number }> = async (event, context) => {
  logger.addContext(context);
  const d = event.detail;
  logger.appendKeys({ pipeline: d.pipeline, pipelineExecutionId: d['execution-id'], stage: d.stage, action: d.action });
  return { stopped: await stopAbandonedBuilds(stateMachineArn, d, logger) };
};
