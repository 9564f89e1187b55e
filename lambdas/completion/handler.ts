import { putJobFailure, putJobSuccess } from '../shared/codepipeline';
import { createLogger } from '../shared/logger';
import type { CompletionInput } from '../shared/types';
import { decideOutcome } from './outcome';

const logger = createLogger('completion');

/** "Report Result": exactly one result per job; a retried call finds the first one standing. */
export const handler = async (input: CompletionInput) => {
  const { jobId } = input.state;
  logger.appendKeys({ jobId, executionArn: input.executionArn });
  const outcome = decideOutcome(input);
  const reported =
    outcome.status === 'Succeeded'
      ? await putJobSuccess(jobId, input.executionArn, outcome.summary)
      : await putJobFailure(jobId, outcome.failureType, outcome.message, input.executionArn);
  logger.info('job result reported', { status: outcome.status, reported, ...(outcome.status === 'Failed' ? { failureType: outcome.failureType } : {}) });
  return { ...outcome, reported };
};
