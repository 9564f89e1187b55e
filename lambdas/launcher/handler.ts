import type { Handler } from 'aws-lambda';
import { loadLaunchConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import type { BuildJob, LaunchedInstance } from '../shared/types';
import { ImageCache, launchBuildInstance } from './launch';

export interface LaunchEvent {
  readonly job: BuildJob;
  readonly executionName: string;
}

const config = loadLaunchConfig();
const logger = createLogger('launcher');
/** Kept while the function stays warm. */
const images = new ImageCache();

/** "Launch Instance": throws JobConfigurationError or CapacityError, which the state machine catches. */
export const handler: Handler<LaunchEvent, LaunchedInstance> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const instance = await launchBuildInstance(event.job, event.executionName, config, images);
  logger.info('instance launched', { ...instance });
  return instance;
};
