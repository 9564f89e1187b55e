import type { Handler } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import type { JobRenewal } from '../shared/types';
import { renewJob } from './renew';

const logger = createLogger('renew');

/**
 * "Renew Job" (lambda:invoke.waitForTaskToken): renews the job and returns. The execution then waits
 * until the poller hands it the continuation job through this task's token.
 */
export const handler: Handler<JobRenewal, { renewed: string }> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId, executionName: event.executionName });
  const renewed = await renewJob(event, Date.now());
  logger.info(renewed === 'reported' ? 'job renewed; waiting for its continuation job' : 'the job was renewed already; waiting for its continuation job', { renewed });
  return { renewed };
};
