import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { commandFinishedPattern } from './event-patterns';
import { BuildActionFunction } from './lambda-function';

export interface CommandEventsProps {
  readonly documentName: string;
  readonly stateMachine: sfn.IStateMachine;
}

/** Resumes the waiting build execution when its SSM command finishes: no polling while a build runs. */
export class CommandEvents extends Construct {
  readonly function: BuildActionFunction;

  constructor(scope: Construct, id: string, props: CommandEventsProps) {
    super(scope, id);
    this.function = new BuildActionFunction(this, 'Function', {
      entry: 'command-events',
      description: 'Resumes the build execution when its SSM command finishes',
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
    this.function.acknowledgeUnscopedApis('ssm:ListCommands, ssm:GetCommandInvocation (read-only) and states:SendTaskSuccess (a task token names no resource)');
    new events.Rule(this, 'Finished', {
      description: 'Build document command invocations that finished',
      eventPattern: commandFinishedPattern(props.documentName),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 8 })],
    });
  }
}
