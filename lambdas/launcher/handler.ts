import type { Handler } from 'aws-lambda';
import { loadLaunchConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
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
/** Kept while the function stays warm. */
const images = new ImageCache();
const capacity: FleetCapacity = { table: poolTableFromEnv(), log: (message, details) => logger.warn(message, details) };

const hasFleet = (job: BuildJob): job is BuildJob & { fleet: JobFleet } => job.fleet !== null;

/**
 * "Launch Instance": a fleet's pool member or a launch, a fleet's job holding one of its slots; throws
 * JobConfigurationError, CapacityError or NoFreeFleetSlot, which the state machine catches. "Refill The Fleet"
 * follows for a fleet's job.
 */
export const handler: Handler<LaunchEvent, LaunchedInstance> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const { job, executionName } = event;
  const instance = hasFleet(job) ? await fleetInstance(job, executionName, config, images, capacity) : await launchBuildInstance(job, executionName, config, images);
  logger.info('instance ready for the job', { ...instance });
  return instance;
};
