import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { DEFAULT_RENEWAL_SECONDS } from '../lambdas/shared/renewal';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { startedEventPattern } from './event-patterns';
import { BuildActionFunction } from './lambda-function';

export interface JobPollerProps {
  /** The action type's versions this provider serves: the current one and those it keeps (one category and provider). */
  readonly actionTypes: readonly ActionTypeRef[];
  readonly stateMachine: sfn.IStateMachine;
  /** ARN pattern of the state machine's executions. */
  readonly executionsArn: string;
  /** Seconds after its poll at which a job whose build still runs is renewed. @default 2700 (45 minutes: see lambdas/shared/renewal.ts) */
  readonly renewalSeconds?: number;
  /** Minutes between safety-net polls. @default 5 */
  readonly safetyNetPollMinutes?: number;
}

/** The poller: woken by the action's STARTED events (and a schedule), it starts one execution per job. */
export class JobPoller extends Construct {
  readonly function: BuildActionFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: JobPollerProps) {
    super(scope, id);
    const { actionTypes } = props;
    const [actionType] = actionTypes;
    const versions = actionTypes.map((t) => t.version);
    this.function = new BuildActionFunction(this, 'Function', {
      entry: 'poller',
      description: 'Polls ec2-build-action jobs and starts an execution for each',
      environment: {
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [ENV.actionCategory]: actionType.category,
        [ENV.actionProvider]: actionType.provider,
        [ENV.actionVersion]: versions.join(','),
        [ENV.jobRenewalSeconds]: String(props.renewalSeconds ?? DEFAULT_RENEWAL_SECONDS),
      },
    });
    const stack = Stack.of(this);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PollThisActionType',
        actions: ['codepipeline:PollForJobs'],
        // The action type's ARN is arn:${Partition}:codepipeline:${Region}:${Account}:actiontype:${Owner}/${Category}/${Provider}/${Version}:
        // a colon after "actiontype", not formatArn's default slash (which no action type ever matches, so every poll was denied).
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html#awscodepipeline-resources-for-iam-policies
        resources: actionTypes.map((t) =>
          stack.formatArn({
            service: 'codepipeline',
            resource: 'actiontype',
            resourceName: `${t.owner}/${t.category}/${t.provider}/${t.version}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    props.stateMachine.grantStartExecution(this.function);
    // A continuation job goes to the execution whose build it continues: its status, the "Renew Job"
    // task token in its history, the handover; or, when no execution waits for it, its failure.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'FindRenewingBuild', actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: [props.executionsArn] }),
    );
    // SendTaskSuccess supports no resource-level permissions (see lib/command-events.ts).
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'HandOverContinuationJob', actions: ['states:SendTaskSuccess'], resources: ['*'] }));
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'FailOrphanContinuationJob', actions: ['codepipeline:AcknowledgeJob', 'codepipeline:PutJobFailureResult'], resources: ['*'] }),
    );
    this.function.acknowledgeUnscopedApis('states:SendTaskSuccess (a task token names no resource), codepipeline:AcknowledgeJob and codepipeline:PutJobFailureResult');
    this.function.acknowledgeFinding(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.stackName}-BuildJob:*]`,
      'Execution names are not known in advance: this state machine\'s executions only.',
    );
    this.rule = new events.Rule(this, 'Started', {
      description: `STARTED events of the ${actionType.provider} custom action (version ${versions.join(', ')}) only`,
      eventPattern: startedEventPattern(actionTypes),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    // A job CodePipeline offers again (its first poll never started an execution) has no new event.
    new events.Rule(this, 'SafetyNetPoll', {
      description: `Polls ${actionType.provider} jobs on a schedule, for jobs offered again after a failed start`,
      schedule: events.Schedule.rate(Duration.minutes(props.safetyNetPollMinutes ?? 5)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
