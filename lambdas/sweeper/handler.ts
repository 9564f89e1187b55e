import type { Handler } from 'aws-lambda';
import { loadFleets, loadStateMachineArn, loadSweeperConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { poolTableFromEnv } from '../shared/pool-table';
import { sweep, type SweepReport } from './sweep';

const sweeper = {
  stateMachineArn: loadStateMachineArn(),
  config: loadSweeperConfig(),
  logger: createLogger('sweeper'),
  pools: { table: poolTableFromEnv(), fleets: loadFleets() },
};

/**
 * On the stack's schedule (an EventBridge scheduled event, whose content it does not need). Lambda
 * passes the context object second: the clock is read here, never taken from an argument.
 */
export const handler: Handler<unknown, SweepReport> = async (_event, context) => {
  sweeper.logger.addContext(context);
  return sweep(sweeper, new Date());
};
