import type { LocalStack } from '../template/stack';
import { AwsError } from './aws-error';

/**
 * Pipeline declarations as CreatePipeline takes them, and the structure rules the local
 * CodePipeline checks before it accepts one (the model's lengths and patterns are checked by the
 * request validation before this). Rules from the pipeline structure reference
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html) and
 * the S3 source action reference (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html).
 */

export interface ActionTypeId {
  readonly category: string;
  readonly owner: string;
  readonly provider: string;
  readonly version: string;
}

export interface ActionDeclaration {
  readonly name: string;
  readonly actionTypeId: ActionTypeId;
  readonly runOrder?: number;
  readonly configuration?: Record<string, string>;
  readonly inputArtifacts?: { name: string }[];
  readonly outputArtifacts?: { name: string }[];
}

export interface StageDeclaration {
  readonly name: string;
  readonly actions: ActionDeclaration[];
}

export interface ArtifactStore {
  readonly type: 'S3';
  readonly location: string;
  readonly encryptionKey?: { id: string; type: 'KMS' };
}

export interface PipelineDeclaration {
  readonly name: string;
  readonly roleArn: string;
  readonly artifactStore?: ArtifactStore;
  readonly artifactStores?: Record<string, ArtifactStore>;
  readonly stages: StageDeclaration[];
  readonly version?: number;
}

/** A custom action type registered in the account (here: the template's AWS::CodePipeline::CustomActionType). */
export interface RegisteredActionType {
  readonly id: ActionTypeId;
  readonly properties: { name: string; required: boolean }[];
  readonly inputs: { min: number; max: number };
  readonly outputs: { min: number; max: number };
}

/** The custom action types a synthesized stack registers. */
export function registeredActionTypes(stack: LocalStack): RegisteredActionType[] {
  return stack.resources('AWS::CodePipeline::CustomActionType').map(([, p]) => {
    const counts = (d: unknown) => ({ min: Number((d as { MinimumCount: number }).MinimumCount), max: Number((d as { MaximumCount: number }).MaximumCount) });
    return {
      id: { owner: 'Custom', category: String(p.Category), provider: String(p.Provider), version: String(p.Version) },
      properties: ((p.ConfigurationProperties ?? []) as { Name: string; Required: boolean }[]).map((c) => ({ name: c.Name, required: c.Required === true })),
      inputs: counts(p.InputArtifactDetails),
      outputs: counts(p.OutputArtifactDetails),
    };
  });
}

const sameType = (a: ActionTypeId, b: ActionTypeId) => a.owner === b.owner && a.category === b.category && a.provider === b.provider && a.version === b.version;
const describe = (t: ActionTypeId) => `${t.owner}/${t.category}/${t.provider}/${t.version}`;
/** The one AWS-owned action the local CodePipeline runs: the S3 source. */
export const S3_SOURCE: ActionTypeId = { owner: 'AWS', category: 'Source', provider: 'S3', version: '1' };

const structure = (message: string) => new AwsError('InvalidStructureException', message);
const actionError = (message: string) => new AwsError('InvalidActionDeclarationException', message);

function checkS3Source(stage: StageDeclaration, action: ActionDeclaration): void {
  const config = action.configuration ?? {};
  // S3Bucket and S3ObjectKey are required; the action has no input and one output artifact.
  for (const key of ['S3Bucket', 'S3ObjectKey']) {
    if (!config[key]) throw actionError(`Action configuration for action '${action.name}' is missing required configuration '${key}'`);
  }
  if ((action.inputArtifacts ?? []).length !== 0) throw actionError(`Action '${action.name}' in stage '${stage.name}' must have 0 input artifacts`);
  if ((action.outputArtifacts ?? []).length !== 1) throw actionError(`Action '${action.name}' in stage '${stage.name}' must have exactly 1 output artifact`);
}

function checkCustom(type: RegisteredActionType, action: ActionDeclaration): void {
  const config = action.configuration ?? {};
  const known = new Set(type.properties.map((p) => p.name));
  for (const key of Object.keys(config)) {
    if (!known.has(key)) throw actionError(`Action configuration for action '${action.name}' contains unknown configuration '${key}'`);
  }
  for (const p of type.properties) {
    if (p.required && !config[p.name]) throw actionError(`Action configuration for action '${action.name}' is missing required configuration '${p.name}'`);
  }
  const inputs = (action.inputArtifacts ?? []).length;
  const outputs = (action.outputArtifacts ?? []).length;
  if (inputs < type.inputs.min || inputs > type.inputs.max) throw actionError(`Action '${action.name}' must have ${type.inputs.min} to ${type.inputs.max} input artifacts, has ${inputs}`);
  if (outputs < type.outputs.min || outputs > type.outputs.max) throw actionError(`Action '${action.name}' must have ${type.outputs.min} to ${type.outputs.max} output artifacts, has ${outputs}`);
}

/**
 * Checks a declaration as CreatePipeline does: at least two stages; source actions in the first
 * stage only, and only source actions there; unique stage and action names; unique output artifact
 * names, each input produced by an earlier action; exactly one of artifactStore and artifactStores;
 * every action type either the S3 source or a custom type registered in the account.
 */
export function checkDeclaration(p: PipelineDeclaration, types: readonly RegisteredActionType[]): void {
  if (!!p.artifactStore === !!p.artifactStores) throw structure('Pipeline must have exactly one of artifactStore or artifactStores');
  if (p.artifactStores) throw structure('The local CodePipeline runs single-Region pipelines (artifactStore) only');
  if (p.stages.length < 2) throw structure('Pipeline must contain at least two stages');
  const produced = new Set<string>();
  const stageNames = new Set<string>();
  p.stages.forEach((stage, index) => {
    if (stageNames.has(stage.name)) throw new AwsError('InvalidStageDeclarationException', `Stage name '${stage.name}' is used more than once`);
    stageNames.add(stage.name);
    if (stage.actions.length === 0) throw new AwsError('InvalidStageDeclarationException', `Stage '${stage.name}' must contain at least one action`);
    const actionNames = new Set<string>();
    for (const action of stage.actions) {
      if (actionNames.has(action.name)) throw actionError(`Action name '${action.name}' is used more than once in stage '${stage.name}'`);
      actionNames.add(action.name);
      const isSource = action.actionTypeId.category === 'Source';
      if (index === 0 && !isSource) throw structure(`Stage '${stage.name}' is the first stage and can only contain source actions`);
      if (index > 0 && isSource) throw structure(`Source action '${action.name}' can only be in the first stage`);
      if (sameType(action.actionTypeId, S3_SOURCE)) checkS3Source(stage, action);
      else {
        const type = types.find((t) => sameType(t.id, action.actionTypeId));
        // An unknown action type is an invalid action declaration (CreatePipeline's errors list no ActionTypeNotFoundException:
        // https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_CreatePipeline.html#API_CreatePipeline_Errors).
        if (!type) throw actionError(`Action type ${describe(action.actionTypeId)} is not available (the local CodePipeline runs the S3 source and the account's custom actions)`);
        checkCustom(type, action);
      }
      for (const input of action.inputArtifacts ?? []) {
        if (!produced.has(input.name)) throw structure(`Input artifact '${input.name}' of action '${action.name}' is not the output of any earlier action`);
      }
    }
    for (const action of stage.actions) {
      for (const output of action.outputArtifacts ?? []) {
        if (produced.has(output.name)) throw structure(`Output artifact name '${output.name}' is used more than once`);
        produced.add(output.name);
      }
    }
  });
}
