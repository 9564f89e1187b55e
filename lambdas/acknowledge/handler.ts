import type { Handler } from 'aws-lambda';
import { acknowledgeJob } from '../shared/codepipeline';
import { createLogger } from '../shared/logger';

export interface AcknowledgeEvent {
  readonly jobId: string;
  readonly nonce: string;
}

const logger = createLogger('acknowledge');

/**
 * "Acknowledge Job", the execution's first step: from here on the job has an owner that will
 * report its result. A stale nonce means another worker owns the job: NotOurs, on which the
 * execution ends ("Is The Job Ours?" goes on with InProgress only) or, for a continuation job, waits
 * for the next handover ("Is The Continuation Job Ours?"). Other errors fail the task, for the state
 * machine to retry.
 */
export const handler: Handler<AcknowledgeEvent, { status: string }> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId });
  const ack = await acknowledgeJob(event.jobId, event.nonce);
  if (!ack.owned) {
    logger.info('another worker owns this job');
    return { status: 'NotOurs' };
  }
  logger.info('job acknowledged', { status: ack.status });
  return { status: ack.status };
};
