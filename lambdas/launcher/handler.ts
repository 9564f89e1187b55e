import { loadLaunchConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import type { BuildJob, LaunchedInstance } from '../shared/types';
import { launchBuildInstance } from './launch';

export interface LaunchEvent {
  readonly job: BuildJob;
  readonly executionName: string;
}

const config = loadLaunchConfig();
const logger = createLogger('launcher');

/** "Launch Instance": throws JobConfigurationError or CapacityError, which the state machine catches. */
export const handler = async (event: LaunchEvent): Promise<LaunchedInstance> => {
  logger.appendKeys({ jobId: event.job.jobId });
  const instance = await launchBuildInstance(event.job, event.executionName, config);
  logger.info('instance launched', { ...instance });
  return instance;
};
