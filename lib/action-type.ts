import { Aws, Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { Construct } from 'constructs';
import { PROPERTY } from '../lambdas/shared/properties';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { checkActionTypePin, pinFile, templated, type ActionTypePinOptions } from './action-type-snapshot';

/** How many artifacts an action of this type takes and produces. */
export const ARTIFACT_BOUNDS = { minInputs: 0, maxInputs: 1, minOutputs: 0, maxOutputs: 1 } as const;

export interface BuildActionTypeProps {
  readonly actionType: ActionTypeRef;
  /** Name of the SSM document the action runs, for the console link. */
  readonly documentName: string;
  /** Where this version's definition is pinned, and whether a first synth writes it. @default - action-types/, checked, never written */
  readonly pin?: ActionTypePinOptions;
}

/**
 * The custom action type users pick in CodePipeline. Its definition cannot change under the same version
 * (lib/action-type-snapshot.ts): the constructor fails, naming the version, when it differs from the pinned one.
 */
export class BuildActionType extends Construct {
  constructor(scope: Construct, id: string, props: BuildActionTypeProps) {
    super(scope, id);
    const { category, provider, version } = props.actionType;
    // The deployment's Region, never a Region fixed at synth time, so the pinned definition is the same everywhere.
    const console = `https://${Aws.REGION}.console.aws.amazon.com`;
    const region = `region=${Aws.REGION}`;
    const property = (name: string, description: string, required: boolean, type = 'String') => ({
      name,
      description,
      required,
      key: name === PROPERTY.imageId || name === PROPERTY.instanceType || name === PROPERTY.command,
      secret: false,
      queryable: false,
      type,
    });
    const definition: codepipeline.CfnCustomActionTypeProps = {
      category,
      provider,
      version,
      inputArtifactDetails: { minimumCount: ARTIFACT_BOUNDS.minInputs, maximumCount: ARTIFACT_BOUNDS.maxInputs },
      outputArtifactDetails: { minimumCount: ARTIFACT_BOUNDS.minOutputs, maximumCount: ARTIFACT_BOUNDS.maxOutputs },
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
    };
    new codepipeline.CfnCustomActionType(this, 'Resource', definition);
    const stack = Stack.of(this);
    const documentRef = (stack.resolve(props.documentName) as { Ref?: string }).Ref ?? '';
    const pinned = templated(stack.resolve(definition), { [documentRef]: 'BuildDocument' });
    const result = checkActionTypePin(props.actionType, pinned, props.pin);
    if (result === 'written') {
      process.stderr.write(`Pinned ${category}/${provider} version ${version} in ${pinFile(props.actionType, props.pin?.directory)}: commit it.\n`);
    }
  }
}
