import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { READINESS_PK } from '../lambdas/shared/readiness-keys';
import { BuildActionFunction } from './lambda-function';

/** How long a build waits for its instance's agent before it gives up: about 22 minutes, for slow first boots of Windows. */
export const READY_WITHIN_SECONDS = 1320;
/**
 * How long after RunInstances a registration of its instance is the build's first (4 minutes), which does not look at
 * the instance: the state machine registers a build right after its launch, and again only once its input URL is
 * older than 5 minutes (lambdas/shared/artifacts.ts REFRESH_AFTER_SECONDS; the URL is signed after the launch), which
 * looks and is resumed at once if the instance is ready. A first registration's look would find the instance pending
 * (it comes right after the launch, on AWS) and cost a DescribeInstances per build; under load, when registrations
 * come late and many at once, a look and the settling after it made registration the bottleneck (measured: its
 * invocations queued and held Lambda's concurrency). The watcher's look at new waiters, one call a second for all of
 * them, finds an instance that already runs (lambdas/instance-check/register.ts, lambdas/readiness-watcher/watch.ts).
 */
export const FIRST_REGISTRATION_SECONDS = 240;
/**
 * The watcher's pace: each DescribeInstanceInformation request (one batch of up to 50 running waiters, in turn) a tick
 * after Systems Manager answered the last one (lambdas/readiness-watcher/watch.ts askAgents), so the watcher's requests
 * arrive a tick apart, at most 4 in any second, whatever the number of builds (registrations of pool builds ask once
 * each besides: docs/performance.md). Systems Manager publishes no rate for DescribeInstanceInformation
 * (https://docs.aws.amazon.com/general/latest/gr/ssm.html lists Parameter Store's only); 4 a second stays under half of
 * what the local cloud assumes for it (local/services/api-quotas.ts, 10 a second, the rate EC2 gives its unfiltered
 * describe calls), as issue #16 asks of every rate. A build's agent is seen online half of the watcher's period after
 * it registers, on average: the tick plus a request's round trip (about 135 ms with 20 ms requests; a 200 ms tick would
 * see it 25 ms sooner, at about 4.5 requests a second, too close to half the assumed rate once delays vary).
 */
export const WATCH_TICK_MS = 250;
/** One watcher invocation's run, and the function's timeout around it. */
export const WATCH_RUN_MS = 60_000;
const WATCHER_TIMEOUT = Duration.seconds(90);

export interface ReadinessProps {
  /** The stack's table (the pool table), where waiting builds and the watcher's lease live under their own partition. */
  readonly table: dynamodb.ITable;
  /** "Is Instance Ready?"'s function, which registers each build and starts the watcher. */
  readonly instanceCheck: BuildActionFunction;
}

/**
 * Readiness without per-build polling: "Is Instance Ready?" registers the build (task token) in the table; EC2's own
 * state-change events mark its instance running or fail it; one watcher per stack asks Systems Manager about every
 * running waiter together and resumes each build whose agent is online. Every grant on the table is limited to the
 * readiness partition (dynamodb:LeadingKeys:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 */
export class Readiness extends Construct {
  readonly watcher: BuildActionFunction;
  readonly stateEvents: BuildActionFunction;

  constructor(scope: Construct, id: string, props: ReadinessProps) {
    super(scope, id);
    const { table, instanceCheck } = props;
    const timing = { [ENV.watchTickMs]: String(WATCH_TICK_MS), [ENV.watchRunMs]: String(WATCH_RUN_MS) };
    const onPartition = (sid: string, actions: string[]) =>
      new iam.PolicyStatement({
        sid,
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [READINESS_PK] } },
      });

    this.watcher = new BuildActionFunction(this, 'Watcher', {
      entry: 'readiness-watcher',
      description: 'Readiness watcher: asks Systems Manager about every starting build instance together and resumes each build whose agent is online',
      timeout: WATCHER_TIMEOUT,
      environment: { [ENV.poolTableName]: table.tableName, ...timing },
    });
    const watcher = this.watcher;
    // It invokes itself (a hand-over a minute): Lambda's recursive loop detection would stop such a chain, should it
    // count a function invoking itself (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html); the
    // loop is bounded by the lease (one watcher) and ends when no build waits, so it is allowed either way. A failed
    // asynchronous invocation is not retried: the schedule starts the next watcher.
    (watcher.node.defaultChild as lambda.CfnFunction).recursiveLoop = 'Allow';
    watcher.configureAsyncInvoke({ retryAttempts: 0 });
    watcher.addToRolePolicy(onPartition('Waiters', ['Query', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem']));
    watcher.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadInstanceState', actions: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'], resources: ['*'] }));
    // SendTaskSuccess and SendTaskFailure support no resource-level permissions (see lib/command-events.ts).
    watcher.addToRolePolicy(new iam.PolicyStatement({ sid: 'SettleWaitingBuilds', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }));
    watcher.acknowledgeUnscopedApis('ec2:DescribeInstances, ssm:DescribeInstanceInformation (read-only) and states:SendTaskSuccess/SendTaskFailure (a task token names no resource)');
    // A watcher whose run is over hands over to a new invocation of itself. A separate policy: the function's default
    // policy naming its own ARN would make the function depend on itself.
    new iam.Policy(this, 'HandOver', {
      roles: [watcher.role!],
      statements: [new iam.PolicyStatement({ sid: 'HandOverToNextWatcher', actions: ['lambda:InvokeFunction'], resources: [watcher.functionArn] })],
    });
    new events.Rule(this, 'WatcherSchedule', {
      description: 'Restarts the readiness watcher if builds wait and none runs',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(watcher, { retryAttempts: 0 })],
    });

    instanceCheck.addEnvironment(ENV.poolTableName, table.tableName);
    instanceCheck.addEnvironment(ENV.readinessWatcher, watcher.functionName);
    instanceCheck.addEnvironment(ENV.readyWithinMs, String(READY_WITHIN_SECONDS * 1000));
    instanceCheck.addEnvironment(ENV.firstRegistrationMs, String(FIRST_REGISTRATION_SECONDS * 1000));
    for (const [name, value] of Object.entries(timing)) instanceCheck.addEnvironment(name, value);
    instanceCheck.addToRolePolicy(onPartition('RegisterWaiter', ['PutItem', 'UpdateItem', 'DeleteItem']));
    instanceCheck.addToRolePolicy(new iam.PolicyStatement({ sid: 'SettleOwnTask', actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }));
    instanceCheck.addToRolePolicy(new iam.PolicyStatement({ sid: 'StartWatcher', actions: ['lambda:InvokeFunction'], resources: [watcher.functionArn] }));

    this.stateEvents = new BuildActionFunction(this, 'StateEvents', {
      entry: 'instance-events',
      description: "EC2 state changes: marks a waiting build's instance running, or fails the build when its instance is lost",
      environment: { [ENV.poolTableName]: table.tableName },
    });
    this.stateEvents.addToRolePolicy(onPartition('Waiters', ['UpdateItem', 'BatchGetItem', 'DeleteItem']));
    this.stateEvents.addToRolePolicy(new iam.PolicyStatement({ sid: 'FailWaitingBuild', actions: ['states:SendTaskFailure'], resources: ['*'] }));
    this.stateEvents.acknowledgeUnscopedApis('states:SendTaskFailure (a task token names no resource)');
    new events.Rule(this, 'StateChanges', {
      description: 'EC2 instance state changes that settle a waiting build: running, or lost',
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        detail: { state: ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] },
      },
      targets: [new targets.LambdaFunction(this.stateEvents)],
    });
  }
}
