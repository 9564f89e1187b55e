import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { commandFinishedPattern } from './event-patterns';
import { BuildActionFunction } from './lambda-function';

export interface CommandEventsProps {
  readonly documentName: string;
  readonly stateMachine: sfn.IStateMachine;
  /** ARN pattern of the state machine's executions. */
  readonly executionsArn: string;
}

/** Resumes the waiting build execution when its SSM command finishes: no polling while a build runs. */
export class CommandEvents extends Construct {
  readonly function: BuildActionFunction;

  constructor(scope: Construct, id: string, props: CommandEventsProps) {
    super(scope, id);
    this.function = new BuildActionFunction(this, 'Function', {
      entry: 'command-events',
      description: 'Resumes the build execution when its SSM command finishes',
      environment: { [ENV.stateMachineArn]: props.stateMachine.stateMachineArn },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadCommands', actions: ['ssm:ListCommands', 'ssm:GetCommandInvocation'], resources: ['*'] }),
    );
    this.function.addToRolePolicy(
      // SendTaskSuccess supports no resource-level permissions: a task token names no resource, so
      // a statement scoped to the state machine is never matched and every resume is denied
      // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html).
      new iam.PolicyStatement({ sid: 'ResumeBuild', actions: ['states:SendTaskSuccess'], resources: ['*'] }),
    );
    // After a job renewal the build waits in "Wait For Build", whose token is in the execution's history.
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'FindRenewedBuild', actions: ['states:GetExecutionHistory'], resources: [props.executionsArn] }));
    this.function.acknowledgeFinding(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${Stack.of(this).stackName}-BuildJob:*]`,
      'Execution names are not known in advance: the history of this state machine\'s executions only.',
    );
    this.function.acknowledgeUnscopedApis('ssm:ListCommands, ssm:GetCommandInvocation (read-only) and states:SendTaskSuccess (a task token names no resource)');
    new events.Rule(this, 'Finished', {
      description: 'Build document command invocations that finished',
      eventPattern: commandFinishedPattern(props.documentName),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 8 })],
    });
  }
}
