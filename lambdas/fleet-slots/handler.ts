import type { Handler } from 'aws-lambda';
import { measureLine } from '../shared/job-metrics';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-table';
import type { JobFleet } from '../shared/types';
import { free, take, waitInLine, type LinePlace, type SlotState, type WaitOutcome } from './slots';

/** "Take Fleet Slot", "Wait For Fleet Slot" (with its task token), "Free Fleet Slot" and "Leave The Fleet's Line". */
export type SlotEvent =
  | { readonly action: 'take'; readonly fleet: JobFleet; readonly jobId: string; readonly executionName: string; readonly executionArn: string }
  | { readonly action: 'wait'; readonly taskToken: string; readonly line: LinePlace; readonly fleet: JobFleet; readonly jobId: string; readonly executionName: string; readonly executionArn: string }
  | { readonly action: 'free'; readonly fleet: JobFleet; readonly jobId: string; readonly executionName: string; readonly line?: LinePlace | null };

const table = poolTableFromEnv();
const logger = createLogger('fleet-slots');
const metrics = createMetrics('fleet-slots');

export const handler: Handler<SlotEvent, SlotState | WaitOutcome | { resumed: number }> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId, fleet: event.fleet.name });
  switch (event.action) {
    case 'take': {
      const slot = await take(table, event, new Date());
      logger.info(slot.granted ? 'fleet slot taken' : 'no free fleet slot: in line', { position: slot.position });
      measureLine(metrics, event.fleet.name, slot);
      return slot;
    }
    case 'wait': {
      const outcome = await waitInLine(table, event, new Date());
      logger.info('waiting for a fleet slot', { ...outcome });
      return outcome;
    }
    case 'free': {
      const freed = await free(table, event.fleet, event.executionName, new Date(), event.line ?? null);
      logger.info('fleet slot freed', freed);
      return freed;
    }
  }
});
