import type { Handler } from 'aws-lambda';
import { putJobFailure, putJobSuccess } from '../shared/codepipeline';
import { createLogger } from '../shared/logger';
import type { CompletionInput, JobOutcome } from '../shared/types';
import { decideOutcome } from './outcome';

const logger = createLogger('completion');

export type CompletionResult = JobOutcome & { readonly reported: string };

/** "Report Result": exactly one result per job; a retried call finds the first one standing. */
export const handler: Handler<CompletionInput, CompletionResult> = async (input, context) => {
  logger.addContext(context);
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
