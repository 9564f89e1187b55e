import type { Handler } from 'aws-lambda';
import { countingErrors } from '../shared/error-metrics';
import { measureReportedFailures } from '../shared/job-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-table';
import { ENDED_EXECUTION_FAILURE, jobIdOf, releaseEndedExecution, type EndedExecution, type ReleaseResult } from './release';

/** The part of a "Step Functions Execution Status Change" event this handler reads. */
export interface ExecutionEvent {
  readonly detail: EndedExecution;
}

const logger = createLogger('execution-events');
const metrics = createMetrics('execution-events');
const table = poolTableFromEnv();

/** A build execution ended outside its own Catch: release its instance and fleet slot, fail the job it owned. */
export const handler: Handler<ExecutionEvent, ReleaseResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const { executionArn, status } = event.detail;
  logger.appendKeys({ jobId: jobIdOf(event.detail), executionArn, status });
  const result = await releaseEndedExecution(event.detail, logger, table, new Date());
  // Counted by the call that failed the job: a duplicate event finds its result standing.
  if (result.reported === 'reported') measureReportedFailures(metrics, ENDED_EXECUTION_FAILURE);
  return result;
});
