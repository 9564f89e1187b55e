import type { Handler } from 'aws-lambda';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { refill, type RefillReport } from './refill';
import { loadRefillSettings } from './settings';

/** The launcher's event after a claim names its fleet; a schedule's names none (every fleet). */
export interface RefillEvent {
  readonly fleet?: string;
}

const settings = loadRefillSettings();
const logger = createLogger('pool-refill');
const metrics = createMetrics('pool-refill');

/** Brings the fleets' pools to their sizes; the request id holds the fleets' refill leases while it runs. */
export const handler: Handler<RefillEvent, RefillReport> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const report = await refill(settings, event?.fleet ?? undefined, { holder: context.awsRequestId, logger });
  logger.info('refill done', { report });
  return report;
});
