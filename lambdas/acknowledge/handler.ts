import type { Handler } from 'aws-lambda';
import { acknowledgeJob } from '../shared/codepipeline';
import { loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import { JobConfigurationError } from '../shared/errors';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { BuildJob } from '../shared/types';

export interface AcknowledgeEvent {
  readonly jobId: string;
  readonly nonce: string;
  /** The job, on the execution's first acknowledgement (null when the poller rejected it); absent for a continuation job. */
  readonly job?: BuildJob | null;
  /** The execution's name, which names its environment object. */
  readonly executionName?: string;
}

export interface AcknowledgeResult {
  readonly status: string;
  /** Why the job cannot run, found after the poller's checks (a parameter or secret it cannot read); null otherwise. */
  readonly rejection: string | null;
}

const logger = createLogger('acknowledge');
const metrics = createMetrics('acknowledge');
const forcePathStyle = loadS3ForcePathStyle();
const jobBucket = loadJobBucket();
/**
 * Stores the job's environment. Its module (the S3, Parameter Store and Secrets Manager clients) is loaded on the first
 * job that has variables: "Acknowledge Job" is on every job's way to its instance, and a job without variables (most)
 * should not pay for their load in the function's cold start.
 */
async function storeVariables(job: BuildJob, executionName: string): Promise<boolean> {
  const variables = job.properties.environmentVariables;
  if (!variables?.length) return false;
  const { storeWithStackSources } = await import('./store-environment');
  return storeWithStackSources(variables, executionName, jobBucket(), forcePathStyle);
}

/** Deletes the environment object of a job this execution does not own: its values are another execution's to store. */
async function discardVariables(executionName: string): Promise<void> {
  const { discardWithStackSources } = await import('./store-environment');
  await discardWithStackSources(executionName, jobBucket(), forcePathStyle);
}

/** The job's environment, stored; or why it cannot be (a parameter or secret it cannot read, named without a value). */
async function prepareEnvironment(job: BuildJob | null | undefined, executionName: string): Promise<{ readonly stored: boolean; readonly rejection: string | null }> {
  if (!job) return { stored: false, rejection: null };
  try {
    return { stored: await storeVariables(job, executionName), rejection: null };
  } catch (err) {
    if (!(err instanceof JobConfigurationError)) throw err;
    return { stored: false, rejection: err.message };
  }
}

/**
 * "Acknowledge Job", the execution's first step: from here on the job has an owner that will
 * report its result. A stale nonce means another worker owns the job: NotOurs, on which the
 * execution ends ("Is The Job Ours?" goes on with InProgress only) or, for a continuation job, waits
 * for the next handover ("Is The Continuation Job Ours?").
 *
 * A new job's environment variables are resolved and stored first, before anything is launched: one it cannot read
 * is its `rejection` (a ConfigurationError naming the variable, reported by "Report Result"). First, not after the
 * acknowledgement: a failure to store (a throttled read) fails the task for the state machine's retry, which must not
 * acknowledge a second time what the first attempt acknowledged. AcknowledgeJob's reference does not say what a second
 * call with the same nonce answers once the job is InProgress
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_AcknowledgeJob.html); retried now only when
 * the acknowledgement itself failed, as before variables. A job this execution turns out not to own has its object
 * deleted at once. Other errors fail the task, for the state machine to retry.
 */
export const handler: Handler<AcknowledgeEvent, AcknowledgeResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId });
  const executionName = event.executionName ?? '';
  const environment = await prepareEnvironment(event.job, executionName);
  const ack = await acknowledgeJob(event.jobId, event.nonce);
  const ours = ack.owned && ack.status === 'InProgress';
  if (!ours && environment.stored) {
    await discardVariables(executionName);
    logger.info('build environment discarded: the job is not this execution\'s to run');
  }
  if (!ack.owned) {
    logger.info('another worker owns this job');
    return { status: 'NotOurs', rejection: null };
  }
  logger.info('job acknowledged', { status: ack.status });
  if (!ours) return { status: ack.status, rejection: null };
  if (environment.rejection) {
    // Its message names the variable and the parameter or secret, never a value.
    logger.warn('build environment refused', { reason: environment.rejection });
  } else if (environment.stored) {
    logger.info('build environment stored', { variables: event.job?.properties.environmentVariables?.length });
  }
  return { status: ack.status, rejection: environment.rejection };
});
