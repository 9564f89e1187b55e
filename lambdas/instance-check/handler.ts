import { createLogger } from '../shared/logger';
import { checkInstance, type Readiness } from './check';

export interface CheckEvent {
  readonly instanceId: string;
  readonly wanted: Readiness;
}

const logger = createLogger('instance-check');

/** "Is Instance Running?" and "Is Agent Online?". */
export const handler = async (event: CheckEvent) => {
  logger.appendKeys({ instanceId: event.instanceId });
  return checkInstance(event.instanceId, event.wanted);
};
