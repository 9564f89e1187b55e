import { InvalidNonceException, type Job } from '@aws-sdk/client-codepipeline';
import type { Logger } from '@aws-lambda-powertools/logger';
import { acknowledgeJob, putJobFailure } from '../shared/codepipeline';
import { errorCode, errorMessage, JobConfigurationError } from '../shared/errors';
import { startBuildExecution } from '../shared/sfn';
import type { ExecutionInput } from '../shared/types';
import { toBuildJob } from './job';

export type DispatchOutcome = 'started' | 'duplicate' | 'rejected' | 'not-started' | 'not-ours';

/**
 * Takes one polled job: acknowledge it, check its properties, start its build.
 * Once acknowledged, every path either starts the execution or reports a result.
 */
export async function dispatchJob(job: Job, stateMachineArn: string, logger: Logger): Promise<DispatchOutcome> {
  const jobId = job.id ?? '';
  let status: string | undefined;
  try {
    status = await acknowledgeJob(jobId, job.nonce ?? '');
  } catch (err) {
    if (err instanceof InvalidNonceException) {
      logger.info('another poller acknowledged this job first', { jobId });
      return 'not-ours';
    }
    throw err;
  }
  if (status !== 'InProgress') {
    logger.info('job is not in progress after acknowledging; leaving it', { jobId, status });
    return 'not-ours';
  }

  let input: ExecutionInput;
  try {
    input = { job: toBuildJob(job) };
  } catch (err) {
    if (!(err instanceof JobConfigurationError)) throw err;
    logger.warn('rejecting job with invalid configuration', { jobId, reason: err.message });
    await putJobFailure(jobId, 'ConfigurationError', err.message);
    return 'rejected';
  }

  try {
    const started = await startBuildExecution(stateMachineArn, jobId, input);
    logger.info(started.alreadyStarted ? 'build already started' : 'build started', { jobId, executionArn: started.executionArn });
    return started.alreadyStarted ? 'duplicate' : 'started';
  } catch (err) {
    const reason = `${errorCode(err)}: ${errorMessage(err)}`;
    logger.error('could not start the build execution', { jobId, reason });
    await putJobFailure(jobId, 'SystemUnavailable', `The build could not start: Step Functions StartExecution failed (${reason}). Retry the stage; if it persists, check the stack's state machine and its quotas.`);
    return 'not-started';
  }
}
