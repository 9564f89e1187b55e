import { Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { Construct } from 'constructs';
import { PROPERTY } from '../lambdas/shared/properties';
import type { ActionTypeRef } from '../lambdas/shared/types';

export interface BuildActionTypeProps {
  readonly actionType: ActionTypeRef;
  /** Name of the SSM document the action runs, for the console link. */
  readonly documentName: string;
}

/** The custom action type users pick in CodePipeline. */
export class BuildActionType extends Construct {
  constructor(scope: Construct, id: string, props: BuildActionTypeProps) {
    super(scope, id);
    const { category, provider, version } = props.actionType;
    const console = `https://${Stack.of(this).region}.console.aws.amazon.com`;
    const region = `region=${Stack.of(this).region}`;
    const property = (name: string, description: string, required: boolean, type = 'String') => ({
      name,
      description,
      required,
      key: name === PROPERTY.imageId || name === PROPERTY.instanceType || name === PROPERTY.command,
      secret: false,
      queryable: false,
      type,
    });
    new codepipeline.CfnCustomActionType(this, 'Resource', {
      category,
      provider,
      version,
      inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
      outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
      configurationProperties: [
        property(PROPERTY.imageId, 'AMI ID to build on (ami-...), in this Region. Needs the SSM agent.', true),
        property(PROPERTY.instanceType, 'EC2 instance type, e.g. c7i.xlarge; or up to 5, comma-separated, tried in order when EC2 has no capacity.', true),
        property(PROPERTY.command, 'Build command: bash on Linux, PowerShell on Windows. Runs in the working directory; its exit code decides the result.', true),
        property(PROPERTY.workingDirectory, 'Absolute directory to unzip the input and build in. Empty: a fresh temporary directory.', false),
        property(PROPERTY.outputArtifactPath, 'File or directory, relative to the working directory, zipped as the output artifact.', false),
        property(PROPERTY.timeoutMinutes, 'Minutes the build may run (1 to 1440). Empty: 60.', false, 'Number'),
      ],
      settings: {
        entityUrlTemplate: `${console}/systems-manager/documents/${props.documentName}/description?${region}`,
        executionUrlTemplate: `${console}/states/home?${region}#/v2/executions/details/{ExternalExecutionId}`,
      },
    });
  }
}
