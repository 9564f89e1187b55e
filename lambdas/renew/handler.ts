import type { Handler } from 'aws-lambda';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { leaveLine, placeInLine, poolTableFromEnv, type PoolTable } from '../shared/pool-table';
import type { JobRenewal } from '../shared/types';
import { renewJob, type Line } from './renew';

const logger = createLogger('renew');
const metrics = createMetrics('renew');
/** The pool table, opened by the first job in a fleet's line (a stack without fleets has none, nor the variable). */
let table: PoolTable | undefined;
const line: Line = {
  placeOf: (l) => placeInLine((table ??= poolTableFromEnv()), l.fleet.name, l.sk),
  leave: (l) => leaveLine((table ??= poolTableFromEnv()), l.fleet.name, l.sk),
};

/**
 * "Renew Job" and "Report Place In Line" (lambda:invoke.waitForTaskToken): renews the job and returns. The execution
 * then waits until the poller hands it the continuation job through this task's token.
 */
export const handler: Handler<JobRenewal, { renewed: string }> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId, executionName: event.executionName });
  const renewed = await renewJob(event, Date.now(), line);
  logger.info(renewed === 'reported' ? 'job renewed; waiting for its continuation job' : 'the job was renewed already; waiting for its continuation job', { renewed, inLine: event.line !== undefined });
  return { renewed };
});
