import type { Handler } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { poolTableFromEnv } from '../shared/pool-table';
import type { JobFleet } from '../shared/types';
import { free, take, type TakeOutcome } from './slots';

/** "Take Fleet Slot" (with its task token) and "Free Fleet Slot". */
export type SlotEvent =
  | { readonly action: 'take'; readonly taskToken: string; readonly fleet: JobFleet; readonly jobId: string; readonly executionName: string }
  | { readonly action: 'free'; readonly fleet: JobFleet; readonly jobId: string; readonly executionName: string };

const table = poolTableFromEnv();
const logger = createLogger('fleet-slots');

export const handler: Handler<SlotEvent, TakeOutcome | { resumed: number }> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId, fleet: event.fleet.name });
  if (event.action === 'take') {
    const outcome = await take(table, event, new Date());
    logger.info('fleet slot', { ...outcome });
    return outcome;
  }
  const freed = await free(table, event.fleet, event.executionName, new Date());
  logger.info('fleet slot freed', freed);
  return freed;
};
