import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TAGS } from '../lambdas/shared/env';

export const DEFINITION_FILE = path.join(__dirname, '..', 'state-machines', 'build-job.asl.json');

export interface BuildWorkflowProps {
  readonly acknowledgeFunction: lambda.IFunction;
  readonly buildEnvironmentFunction: lambda.IFunction;
  readonly launchFunction: lambda.IFunction;
  readonly instanceCheckFunction: lambda.IFunction;
  readonly artifactUrlsFunction: lambda.IFunction;
  readonly completionFunction: lambda.IFunction;
  readonly renewFunction: lambda.IFunction;
  readonly waitForBuildFunction: lambda.IFunction;
  readonly fleetSlotsFunction: lambda.IFunction;
  readonly refillFunction: lambda.IFunction;
  readonly documentName: string;
  readonly documentArn: string;
  readonly buildLogGroupName: string;
}

/**
 * The build job state machine, from state-machines/build-job.asl.json, and the rights its own
 * tasks need: invoke its own functions, send the build document to this stack's instances,
 * terminate only this stack's instances.
 */
export class BuildWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** ARN pattern of this state machine's executions, for IAM. */
  readonly executionsArn: string;

  constructor(scope: Construct, id: string, props: BuildWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachineName = `${stack.stackName}-BuildJob`;
    this.executionsArn = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName,
      definitionBody: sfn.DefinitionBody.fromString(fs.readFileSync(DEFINITION_FILE, 'utf8')),
      definitionSubstitutions: {
        AcknowledgeFunctionArn: props.acknowledgeFunction.functionArn,
        BuildEnvironmentFunctionArn: props.buildEnvironmentFunction.functionArn,
        LaunchFunctionArn: props.launchFunction.functionArn,
        InstanceCheckFunctionArn: props.instanceCheckFunction.functionArn,
        ArtifactUrlsFunctionArn: props.artifactUrlsFunction.functionArn,
        CompletionFunctionArn: props.completionFunction.functionArn,
        RenewFunctionArn: props.renewFunction.functionArn,
        WaitForBuildFunctionArn: props.waitForBuildFunction.functionArn,
        FleetSlotsFunctionArn: props.fleetSlotsFunction.functionArn,
        RefillFunctionArn: props.refillFunction.functionArn,
        BuildDocumentName: props.documentName,
        BuildLogGroupName: props.buildLogGroupName,
      },
      stateMachineType: sfn.StateMachineType.STANDARD,
      // No `timeout` here: CDK applies it to chained definitions only; the ASL's own TimeoutSeconds
      // holds, tied to the longest path by test/cdk/longest-job.test.ts.
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const role = this.stateMachine.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeOwnFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [
          props.acknowledgeFunction,
          props.buildEnvironmentFunction,
          props.launchFunction,
          props.instanceCheckFunction,
          props.artifactUrlsFunction,
          props.completionFunction,
          props.renewFunction,
          props.waitForBuildFunction,
          props.fleetSlotsFunction,
          props.refillFunction,
        ].map((f) => f.functionArn),
      }),
    );
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendBuildDocument',
        actions: ['ssm:SendCommand'],
        resources: [props.documentArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendToOwnInstances',
        actions: ['ssm:SendCommand'],
        resources: [instances],
        conditions: { StringEquals: { [`ssm:resourceTag/${TAGS.stack}`]: stack.stackName } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TerminateOwnInstances',
        actions: ['ec2:TerminateInstances'],
        resources: [instances],
        conditions: { StringEquals: { [`aws:ResourceTag/${TAGS.stack}`]: stack.stackName } },
      }),
    );
    // Hold on failure ("Hold The Instance"): the hold's end, on the stack's instances, and no other tag key. CreateTags
    // on an instance takes aws:ResourceTag, aws:RequestTag and aws:TagKeys
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html, CreateTags).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagHeldInstances',
        actions: ['ec2:CreateTags'],
        resources: [instances],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${TAGS.stack}`]: stack.stackName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.holdUntil] },
        },
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
      reason: 'Instance IDs are not known in advance: SendCommand, TerminateInstances and CreateTags (the hold tag only) are allowed only on instances tagged with this stack.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray trace segments and CloudWatch Logs delivery (added by Step Functions for tracing and logging) support no resource-level permissions.',
    });
  }
}
