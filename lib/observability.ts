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
  /** Minutes between two sweeps (SafetyNets.sweepMinutes): the sweeper alarm's period, one sweep each. */
  readonly sweepMinutes: number;
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

/**
 * The system failure rate alarm: the share of the jobs reported over the period that failed as SystemUnavailable (the
 * provider's own failures: capacity, a lost instance of AWS's, an execution that ended outside its Catch), once the
 * period has at least `minJobs` jobs. Users' red builds (JobFailed) and settings (ConfigurationError) are theirs to
 * fix, not the operator's; they are on the dashboard. A quiet hour's single failure is not a rate.
 */
export const SYSTEM_FAILURE_RATE = { threshold: 0.5, minJobs: 5, period: Duration.hours(1) } as const;

/**
 * How the alarms on the functions' embedded-metric-format metrics evaluate: any 1 of the last 2 periods. A function's
 * line reaches CloudWatch through its log, whose flush Lambda controls: AWS recommends "M out of N" alarms there
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html), so a
 * datapoint that lands late is still seen by the next evaluation.
 */
const EMF_EVALUATION = { evaluationPeriods: 2, datapointsToAlarm: 1 } as const;

/**
 * The stack's dashboard and alarms, over the metrics its functions emit (lambdas/shared/metric-names.ts: the same
 * names on both sides) and each function's own Errors metric. Alarms: the system failure rate, any instance the sweeper
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

    const hourly = SYSTEM_FAILURE_RATE.period;
    const jobs = { failed: metric('jobsFailed', 'Sum', hourly), succeeded: metric('jobsSucceeded', 'Sum', hourly) };
    // The {Stack, FailureType} series has no datapoint in an hour without such a failure, and neither series in an hour
    // without jobs: FILL makes them 0 (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html),
    // and IF keeps a quiet hour at 0 instead of a division by zero or a rate of one job.
    const total = 'FILL(failed, 0) + FILL(succeeded, 0)';
    alarm('SystemFailureRate', {
      alarmDescription: `More than ${SYSTEM_FAILURE_RATE.threshold * 100}% of the builds reported in an hour (at least ${SYSTEM_FAILURE_RATE.minJobs}) failed as SystemUnavailable, the provider's own failures (${stackName}); users' failing builds do not count. The dashboard's "Failures by type" and the function logs say more.`,
      metric: new cloudwatch.MathExpression({
        expression: `IF((${total}) >= ${SYSTEM_FAILURE_RATE.minJobs}, FILL(system, 0) / (${total}), 0)`,
        usingMetrics: { ...jobs, system: metric('jobsFailed', 'Sum', hourly, 'SystemUnavailable') },
        period: hourly,
        label: 'System failure rate',
      }),
      threshold: SYSTEM_FAILURE_RATE.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...EMF_EVALUATION,
    });
    alarm('SweeperTerminated', {
      alarmDescription: `The sweeper terminated an instance of ${stackName} that nothing else had released (its log says which and why).`,
      // One sweep a period.
      metric: metric('sweeperTerminations', 'Sum', Duration.minutes(props.sweepMinutes)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...EMF_EVALUATION,
    });
    alarm('LineWaitExceeded', {
      alarmDescription: `A build of ${stackName} waited in its fleet's line past the fleet's maxQueueMinutes and failed (LineWaitExceeded): raise maxConcurrent or the pools.`,
      metric: sum('lineWaitExceeded'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...EMF_EVALUATION,
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
        ...EMF_EVALUATION,
      });
    }
    const errors = props.functions.map((fn) => fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5), label: within(fn) }));
    const unexpected = props.functions.map((fn) => metric('unexpectedErrors', 'Sum', Duration.minutes(5), fn.functionName, within(fn)));

    // Beside the alarm's rate, every failure type's: users' red builds included, for context.
    const hourlyRate = (label: string, failures: string) => new cloudwatch.MathExpression({ expression: `IF((${total}) > 0, ${failures} / (${total}), 0)`, usingMetrics: { ...jobs, system: metric('jobsFailed', 'Sum', hourly, 'SystemUnavailable') }, period: hourly, label });
    const failedRate = hourlyRate('Failed job rate, every type', 'FILL(failed, 0)');
    const systemRate = hourlyRate('System failure rate (SystemUnavailable)', 'FILL(system, 0)');
    const graph = (title: string, left: cloudwatch.IMetric[], right?: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    const latency = (statistic: string) => metric('startLatency', statistic, Duration.minutes(5), undefined, `Start latency ${statistic}`);
    const phase = (key: MetricKey, label: string) => metric(key, 'p50', Duration.minutes(5), undefined, label);
    const phases = [phase('phaseQueued', 'queued'), phase('phaseInstanceReady', 'instance ready'), phase('phaseStagingIn', 'input staged'), phase('phaseBuild', 'build'), phase('phaseStagingOut', 'output staged'), phase('phaseRelease', 'released')];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [graph('Jobs by outcome; hourly failed rates (right)', [sum('jobsSucceeded', 'Succeeded'), sum('jobsFailed', 'Failed')], [failedRate, systemRate]), graph('Failures by type', Object.keys(FAILURE_TYPES).map((t) => metric('jobsFailed', 'Sum', Duration.minutes(5), t, t)))],
        [graph('Start latency (poll to instance ready, ms)', [latency('p50'), latency('p90')]), graph('Capacity: pool hits, cold launches, Spot interruptions', [sum('poolHits'), sum('coldLaunches'), sum('spotInterruptions')])],
        [graph('Sweeper: instances terminated and their instance-minutes', [sum('sweeperTerminations')], [sum('leakedInstanceMinutes')]), graph('Fleet lines: jobs waiting (max) and waits past the bound', [metric('jobsWaiting', 'Maximum', Duration.minutes(5))], [sum('lineWaitExceeded')])],
        [new cloudwatch.GraphWidget({ title: 'Phases of a job (p50, ms)', left: phases, stacked: true, width: 24, height: 6 })],
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
