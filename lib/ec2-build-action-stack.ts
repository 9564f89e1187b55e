import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { BuildActionType } from './action-type';
import type { ActionTypePinOptions } from './action-type-snapshot';
import { BuildDocument } from './build-document';
import { BuildFunctions } from './build-functions';
import { BuildWorkflow } from './build-workflow';
import { BuilderInstance } from './builder-instance';
import { CommandEvents } from './command-events';
import { JobPoller } from './job-poller';
import { SafetyNets } from './safety-nets';

export interface Ec2BuildActionStackProps extends StackProps {
  /** The custom action type to register. */
  readonly actionType: ActionTypeRef;
  /** Subnets to launch in, tried in order when one lacks capacity. @default - the default VPC */
  readonly subnetIds?: readonly string[];
  /** Security groups for build instances. @default - the VPC's default security group */
  readonly securityGroupIds?: readonly string[];
  /** Root volume size in GiB. @default 30 */
  readonly rootVolumeGiB?: number;
  /** ARN of the account's default EBS encryption key, when it is customer managed: the launcher gets what EC2 needs on it. @default - none needed (aws/ebs) */
  readonly ebsKmsKeyArn?: string;
  /** Where the action type's definition is pinned, and whether a first synth writes it. @default - action-types/, checked, never written */
  readonly actionTypePin?: ActionTypePinOptions;
}

/** Registers the custom action and everything that runs its jobs. Composition only. */
export class Ec2BuildActionStack extends Stack {
  constructor(scope: Construct, id: string, props: Ec2BuildActionStackProps) {
    super(scope, id, props);
    const document = new BuildDocument(this, 'BuildDocument');
    const builder = new BuilderInstance(this, 'Builder', { securityGroupIds: props.securityGroupIds, rootVolumeGiB: props.rootVolumeGiB });
    const functions = new BuildFunctions(this, 'Tasks', { builder, subnetIds: props.subnetIds, ebsKmsKeyArn: props.ebsKmsKeyArn });
    const workflow = new BuildWorkflow(this, 'Workflow', {
      acknowledgeFunction: functions.acknowledge,
      launchFunction: functions.launch,
      instanceCheckFunction: functions.instanceCheck,
      artifactUrlsFunction: functions.artifactUrls,
      completionFunction: functions.completion,
      renewFunction: functions.renew,
      waitForBuildFunction: functions.waitForBuild,
      documentName: document.documentName,
      documentArn: document.documentArn,
      buildLogGroupName: builder.logGroup.logGroupName,
    });
    new JobPoller(this, 'Poller', { actionType: props.actionType, stateMachine: workflow.stateMachine, executionsArn: workflow.executionsArn });
    new CommandEvents(this, 'CommandEvents', { documentName: document.documentName, stateMachine: workflow.stateMachine, executionsArn: workflow.executionsArn });
    new SafetyNets(this, 'SafetyNets', {
      actionType: props.actionType,
      stateMachine: workflow.stateMachine,
      executionsArn: workflow.executionsArn,
      documentName: document.documentName,
    });
    new BuildActionType(this, 'ActionType', { actionType: props.actionType, documentName: document.documentName, pin: props.actionTypePin });

    const { category, provider, version } = props.actionType;
    new CfnOutput(this, 'ActionTypeId', { value: `Owner=Custom,Category=${category},Provider=${provider},Version=${version}` });
    new CfnOutput(this, 'StateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'BuildDocumentName', { value: document.documentName });
    new CfnOutput(this, 'BuildLogGroupName', { value: builder.logGroup.logGroupName });
  }
}
