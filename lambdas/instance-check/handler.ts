import { loadCheckWatchMs } from '../shared/config';
import { createLogger } from '../shared/logger';
import { watchInstance } from './check';

export interface CheckEvent {
  readonly instanceId: string;
}

const watchMs = loadCheckWatchMs();
/**
 * Pause between looks while watching: one DescribeInstanceInformation call per look, 5 a second
 * (fewer calls than the 8 a second of reading EC2 and SSM at every 250 ms look, as this did before).
 */
const INTERVAL_MS = 200;
/** The EC2 state is read every 10 looks (2 s), to stop at once on a lost instance. */
const EC2_EVERY = 10;
const logger = createLogger('instance-check');

/** "Is Instance Ready?": watches the instance until its SSM agent is online, for a while, then hands back. */
export const handler = async (event: CheckEvent) => {
  logger.appendKeys({ instanceId: event.instanceId });
  return watchInstance(event.instanceId, { watchMs, intervalMs: Math.min(INTERVAL_MS, watchMs), ec2Every: EC2_EVERY });
};
