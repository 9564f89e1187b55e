import type { Handler } from 'aws-lambda';
import { loadFleets, loadStateMachineArn, loadSweeperConfig } from '../shared/config';
import { measureSweep } from '../shared/job-metrics';
import { ENDED_EXECUTION_FAILURE } from '../execution-events/release';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-table';
import { sweep, SweepIncompleteError, type SweepReport } from './sweep';

const sweeper = {
  stateMachineArn: loadStateMachineArn(),
  config: loadSweeperConfig(),
  logger: createLogger('sweeper'),
  pools: { table: poolTableFromEnv(), fleets: loadFleets() },
};
const metrics = createMetrics('sweeper');

/**
 * On the stack's schedule (an EventBridge scheduled event, whose content it does not need). Lambda
 * passes the context object second: the clock is read here, never taken from an argument.
 */
export const handler: Handler<unknown, SweepReport> = countingErrors(metrics, async (_event, context) => {
  sweeper.logger.addContext(context);
  try {
    const report = await sweep(sweeper, new Date());
    measureSweep(metrics, report, ENDED_EXECUTION_FAILURE);
    return report;
  } catch (err) {
    // An incomplete sweep still terminated what it could: counted before its error goes up.
    if (err instanceof SweepIncompleteError && err.report) measureSweep(metrics, err.report, ENDED_EXECUTION_FAILURE);
    throw err;
  }
});
