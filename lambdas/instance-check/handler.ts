import { loadCheckWatchMs } from '../shared/config';
import { createLogger } from '../shared/logger';
import { watchInstance, type Readiness } from './check';

export interface CheckEvent {
  readonly instanceId: string;
  readonly wanted: Readiness;
}

const watchMs = loadCheckWatchMs();
/** Pause between looks while watching. */
const INTERVAL_MS = 250;
const logger = createLogger('instance-check');

/** "Is Instance Running?" and "Is Agent Online?": watches the instance for a while, then hands back. */
export const handler = async (event: CheckEvent) => {
  logger.appendKeys({ instanceId: event.instanceId });
  return watchInstance(event.instanceId, event.wanted, { watchMs, intervalMs: Math.min(INTERVAL_MS, watchMs) });
};
