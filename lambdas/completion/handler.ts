import type { Handler } from 'aws-lambda';
import { putJobFailure, putJobSuccess } from '../shared/codepipeline';
import { loadBuildLogGroup, loadHoldMinuteSeconds, loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import { JobObjects } from '../shared/job-objects';
import { measureJobResult } from '../shared/job-metrics';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { CompletionInput, JobOutcome } from '../shared/types';
import { executionNameOf } from '../shared/execution-names';
import { jobPhases, type JobPhases } from '../shared/phases';
import { outputVariables } from './exports';
import { holdOutcome } from './hold';
import { decideOutcome, logLinkOf } from './outcome';

const logger = createLogger('completion');
const metrics = createMetrics('completion');
const jobBucket = loadJobBucket();
const holdMinuteSeconds = loadHoldMinuteSeconds();
const logGroup = loadBuildLogGroup();
const forcePathStyle = loadS3ForcePathStyle();
let objects: JobObjects | undefined;
const jobObjects = () => (objects ??= new JobObjects(jobBucket(), forcePathStyle));

/** What CodePipeline was told, whether this call told it, and the job's phase timings (kept in the execution's output). */
export type CompletionResult = JobOutcome & { readonly reported: string; readonly phases: JobPhases; readonly logUrl: string | null; readonly holdUntil?: string };

/** "Report Result": exactly one result per job; a retried call finds the first one standing. */
export const handler: Handler<CompletionInput, CompletionResult> = countingErrors(metrics, async (input, context) => {
  logger.addContext(context);
  const { jobId } = input.state;
  logger.appendKeys({ jobId, executionArn: input.executionArn });
  const now = new Date();
  const phases = jobPhases(input, now);
  let outcome = decideOutcome(input, now, logGroup);
  const logUrl = logLinkOf(input, logGroup);
  if (input.state.held) {
    // The failure was reported when the hold began ("Report Failure And Hold"): one result per job.
    logger.info('job result was reported when its hold began', { holdUntil: input.state.held.holdUntil });
    return { ...outcome, reported: 'reported-before-hold', phases, logUrl };
  }
  let holdUntil: string | undefined;
  if (input.hold) ({ outcome, holdUntil } = holdOutcome(input, outcome, now, holdMinuteSeconds));
  const properties = input.state.job?.properties;
  let variables: Record<string, string> | undefined;
  if (outcome.status === 'Succeeded') {
    const exports = await outputVariables(properties?.exportedVariables, input.executionArn, jobObjects);
    variables = exports.variables;
    outcome = exports.failure ?? outcome;
  }
  const reported =
    outcome.status === 'Succeeded'
      ? await putJobSuccess(jobId, input.executionArn, outcome.summary, variables)
      : await putJobFailure(jobId, outcome.failureType, outcome.message, input.executionArn);
  // Names only: the values are the pipeline's to show, not the log's.
  logger.info('job result reported', { status: outcome.status, reported, ...(outcome.status === 'Failed' ? { failureType: outcome.failureType } : {}), outputVariables: Object.keys(variables ?? {}) });
  if (properties?.environmentVariables?.length || properties?.exportedVariables) {
    // Its environment and its exports; a failure is left to the bucket's expiry.
    await jobObjects().removeExecution(executionNameOf(input.executionArn)).catch((err: Error) => logger.warn('job objects left to the bucket\'s expiry', { reason: err.name }));
  }
  // Counted by the call that reported it: a retried call that finds the result standing counts nothing.
  if (reported === 'reported') measureJobResult(metrics, input, outcome, phases);
  return { ...outcome, reported, phases, logUrl, ...(holdUntil ? { holdUntil } : {}) };
});
