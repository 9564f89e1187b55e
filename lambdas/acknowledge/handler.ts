import { InvalidNonceException } from '@aws-sdk/client-codepipeline';
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
 * report its result. A stale nonce means another worker owns the job: the execution then ends.
 */
export const handler: Handler<AcknowledgeEvent, { status: string }> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId });
  try {
    const status = (await acknowledgeJob(event.jobId, event.nonce)) ?? 'Unknown';
    logger.info('job acknowledged', { status });
    return { status };
  } catch (err) {
    if (!(err instanceof InvalidNonceException)) throw err;
    logger.info('another worker owns this job');
    return { status: 'NotOurs' };
  }
};
