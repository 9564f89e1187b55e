import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV, TAGS } from '../lambdas/shared/env';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { CHECK_TIMEOUT_SECONDS } from './build-functions';
import { DEFINITION_FILE } from './build-workflow';
import { abandonedEventPattern, executionEndedPattern } from './event-patterns';
import { BuildActionFunction } from './lambda-function';
import { longestJobMinutes, readDefinition, TIMEOUT_PATHS } from './longest-job';

export interface SafetyNetsProps {
  /** The action type's versions the provider serves. */
  readonly actionTypes: readonly ActionTypeRef[];
  readonly stateMachine: sfn.IStateMachine;
  /** ARN pattern of the state machine's executions. */
  readonly executionsArn: string;
  /** The build document's name, whose finished commands the sweeper re-delivers. */
  readonly documentName: string;
  /** Minutes between sweeps. @default 15 */
  readonly sweepMinutes?: number;
  /** The fleets' pool table: the sweeper tells idle pool members from leftovers, and both give back leaked fleet slots. */
  readonly poolTable: dynamodb.ITable;
  /** The stack's fleets as the FLEETS variable holds them (FleetPools.fleetsJson). */
  readonly fleetsJson: string;
}

/**
 * Longest an instance may live: the longest job after launch (readiness, the longest build, the output URL, the
 * upload and the release, each with its retries), from the state machine's own timeouts and retries, so the
 * sweeper never cuts a job that is still running.
 */
export const MAX_INSTANCE_MINUTES = longestJobMinutes(readDefinition(DEFINITION_FILE), {
  watchSeconds: CHECK_TIMEOUT_SECONDS,
  timeoutPaths: TIMEOUT_PATHS,
});

/**
 * How long the event path (the abandon and execution-events handlers, which EventBridge invokes within seconds and
 * retries) has to handle an abandoned action or an ended execution before the sweeper does the same work instead:
 * both would be harmless (each step is idempotent), but a build is then stopped, and its instance counted, once.
 */
export const EVENT_GRACE_MS = 5 * 60 * 1000;

/**
 * What keeps the promises when the normal path cannot: an execution that ends abnormally has its
 * instance terminated and its job failed; "Stop and abandon" stops the build; a sweeper terminates
 * any instance of this stack that outlived its execution or the longest allowed job.
 */
export class SafetyNets extends Construct {
  /** The functions that release what an execution that ended abnormally left (its instance, slot and job objects). */
  readonly releasers: readonly BuildActionFunction[];
  /** Minutes between two sweeps: the sweeper alarm's period (lib/observability.ts), one sweep each. */
  readonly sweepMinutes: number;

