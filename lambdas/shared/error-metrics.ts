import type { Context, Handler } from 'aws-lambda';
import { failureTypeOf } from './errors';
import type { BuildMetrics } from './metrics';

/**
 * Whether a thrown error is one the system expects: a typed error (errors.ts FAILURE_TYPES) that the state machine
 * retries or catches by name as part of its work (NoFreeFleetSlot puts a job in its fleet's line, CapacityError and
 * Throttled are retried, InstanceNotReady while an instance boots, a user's JobConfigurationError or a build past its
 * time). Lambda counts each of them in its Errors metric ("Function errors include exceptions that your code throws":
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), so that metric is no alarm: it rises
 * whenever a job waits in line or a Spot launch is retried.
 */
export function isExpectedError(err: unknown): boolean {
  const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' && failureTypeOf(name) !== undefined;
}

/**
 * A handler that counts its unexpected errors: any other error it throws adds one UnexpectedErrors, by the stack and
 * by the function's name (Lambda's context object: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html),
 * which the stack's alarms read; the error still goes up, for Lambda and the state machine to handle as before. Every
 * invocation ends with a flush of what the function recorded, error or not.
 *
 * Not seen here: an invocation Lambda ends from outside (its timeout, memory) and a module that fails to load, since
 * no handler code runs then ("If your function times out before it flushes its metrics, CloudWatch Logs does not
 * capture the metrics for that invocation":
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html). The
 * state machine's tasks that end so fail their job or their execution, which the failed-job and failed-execution
 * alarms see; Lambda's Errors graph on the dashboard shows them all.
 */
export function countingErrors<E, R>(metrics: BuildMetrics, run: (event: E, context: Context) => Promise<R>): Handler<E, R> {
  return async (event: E, context: Context): Promise<R> => {
    try {
      return await run(event, context);
    } catch (err) {
      if (!isExpectedError(err)) metrics.add('unexpectedErrors', 1, context.functionName);
      throw err;
    } finally {
      metrics.publish();
    }
  };
}
