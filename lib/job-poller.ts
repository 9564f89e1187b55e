import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { startedEventPattern } from './event-patterns';
import { BuildActionFunction } from './lambda-function';

export interface JobPollerProps {
  readonly actionType: ActionTypeRef;
  readonly stateMachine: sfn.IStateMachine;
}

/** The poller: woken by the action's STARTED events, it acknowledges jobs and starts their builds. */
export class JobPoller extends Construct {
  readonly function: BuildActionFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: JobPollerProps) {
    super(scope, id);
    const { actionType } = props;
    this.function = new BuildActionFunction(this, 'Function', {
      entry: 'poller',
      description: 'Polls and acknowledges ec2-build-action jobs and starts their builds',
      environment: {
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [ENV.actionCategory]: actionType.category,
        [ENV.actionProvider]: actionType.provider,
        [ENV.actionVersion]: actionType.version,
      },
    });
    const stack = Stack.of(this);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PollThisActionType',
        actions: ['codepipeline:PollForJobs'],
        resources: [
          stack.formatArn({ service: 'codepipeline', resource: 'actiontype', resourceName: `Custom/${actionType.category}/${actionType.provider}/${actionType.version}` }),
        ],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WorkOnJobs',
        actions: ['codepipeline:AcknowledgeJob', 'codepipeline:PutJobFailureResult'],
        resources: ['*'],
      }),
    );
    props.stateMachine.grantStartExecution(this.function);
    this.function.acknowledgeUnscopedApis('codepipeline:AcknowledgeJob (which also needs the job\'s nonce) and PutJobFailureResult');
    this.rule = new events.Rule(this, 'Started', {
      description: `STARTED events of the ${actionType.provider} custom action (version ${actionType.version}) only`,
      eventPattern: startedEventPattern(actionType),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
  }
}
