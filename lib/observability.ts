import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE, type MetricKey } from '../lambdas/shared/metric-names';
import type { FailureType } from '../lambdas/shared/types';

export interface ObservabilityProps {
  /** Every function of the provider: each gets an alarm on its unexpected errors and lines on the dashboard. */
  readonly functions: readonly lambda.IFunction[];
  /** The build state machine: an execution that fails or times out outside its own Catch is an alarm. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * An SNS topic every alarm notifies (in alarm only). A standard topic: CloudWatch alarm actions publish to SNS
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html), and a topic encrypted
   * with a customer managed key must let CloudWatch use the key
   * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
   * @default - no notifications: the alarms show in the console
   */
  readonly alarmTopicArn?: string;
}

/** Every failure type the completion function reports, for the dashboard's breakdown (a Record: none is forgotten). */
const FAILURE_TYPES: Record<FailureType, true> = { ConfigurationError: true, JobFailed: true, SystemUnavailable: true };

/** How much of the builds failed, over this period, before the failed-job alarm fires. */
export const FAILED_JOB_RATE = { threshold: 0.5, period: Duration.hours(1) } as const;

/**
 * The stack's dashboard and alarms, over the metrics its functions emit (lambdas/shared/metric-names.ts: the same
 * names on both sides) and each function's own Errors metric. Alarms: a failed-job rate, any instance the sweeper
 * had to terminate, a job that waited in its fleet's line past maxQueueMinutes (LineWaitExceeded), a build execution
 * that failed or timed out, and any unexpected error of a function. Missing data is "not breaching": a stack that runs no builds is healthy.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const metric = (key: MetricKey, statistic: string, period: Duration, breakdown?: string, label?: string) => {
      const spec: { name: string; breakdown?: string } = METRICS[key];
      return new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: spec.name,
        dimensionsMap: { [METRIC_DIMENSIONS.stack]: stackName, ...(breakdown && spec.breakdown ? { [spec.breakdown]: breakdown } : {}) },
        statistic,
        period,
        // A label only where the graph needs one: an alarm on a labelled metric is rendered as a metric math query.
        ...(label ? { label } : {}),
      });
    };
    const sum = (key: MetricKey, label?: string) => metric(key, 'Sum', Duration.minutes(5), undefined, label);
    const topic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;
    const alarm = (alarmId: string, a: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => {
      const created = new cloudwatch.Alarm(this, alarmId, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...a });
      if (topic) created.addAlarmAction(new actions.SnsAction(topic));
      this.alarms.push(created);
      return created;
    };

    const succeeded = metric('jobsSucceeded', 'Sum', FAILED_JOB_RATE.period);
    const failed = metric('jobsFailed', 'Sum', FAILED_JOB_RATE.period);
    alarm('FailedJobRate', {
      alarmDescription: `More than ${FAILED_JOB_RATE.threshold * 100}% of the builds reported in an hour failed (${stackName}); the dashboard's "Failures by type" says which kind.`,
      // IF keeps an hour without builds at 0 instead of a division by zero.
      metric: new cloudwatch.MathExpression({ expression: 'IF((failed + succeeded) > 0, failed / (failed + succeeded), 0)', usingMetrics: { failed, succeeded }, period: FAILED_JOB_RATE.period, label: 'Failed job rate' }),
      threshold: FAILED_JOB_RATE.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('SweeperTerminated', {
      alarmDescription: `The sweeper terminated an instance of ${stackName} that nothing else had released (its log says which and why).`,
      // The sweeper runs every 15 minutes (lib/safety-nets.ts): one sweep a period.
      metric: metric('sweeperTerminations', 'Sum', Duration.minutes(15)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    alarm('LineWaitExceeded', {
      alarmDescription: `A build of ${stackName} waited in its fleet's line past the fleet's maxQueueMinutes and failed (LineWaitExceeded): raise maxConcurrent or the pools.`,
      metric: sum('lineWaitExceeded'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    // An execution ends FAILED or TIMED_OUT only outside its own Catch (Report Result out of retries, the execution's
    // timeout): the watchdog fails its job, and this says the system broke. AWS/States' ExecutionsFailed and
    // ExecutionsTimedOut by StateMachineArn (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html);
    // a series has no datapoint in a period without such an end, hence FILL
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html). ExecutionsAborted is no
    // alarm: a user's "Stop and abandon" aborts an execution (lambdas/abandon), as the sweeper does for a build
    // CodePipeline no longer waits for; it is graphed.
    const executions = { period: Duration.minutes(5), statistic: 'Sum' };
    const executionsFailed = props.stateMachine.metricFailed({ ...executions, label: 'Failed' });
    const executionsTimedOut = props.stateMachine.metricTimedOut({ ...executions, label: 'Timed out' });
    const executionsAborted = props.stateMachine.metricAborted({ ...executions, label: 'Aborted (Stop and abandon, or stopped by the sweeper)' });
    alarm('ExecutionsFailed', {
      alarmDescription: `A build execution of ${stackName} failed or timed out outside its own Catch; its job was failed for it (SystemUnavailable). The execution's history says which state.`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: { failed: props.stateMachine.metricFailed(executions), timedOut: props.stateMachine.metricTimedOut(executions) },
        period: executions.period,
        label: 'Executions failed or timed out',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    // Each function by its path in the provider (Tasks/Launch, SafetyNets/Sweeper), unique where its id alone is not.
    const within = (fn: lambda.IFunction) => fn.node.path.slice(scope.node.path.length + 1);
    // Not Lambda's Errors: it counts the typed errors the state machine retries or catches as part of its work (a job
    // that joins its fleet's line, a Spot launch retried, a user's configuration error), and would fire when all goes
    // as designed (lambdas/shared/error-metrics.ts). UnexpectedErrors counts the others, by the function's name, the
    // value Lambda's context gives the function at run time and AWS/Lambda's FunctionName dimension holds.
    for (const fn of props.functions) {
      alarm(`${within(fn).replace(/[^A-Za-z0-9]/g, '')}UnexpectedErrors`, {
        alarmDescription: `Function ${within(fn)} of ${stackName} failed an invocation with an error the state machine does not expect (its log group says which).`,
        metric: metric('unexpectedErrors', 'Sum', Duration.minutes(5), fn.functionName),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    const errors = props.functions.map((fn) => fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5), label: within(fn) }));
    const unexpected = props.functions.map((fn) => metric('unexpectedErrors', 'Sum', Duration.minutes(5), fn.functionName, within(fn)));

    const graph = (title: string, left: cloudwatch.IMetric[], right?: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    const latency = (statistic: string) => metric('startLatency', statistic, Duration.minutes(5), undefined, `Start latency ${statistic}`);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [graph('Jobs by outcome', [sum('jobsSucceeded', 'Succeeded'), sum('jobsFailed', 'Failed')]), graph('Failures by type', Object.keys(FAILURE_TYPES).map((t) => metric('jobsFailed', 'Sum', Duration.minutes(5), t, t)))],
        [graph('Start latency (poll to instance ready, ms)', [latency('p50'), latency('p90')]), graph('Capacity: pool hits, cold launches, Spot interruptions', [sum('poolHits'), sum('coldLaunches'), sum('spotInterruptions')])],
        [graph('Sweeper: instances terminated and their instance-minutes', [sum('sweeperTerminations')], [sum('leakedInstanceMinutes')]), graph('Fleet lines: jobs waiting (max) and waits past the bound', [metric('jobsWaiting', 'Maximum', Duration.minutes(5))], [sum('lineWaitExceeded')])],
        [
          graph('Unexpected function errors (the alarms\' metric)', unexpected),
          // Every error Lambda counts, the expected ones included (a job joining its fleet's line, a retried launch): context, not an alarm.
          graph('Function errors as Lambda counts them (expected ones included)', errors),
        ],
        [graph('Build executions that ended outside their own Catch', [executionsFailed, executionsTimedOut, executionsAborted])],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
