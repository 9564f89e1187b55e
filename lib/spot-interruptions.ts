import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { BuildActionFunction } from './lambda-function';

export interface SpotInterruptionsProps {
  readonly stateMachine: sfn.IStateMachine;
  /** ARN pattern of the state machine's executions (for the token of a build waiting after a renewal). */
  readonly executionsArn: string;
  /** The pool table, which holds each fleet's circuit breaker. */
  readonly table: dynamodb.ITable;
}

/**
 * EC2's Spot interruption warning, two minutes before it takes a Spot instance back
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html#ec2-spot-instance-interruption-warning-event:
 * source aws.ec2, detail-type "EC2 Spot Instance Interruption Warning"), stops the build waiting on that instance so that
 * the state machine runs it again on on-demand, and counts the interruption against the fleet's circuit breaker. Only
 * for a stack whose fleets buy Spot.
 */
export class SpotInterruptions extends Construct {
  readonly function: BuildActionFunction;

  constructor(scope: Construct, id: string, props: SpotInterruptionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = new BuildActionFunction(this, 'Function', {
      entry: 'spot-interruption',
      description: "Spot interruption warning: reruns the build on on-demand and counts the interruption against the fleet's circuit breaker",
      environment: {
        [ENV.stackTagValue]: stack.stackName,
        [ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [ENV.poolTableName]: props.table.tableName,
      },
    });
    const fn = this.function;
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'Breaker', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [props.table.tableArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'FindBuild', actions: ['ec2:DescribeInstances', 'ssm:ListCommands'], resources: ['*'] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'FindRenewedBuild', actions: ['states:GetExecutionHistory'], resources: [props.executionsArn] }));
    // SendTaskFailure supports no resource-level permissions (see lib/command-events.ts).
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StopWaitingBuild', actions: ['states:SendTaskFailure'], resources: ['*'] }));
    fn.acknowledgeUnscopedApis('ec2:DescribeInstances, ssm:ListCommands (read-only) and states:SendTaskFailure (a task token names no resource)');
    fn.acknowledgeFinding(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.stackName}-BuildJob:*]`,
      'Execution names are not known in advance: the history of this state machine\'s executions only.',
    );
    new events.Rule(this, 'Warning', {
      description: "Runs a build again on on-demand when EC2 interrupts its Spot instance",
      eventPattern: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
      targets: [new targets.LambdaFunction(fn)],
    });
  }
}
