import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Ec2BuildProvider, PropValueError, type Ec2BuildProviderProps } from '../../lib';
import { CONTEXT, ContextValueError, readSettings } from '../../lib/context';
import { METRICS, METRICS_NAMESPACE, METRICS_STACK_VARIABLE } from '../../lambdas/shared/metric-names';
import { alarmMetrics, dashboardMetrics, type MetricRef } from './dashboard-metrics';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:build-alarms';
const templateOf = (props: Ec2BuildProviderProps = {}) => Template.fromStack(Stack.of(new Ec2BuildProvider(new Stack(new App(), 'Builds'), 'Ec2Builds', props)));
const spot = { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], market: 'spot', hotPool: 1, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5 } as const;

describe('the stack\'s dashboard and alarms', () => {
  // One synth for the tests that only read it: a stack with a Spot fleet has every function.
  let template: Template;
  beforeAll(() => {
    template = templateOf({ fleets: { spot }, alarmTopicArn: TOPIC });
  });

  const ours = (refs: MetricRef[]) => refs.filter((r) => r.namespace === METRICS_NAMESPACE);

  it('shows on one dashboard every metric the functions emit, each by the stack it runs in', () => {
    const refs = ours(dashboardMetrics(template.toJSON().Resources));
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Every name it reads is one the metrics module defines (and so one a function emits: test/local/metrics-cli.test.ts).
    const names = Object.values(METRICS).map((m) => m.name);
    expect(new Set(refs.map((r) => r.name))).toEqual(new Set(names));
    for (const r of refs) expect(r.dimensions.Stack).toBe('Builds');
    // Failures by type: one line per failure type the completion function reports.
    expect([...new Set(refs.filter((r) => r.dimensions.FailureType).map((r) => r.dimensions.FailureType))].sort()).toEqual(['ConfigurationError', 'JobFailed', 'SystemUnavailable']);
  });

  it('alarms on the unexpected errors of every function, and graphs Lambda\'s Errors without an alarm on them', () => {
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(10);
    const expected = functions.map((id) => JSON.stringify({ Ref: id })).sort();
    // The dashboard's references are placeholders (dashboard-metrics.ts): REF:{Ref:Id}.
    const ref = (v: unknown) => JSON.stringify(v).replace(/^"REF:\{Ref:(.*)\}"$/, '{"Ref":"$1"}');
    const byFunction = (refs: MetricRef[], namespace: string, name: string) => refs.filter((r) => r.namespace === namespace && r.name === name).map((r) => ref(r.dimensions.FunctionName)).sort();
    const alarms = alarmMetrics(template.toJSON().Resources);
    const dashboard = dashboardMetrics(template.toJSON().Resources);
    // Lambda's Errors counts the typed errors the state machine catches as part of its work (a job joining its
    // fleet's line): never an alarm, a graph only.
    expect(byFunction(alarms, 'AWS/Lambda', 'Errors')).toEqual([]);
    expect(byFunction(dashboard, 'AWS/Lambda', 'Errors')).toEqual(expected);
    expect(byFunction(alarms, METRICS_NAMESPACE, METRICS.unexpectedErrors.name)).toEqual(expected);
    expect(byFunction(dashboard, METRICS_NAMESPACE, METRICS.unexpectedErrors.name)).toEqual(expected);
    for (const r of alarms.filter((x) => x.name === METRICS.unexpectedErrors.name)) expect(Object.keys(r.dimensions).sort()).toEqual(['FunctionName', 'Stack']);
  });

  it('alarms on the rate of the system\'s own failures over at least 5 jobs, any instance the sweeper terminated and a wait in line past its bound', () => {
    // GIVEN the rate alarm: SystemUnavailable failures only, over every job reported, from 5 jobs in the hour
    const rate = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => JSON.stringify(a.Properties.Metrics ?? []).includes('FILL(system, 0)'));
    expect(rate).toBeDefined();
    const metrics = rate!.Properties.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF((FILL(failed, 0) + FILL(succeeded, 0)) >= 5, FILL(system, 0) / (FILL(failed, 0) + FILL(succeeded, 0)), 0)');
    const dims = (d: { Name: string; Value: string }[]) => Object.fromEntries(d.map((x) => [x.Name, x.Value]));
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, { name: m.MetricStat!.Metric.MetricName, dimensions: dims(m.MetricStat!.Metric.Dimensions), period: m.MetricStat!.Period, stat: m.MetricStat!.Stat }]));
    expect(byId).toEqual({
      failed: { name: 'JobsFailed', dimensions: { Stack: 'Builds' }, period: 3600, stat: 'Sum' },
      succeeded: { name: 'JobsSucceeded', dimensions: { Stack: 'Builds' }, period: 3600, stat: 'Sum' },
      // Not the users' JobFailed or ConfigurationError: their red builds are theirs to fix.
      system: { name: 'JobsFailed', dimensions: { Stack: 'Builds', FailureType: 'SystemUnavailable' }, period: 3600, stat: 'Sum' },
    });
    expect(rate!.Properties).toMatchObject({ Threshold: 0.5, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', EvaluationPeriods: 2, DatapointsToAlarm: 1 });
    for (const name of [METRICS.sweeperTerminations.name, METRICS.lineWaitExceeded.name]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: name,
        Dimensions: [{ Name: 'Stack', Value: 'Builds' }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        // Embedded-metric-format data: any 1 of 2 periods, so a late datapoint is still seen.
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
      });
    }
    // One sweep a period: the sweeper's own schedule.
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.Description === 'Sweeps leftover build instances');
    expect(rule?.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRICS.sweeperTerminations.name, Period: 900 });
  });

  it('alarms on a build execution that failed or timed out (its job failed outside Report Result), not on one a user aborted', () => {
    const machine = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machine).toHaveLength(1);
    const states = alarmMetrics(template.toJSON().Resources).filter((r) => r.namespace === 'AWS/States');
    expect(states.map((r) => r.name).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const r of states) expect(r.dimensions).toEqual({ StateMachineArn: { Ref: machine[0] } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0)' })]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    // Aborted ones ("Stop and abandon") on the dashboard only.
    expect(dashboardMetrics(template.toJSON().Resources).filter((r) => r.namespace === 'AWS/States').map((r) => r.name).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
  });

  it('notifies the topic it is given from every alarm, and none without one', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(Object.keys(template.findResources('AWS::Lambda::Function')).length + 4);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([TOPIC]);
    for (const a of Object.values(templateOf().findResources('AWS::CloudWatch::Alarm'))) expect(a.Properties.AlarmActions).toBeUndefined();
  });

  it('tells every function its stack, the Stack dimension of its metrics', () => {
    for (const f of Object.values(template.findResources('AWS::Lambda::Function'))) expect(f.Properties.Environment.Variables[METRICS_STACK_VARIABLE]).toBe('Builds');
  });

  it.each([
    ['an SNS topic name', 'build-alarms'],
    ['a FIFO topic (an alarm sends no MessageGroupId)', 'arn:aws:sns:eu-west-1:123456789012:build-alarms.fifo'],
    ['another service\'s ARN', 'arn:aws:sqs:eu-west-1:123456789012:build-alarms'],
  ])('refuses alarmTopicArn as %s, naming the prop', (_what, value) => {
    expect(() => templateOf({ alarmTopicArn: value })).toThrow(PropValueError);
    expect(() => templateOf({ alarmTopicArn: value })).toThrow(`Ec2BuildProvider: alarmTopicArn must be the ARN of a standard SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME), got ${JSON.stringify(value)}`);
  });
});

describe('the alarm topic context key', () => {
  const settings = (context: Record<string, unknown>) => readSettings(new App({ context }).node);

  it('is none by default and reads a topic ARN', () => {
    expect(settings({}).alarmTopicArn).toBeUndefined();
    expect(settings({ [CONTEXT.alarmTopicArn]: ` ${TOPIC} ` }).alarmTopicArn).toBe(TOPIC);
    expect(CONTEXT.alarmTopicArn).toBe('ec2-build-action:alarmTopicArn');
  });

  it.each([['build-alarms'], [`${TOPIC}.fifo`], [42], [true]])('refuses %j, naming the key and echoing the value', (value) => {
    expect(() => settings({ [CONTEXT.alarmTopicArn]: value })).toThrow(ContextValueError);
    expect(() => settings({ [CONTEXT.alarmTopicArn]: value })).toThrow(
      `${CONTEXT.alarmTopicArn} must be the ARN of a standard SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME), got ${JSON.stringify(value)}`,
    );
  });
});
