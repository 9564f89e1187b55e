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

/**
 * "Acknowledge Job", the execution's first step: from here on the job has an owner that will
 * report its result. A stale nonce means another worker owns the job: NotOurs, on which the
 * execution ends ("Is The Job Ours?" goes on with InProgress only) or, for a continuation job, waits
 * for the next handover ("Is The Continuation Job Ours?"). An owned job's environment variables are resolved and
 * stored now, before anything is launched: one it cannot read is its `rejection` (a ConfigurationError naming the
 * variable, reported by "Report Result"). Other errors fail the task, for the state machine to retry (AcknowledgeJob
 * again with the same nonce answers InProgress).
 */
export const handler: Handler<AcknowledgeEvent, AcknowledgeResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId });
  const ack = await acknowledgeJob(event.jobId, event.nonce);
  if (!ack.owned) {
    logger.info('another worker owns this job');
    return { status: 'NotOurs', rejection: null };
  }
  logger.info('job acknowledged', { status: ack.status });
  try {
    if (ack.status === 'InProgress' && event.job && (await storeVariables(event.job, event.executionName ?? ''))) {
      logger.info('build environment stored', { variables: event.job.properties.environmentVariables?.length });
    }
  } catch (err) {
    if (!(err instanceof JobConfigurationError)) throw err;
    // Its message names the variable and the parameter or secret, never a value.
    logger.warn('build environment refused', { reason: err.message });
    return { status: ack.status, rejection: err.message };
  }
  return { status: ack.status, rejection: null };
});
