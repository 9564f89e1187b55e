import type { Handler } from 'aws-lambda';
import { loadLaunchConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { NoFreeFleetSlotError } from '../shared/errors';
import { poolTableFromEnv, takeSlot } from '../shared/pool-table';
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
 * A fleet's job takes one of its slots before anything is claimed or launched, in the same invocation (a state and a
 * function call fewer on the way to a build than a state of its own). Taking it again (a retried launch, a Spot
 * rerun, a job the line resumed) is harmless: takeSlot admits its holder. None free: NoFreeFleetSlot, and the state
 * machine puts the job in line ("Take Fleet Slot").
 */
async function takeFleetSlot(fleet: JobFleet, executionName: string): Promise<void> {
  if (await takeSlot(capacity.table, fleet.name, executionName, fleet.maxConcurrent)) return;
  throw new NoFreeFleetSlotError(`every one of fleet ${JSON.stringify(fleet.name)}'s ${fleet.maxConcurrent} slots (maxConcurrent) is taken`);
}

/**
 * "Launch Instance": a fleet's pool member or a launch; throws JobConfigurationError or CapacityError, which the state
 * machine catches. "Refill The Fleet" follows for a fleet's job.
 */
export const handler: Handler<LaunchEvent, LaunchedInstance> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const { job, executionName } = event;
  if (hasFleet(job)) await takeFleetSlot(job.fleet, executionName);
  const instance = hasFleet(job) ? await fleetInstance(job, executionName, config, images, capacity) : await launchBuildInstance(job, executionName, config, images);
  logger.info('instance ready for the job', { ...instance });
  return instance;
};
