/**
 * The stack's metrics: their namespace, dimensions, names and units, shared by the functions that emit them
 * (lambdas/shared/metrics.ts) and the dashboard and alarms that read them (lib/observability.ts), so both always
 * use the same names. No imports: lib/ loads this file in a user's CDK app, which has no Powertools.
 *
 * Units are CloudWatch's (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html,
 * Unit); CloudWatch has none for minutes, so instance-minutes are `None`.
 */

/** One namespace for every stack; the Stack dimension tells two stacks in one account and Region apart. */
export const METRICS_NAMESPACE = 'EC2BuildAction';

/**
 * Dimensions, few and of low cardinality (each value combination is a metric billed on its own:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension): the stack on
 * every metric, and a breakdown by fleet, failure type or function on the metrics that have one. Never a job or
 * instance id. FunctionName is the function's name as Lambda's context object gives it
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html): the value AWS/Lambda's own FunctionName dimension
 * has, one per function of the stack.
 */
export const METRIC_DIMENSIONS = { stack: 'Stack', fleet: 'Fleet', failureType: 'FailureType', functionName: 'FunctionName' } as const;

/** The variable that tells a function its stack's name (lib/lambda-function.ts sets it on every function). */
export const METRICS_STACK_VARIABLE = 'METRICS_STACK';

export type MetricUnitName = 'Count' | 'Milliseconds' | 'None';

export interface MetricSpec {
  readonly name: string;
  readonly unit: MetricUnitName;
  /** The dimension a metric is also broken down by (besides the stack alone), when it has one. */
  readonly breakdown?: typeof METRIC_DIMENSIONS.fleet | typeof METRIC_DIMENSIONS.failureType | typeof METRIC_DIMENSIONS.functionName;
}

/**
 * Every metric a function emits, by the function where the fact is known. A phase's duration is one more entry here
 * and one `add` where the phase ends.
 */
export const METRICS = {
  /** A job reported as succeeded (completion). */
  jobsSucceeded: { name: 'JobsSucceeded', unit: 'Count' },
  /** A job reported as failed (completion), also by its CodePipeline failure type. */
  jobsFailed: { name: 'JobsFailed', unit: 'Count', breakdown: METRIC_DIMENSIONS.failureType },
  /** From the execution's start (right after the STARTED event's poll) to the instance ready for the build command (completion). */
  startLatency: { name: 'StartLatency', unit: 'Milliseconds' },
  /** A job that gave up waiting in its fleet's line past maxQueueMinutes: LineWaitExceeded (completion). */
  lineWaitExceeded: { name: 'LineWaitExceeded', unit: 'Count', breakdown: METRIC_DIMENSIONS.fleet },
  /** A fleet's job that got a pool instance, hot or stopped (launcher). */
  poolHits: { name: 'PoolHits', unit: 'Count', breakdown: METRIC_DIMENSIONS.fleet },
  /** A job that launched its instance cold, with or without a fleet (launcher). */
  coldLaunches: { name: 'ColdLaunches', unit: 'Count', breakdown: METRIC_DIMENSIONS.fleet },
  /** An interruption warning for one of the stack's Spot instances (spot-interruption). */
  spotInterruptions: { name: 'SpotInterruptions', unit: 'Count', breakdown: METRIC_DIMENSIONS.fleet },
  /** Instances the sweeper terminated (0 on a sweep that terminated none). */
  sweeperTerminations: { name: 'SweeperTerminations', unit: 'Count' },
  /** Their minutes from launch to the sweeper's termination: what the leak cost. */
  leakedInstanceMinutes: { name: 'LeakedInstanceMinutes', unit: 'None' },
  /**
   * Jobs in a fleet's line, the newcomer included, when a job that found no free slot at launch joins it (fleet-slots):
   * 0 when a slot was freed meanwhile. Read as the period's maximum.
   */
  jobsWaiting: { name: 'JobsWaiting', unit: 'Count', breakdown: METRIC_DIMENSIONS.fleet },
  /**
   * An invocation that failed with an error no state expects by name (every function, error-metrics.ts): not one of
   * the typed errors the state machine retries or catches as part of its work (errors.ts FAILURE_TYPES), but an SDK
   * error past its retries, a bug, an incomplete sweep. By function.
   */
  unexpectedErrors: { name: 'UnexpectedErrors', unit: 'Count', breakdown: METRIC_DIMENSIONS.functionName },
  /** Each phase of a job, as its result reports them (completion; shared/phases.ts): only the phases the job got to. */
  phaseQueued: { name: 'PhaseQueued', unit: 'Milliseconds' },
  phaseInstanceReady: { name: 'PhaseInstanceReady', unit: 'Milliseconds' },
  phaseStagingIn: { name: 'PhaseStagingIn', unit: 'Milliseconds' },
  phaseBuild: { name: 'PhaseBuild', unit: 'Milliseconds' },
  phaseStagingOut: { name: 'PhaseStagingOut', unit: 'Milliseconds' },
  phaseRelease: { name: 'PhaseRelease', unit: 'Milliseconds' },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;