  constructor(scope: Construct, id: string, props: SafetyNetsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { stateMachine } = props;
    const { executionsArn } = props;
    this.sweepMinutes = props.sweepMinutes ?? 15;
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const terminateOwn = new iam.PolicyStatement({
      sid: 'TerminateOwnInstances',
      actions: ['ec2:TerminateInstances'],
      resources: [instances],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAGS.stack}`]: stack.stackName } },
    });
    const describe = new iam.PolicyStatement({ sid: 'FindInstances', actions: ['ec2:DescribeInstances'], resources: ['*'] });
    // Fleet slots (GetItem, UpdateItem), the line (Query, DeleteItem) and pool members (Query, UpdateItem, DeleteItem):
    // lambdas/sweeper/fleet-slots.ts, pool-members.ts and lambdas/execution-events/fleet-slot.ts.
    const poolTable = (sid: string) =>
      new iam.PolicyStatement({ sid, actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], resources: [props.poolTable.tableArn] });
    // SendTaskSuccess supports no resource-level permissions (see lib/command-events.ts): it resumes the jobs waiting
    // in a fleet's line when a leaked slot is given back.
    const resumeWaiting = new iam.PolicyStatement({ sid: 'ResumeWaitingJobs', actions: ['states:SendTaskSuccess'], resources: ['*'] });

    const watchdog = new BuildActionFunction(this, 'ExecutionEvents', {
      entry: 'execution-events',
      description: 'Fails the job and terminates the instance of a build execution that ended abnormally',
      environment: { [ENV.poolTableName]: props.poolTable.tableName },
    });
    watchdog.addToRolePolicy(terminateOwn);
    watchdog.addToRolePolicy(describe);
    watchdog.addToRolePolicy(poolTable('GiveBackFleetSlots'));
    watchdog.addToRolePolicy(resumeWaiting);
    // The history says which job the execution owned; a job taken out of a fleet's line with no task waiting keeps the
    // slot only while its execution runs (DescribeExecution: lambdas/fleet-slots/slots.ts).
    watchdog.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadExecutions', actions: ['states:GetExecutionHistory', 'states:DescribeExecution'], resources: [executionsArn] }));
    watchdog.addToRolePolicy(new iam.PolicyStatement({ sid: 'FailJob', actions: ['codepipeline:PutJobFailureResult'], resources: ['*'] }));
    watchdog.acknowledgeUnscopedApis('ec2:DescribeInstances (read-only), codepipeline:PutJobFailureResult and states:SendTaskSuccess (a task token names no resource)');
    new events.Rule(this, 'ExecutionEnded', {
      description: 'Build executions that ended FAILED, TIMED_OUT or ABORTED',
      eventPattern: executionEndedPattern(stateMachine.stateMachineArn),
      targets: [new targets.LambdaFunction(watchdog, { retryAttempts: 8 })],
    });

    const abandon = new BuildActionFunction(this, 'Abandon', {
      entry: 'abandon',
      description: 'Stops the build of an action that was stopped and abandoned',
      timeout: Duration.minutes(2),
      environment: { [ENV.stateMachineArn]: stateMachine.stateMachineArn },
    });
    abandon.addToRolePolicy(new iam.PolicyStatement({ sid: 'ListRunning', actions: ['states:ListExecutions'], resources: [stateMachine.stateMachineArn] }));
    abandon.addToRolePolicy(new iam.PolicyStatement({ sid: 'StopAbandoned', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executionsArn] }));
    new events.Rule(this, 'Abandoned', {
      description: `ABANDONED events of the ${props.actionTypes[0].provider} custom action`,
      eventPattern: abandonedEventPattern(props.actionTypes),
      targets: [new targets.LambdaFunction(abandon, { retryAttempts: 8 })],
    });

    const sweeper = new BuildActionFunction(this, 'Sweeper', {
      entry: 'sweeper',
      description: 'Terminates build instances that outlived their execution or the longest allowed job',
      timeout: Duration.minutes(2),
      environment: {
        [ENV.stateMachineArn]: stateMachine.stateMachineArn,
        [ENV.stackTagValue]: stack.stackName,
        [ENV.maxJobMinutes]: String(MAX_INSTANCE_MINUTES),
        [ENV.buildDocumentName]: props.documentName,
        [ENV.eventGraceMs]: String(EVENT_GRACE_MS),
        [ENV.poolTableName]: props.poolTable.tableName,
        [ENV.fleets]: props.fleetsJson,
      },
    });
    this.releasers = [watchdog, sweeper];
    sweeper.addToRolePolicy(terminateOwn);
    sweeper.addToRolePolicy(describe);
    sweeper.addToRolePolicy(poolTable('PoolMembersAndFleetSlots'));
    // Running builds CodePipeline no longer waits for are stopped; executions that ended without their status event are
    // released and their jobs failed (lambdas/sweeper/unawaited.ts, lost-ends.ts).
    sweeper.addToRolePolicy(new iam.PolicyStatement({ sid: 'ListExecutions', actions: ['states:ListExecutions'], resources: [stateMachine.stateMachineArn] }));
    sweeper.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadAndStopExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'], resources: [executionsArn] }),
    );
    // Both are authorized on the pipeline resource type, arn:${Partition}:codepipeline:${Region}:${Account}:${PipelineName}
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html); the pipelines are the
    // users', of any name, so every pipeline of this account and Region, read-only.
    const pipelines = stack.formatArn({ service: 'codepipeline', resource: '*' });
    sweeper.addToRolePolicy(new iam.PolicyStatement({ sid: 'AskCodePipeline', actions: ['codepipeline:ListActionExecutions', 'codepipeline:GetPipelineExecution', 'codepipeline:GetPipelineState'], resources: [pipelines] }));
    // PutJobFailureResult supports no resource-level permissions (same reference).
    sweeper.addToRolePolicy(new iam.PolicyStatement({ sid: 'FailLostJobs', actions: ['codepipeline:PutJobFailureResult'], resources: ['*'] }));
    sweeper.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadCommands', actions: ['ssm:ListCommands', 'ssm:GetCommandInvocation'], resources: ['*'] }));
    // No resource-level permissions for SendTaskSuccess (see lib/command-events.ts): builds whose status event was
    // lost, and jobs waiting for a fleet slot that a leaked holder gave back.
    sweeper.addToRolePolicy(new iam.PolicyStatement({ sid: 'ResumeLostEvents', actions: ['states:SendTaskSuccess'], resources: ['*'] }));
    sweeper.acknowledgeUnscopedApis(
      'ec2:DescribeInstances, ssm:ListCommands and ssm:GetCommandInvocation (read-only), states:SendTaskSuccess (a task token names no resource) and codepipeline:PutJobFailureResult',
    );
    sweeper.acknowledgeFinding(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:*]',
      'Read-only ListActionExecutions, GetPipelineExecution and GetPipelineState on the pipelines that use the action: they are the users\', of any name.',
    );
    new events.Rule(this, 'Sweep', {
      description: 'Sweeps leftover build instances',
      schedule: events.Schedule.rate(Duration.minutes(this.sweepMinutes)),
      targets: [new targets.LambdaFunction(sweeper, { retryAttempts: 0 })],
    });

    for (const fn of [watchdog, abandon, sweeper]) {
      const executions = `Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.stackName}-BuildJob:*`;
      for (const resource of ['Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*', executions]) {
        fn.acknowledgeFinding(`AwsSolutions-IAM5[${resource}]`, 'Instance IDs and execution names are not known in advance: termination needs the stack tag; executions are this state machine\'s only.');
      }
    }
  }
}
