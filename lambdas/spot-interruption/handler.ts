import type { Handler } from 'aws-lambda';
import { loadStackTagValue, loadStateMachineArn } from '../shared/config';
import { measureInterruption } from '../shared/job-metrics';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-table';
import { handleInterruption, type InterruptionOutcome, type InterruptionWarning } from './interrupt';

const context = { stackTagValue: loadStackTagValue(), stateMachineArn: loadStateMachineArn(), table: poolTableFromEnv() };
const logger = createLogger('spot-interruption');
const metrics = createMetrics('spot-interruption');

/** On EC2's Spot interruption warnings (an EventBridge rule): reruns the build on on-demand, counts the interruption. */
export const handler: Handler<InterruptionWarning, InterruptionOutcome> = countingErrors(metrics, async (event, lambdaContext) => {
  logger.addContext(lambdaContext);
  const outcome = await handleInterruption(event, context, new Date());
  logger.info('spot interruption warning', { instanceId: event.detail?.['instance-id'], ...outcome });
  measureInterruption(metrics, outcome);
  return outcome;
});
