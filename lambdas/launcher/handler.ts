import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Handler } from 'aws-lambda';
import { loadLaunchConfig } from '../shared/config';
import { ENV } from '../shared/env';
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
const lambda = new LambdaClient({});
const capacity: FleetCapacity = {
  table: poolTableFromEnv(),
  // InvocationType Event: Lambda queues the event and answers at once (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
  refill: async (fleet) => {
    await lambda.send(new InvokeCommand({ FunctionName: process.env[ENV.refillFunctionName], InvocationType: 'Event', Payload: JSON.stringify({ fleet }) }));
  },
  log: (message, details) => logger.warn(message, details),
};

const hasFleet = (job: BuildJob): job is BuildJob & { fleet: JobFleet } => job.fleet !== null;

/** "Launch Instance": throws JobConfigurationError or CapacityError, which the state machine catches. */
export const handler: Handler<LaunchEvent, LaunchedInstance> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.job.jobId });
  const { job, executionName } = event;
  const instance = hasFleet(job) ? await fleetInstance(job, executionName, config, images, capacity) : await launchBuildInstance(job, executionName, config, images);
  logger.info('instance ready for the job', { ...instance });
  return instance;
};
