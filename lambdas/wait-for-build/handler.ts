import type { Handler } from 'aws-lambda';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { BuildWait } from '../shared/types';
import { waitForBuild, type WaitOutcome } from './wait';

const logger = createLogger('wait-for-build');
const metrics = createMetrics('wait-for-build');

/** "Wait For Build" (lambda:invoke.waitForTaskToken): resumes its own token if the build already finished, else returns. */
export const handler: Handler<BuildWait, { outcome: WaitOutcome }> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ instanceId: event.instanceId, executionName: event.executionName });
  const outcome = await waitForBuild(event, Date.now());
  logger.info(outcome === 'resumed' ? 'the build had finished; execution resumed' : 'the build is still running; its status event resumes the execution');
  return { outcome };
});
