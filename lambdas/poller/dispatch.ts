import type { Job } from '@aws-sdk/client-codepipeline';
import type { Logger } from '@aws-lambda-powertools/logger';
import { errorCode, errorMessage, JobConfigurationError } from '../shared/errors';
import { buildExecutionName } from '../shared/execution-names';
import type { Fleet } from '../shared/fleets';
import { startBuildExecution } from '../shared/sfn';
import type { ExecutionInput } from '../shared/types';
import { handContinuation } from './continuation';
import { NO_SCOPE, toBuildJob, type RenewalPlan } from './job';
import type { EnvironmentScope } from '../shared/build-environment';

export type DispatchOutcome = 'started' | 'rejected' | 'duplicate' | 'not-started' | 'continued' | 'continuation-failed';

/**
 * One execution per dispatch of a job: the same poll (a duplicate event) maps to the same name and
 * starts nothing twice; a job CodePipeline offers again (with a new nonce) gets a fresh execution. The name also
 * carries its action's key, for "Stop and abandon" (lambdas/shared/execution-names.ts).
 */
export function executionName(jobId: string, nonce: string, pipeline?: ExecutionInput['pipeline']): string {
  return buildExecutionName(jobId, nonce, pipeline);
}

/** Builds the execution's input: the checked job, or the reason its properties are wrong. */
export function executionInput(job: Job, renewal?: RenewalPlan, fleets: Readonly<Record<string, Fleet>> = {}, scope: EnvironmentScope = NO_SCOPE, holdMinutes = 0): ExecutionInput {
  const jobId = job.id ?? '';
  const nonce = job.nonce ?? '';
  const context = job.data?.pipelineContext;
  const pipeline = {
    name: context?.pipelineName ?? '',
    executionId: context?.pipelineExecutionId ?? '',
    stage: context?.stage?.name ?? '',
    action: context?.action?.name ?? '',
    ...(context?.action?.actionExecutionId ? { actionExecutionId: context.action.actionExecutionId } : {}),
  };
  try {
    return { jobId, pipeline, nonce, job: toBuildJob(job, renewal, fleets, scope, holdMinutes), rejection: null };
  } catch (err) {
    if (!(err instanceof JobConfigurationError)) throw err;
    return { jobId, pipeline, nonce, job: null, rejection: err.message };
  }
}

/**
 * Takes one polled job: check its properties and start its execution, which acknowledges it.
 * If the start fails the job stays unacknowledged: CodePipeline offers it again to the next poll.
 * A continuation job goes to the execution whose build it continues (./continuation.ts).
 */
export async function dispatchJob(
  job: Job,
  stateMachineArn: string,
  logger: Logger,
  renewalSeconds: number,
  now = new Date(),
  fleets: Readonly<Record<string, Fleet>> = {},
  scope: EnvironmentScope = NO_SCOPE,
  holdMinutes = 0,
): Promise<DispatchOutcome> {
  if (job.data?.continuationToken) return handContinuation(job, stateMachineArn, renewalSeconds, logger, now.getTime());
  const input = executionInput(job, { polledAt: now, seconds: renewalSeconds }, fleets, scope, holdMinutes);
  const name = executionName(input.jobId, input.nonce, input.pipeline);
  try {
    const started = await startBuildExecution(stateMachineArn, name, input);
    logger.info(started.alreadyStarted ? 'execution already started for this dispatch' : 'execution started', {
      jobId: input.jobId,
      executionArn: started.executionArn,
      ...(input.rejection ? { rejection: input.rejection } : {}),
    });
    if (started.alreadyStarted) return 'duplicate';
    return input.rejection ? 'rejected' : 'started';
  } catch (err) {
    logger.error('could not start the execution; CodePipeline will offer the job again', { jobId: input.jobId, reason: `${errorCode(err)}: ${errorMessage(err)}` });
    return 'not-started';
  }
}
