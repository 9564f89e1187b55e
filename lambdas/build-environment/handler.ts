import type { Handler } from 'aws-lambda';
import { loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import { errorCode, errorMessage, JobConfigurationError, THROTTLING_CODES, ThrottledError } from '../shared/errors';
import { countingErrors } from '../shared/error-metrics';
import { JobObjects } from '../shared/job-objects';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { secretText } from '../shared/secrets';
import { decryptedParameter } from '../shared/ssm';
import type { BuildJob } from '../shared/types';
import { storeEnvironment } from './store-environment';

export interface StoreEnvironmentEvent {
  /** The acknowledged job; the state machine invokes this only for a job with environment variables. */
  readonly job: BuildJob;
  /** The execution's name, which names its environment object. */
  readonly executionName: string;
}

export interface StoreEnvironmentResult {
  /** Why the job cannot run (a parameter or secret it cannot read, named without a value); null once stored. */
  readonly rejection: string | null;
}

const logger = createLogger('build-environment');
const metrics = createMetrics('build-environment');
const forcePathStyle = loadS3ForcePathStyle();
const jobBucket = loadJobBucket();
let objects: JobObjects | undefined;

/**
 * "Store Build Environment": after "Acknowledge Job" (so the acknowledgement waits for no read, and a failure here never
 * sends AcknowledgeJob again) and before anything is launched, resolves the job's environment variables and writes them
 * as the execution's object in the job bucket. A parameter or secret the job cannot read is its `rejection`, a
 * ConfigurationError naming the variable that "Report Result" reports. Any other error (a throttled read, S3 refusing
 * the write) fails the task: the state machine retries it, then catches it and reports the job as SystemUnavailable,
 * with nothing launched.
 */
export const handler: Handler<StoreEnvironmentEvent, StoreEnvironmentResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const variables = event.job.properties.environmentVariables ?? [];
  objects ??= new JobObjects(jobBucket(), forcePathStyle);
  let stored: boolean;
  try {
    stored = await storeEnvironment(variables, event.executionName, objects, { parameter: decryptedParameter, secret: secretText });
  } catch (err) {
    // Throttling is the account's passing state, not a fault of this function: a typed error (not counted as an
    // unexpected one, so its alarm stays quiet while the state machine's retries absorb it).
    if (THROTTLING_CODES.has(errorCode(err))) throw new ThrottledError(`AWS throttled reading or storing the build's environment (${errorCode(err)}: ${errorMessage(err)})`, { cause: err });
    if (!(err instanceof JobConfigurationError)) throw err;
    // Its message names the variable and the parameter or secret, never a value.
    logger.warn('build environment refused', { reason: err.message });
    return { rejection: err.message };
  }
  if (stored) logger.info('build environment stored', { variables: variables.length });
  return { rejection: null };
});
