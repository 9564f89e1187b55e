import type { Handler } from 'aws-lambda';
import { loadLaunchConfig } from '../shared/config';
import { errorCode, errorMessage, THROTTLING_CODES, ThrottledError } from '../shared/errors';
import { measureCapacity } from '../shared/job-metrics';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-table';
import type { BuildJob, JobFleet, LaunchedInstance } from '../shared/types';
import { fleetInstance, type FleetCapacity } from './capacity';
import { ImageCache, launchBuildInstance } from './launch';

export interface LaunchEvent {
  readonly job: BuildJob;
  readonly executionName: string;
}

const config = loadLaunchConfig();
const logger = createLogger('launcher');
const metrics = createMetrics('launcher');
/** Kept while the function stays warm. */
const images = new ImageCache();
const capacity: FleetCapacity = { table: poolTableFromEnv(), log: (message, details) => logger.warn(message, details) };

const hasFleet = (job: BuildJob): job is BuildJob & { fleet: JobFleet } => job.fleet !== null;

/**
 * A call AWS throttled past the SDK's retries becomes Throttled, which the state machine retries with backoff and
 * jitter: a burst of launches slows down instead of failing jobs. A retried launch is the same launch (RunInstances'
 * ClientToken, the execution's claim and slot are its own).
 */
async function throttledAsRetryable<T>(launch: () => Promise<T>): Promise<T> {
  try {
    return await launch();
  } catch (err) {
    if (THROTTLING_CODES.has(errorCode(err))) throw new ThrottledError(`AWS throttled the launch (${errorCode(err)}: ${errorMessage(err)})`, { cause: err });
    throw err;
  }
}

/**
 * "Launch Instance": a fleet's pool member or a launch, a fleet's job holding one of its slots; throws
 * JobConfigurationError, CapacityError, Throttled or NoFreeFleetSlot, which the state machine retries or catches.
 * "Refill The Fleet" follows for a fleet's job.
 */
export const handler: Handler<LaunchEvent, LaunchedInstance> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const { job, executionName } = event;
  const instance = await throttledAsRetryable(() => (hasFleet(job) ? fleetInstance(job, executionName, config, images, capacity) : launchBuildInstance(job, executionName, config, images)));
  logger.info('instance ready for the job', { ...instance });
  measureCapacity(metrics, job, instance);
  return instance;
});
