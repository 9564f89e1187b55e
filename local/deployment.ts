import { ENV } from '../lambdas/shared/env';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { credentialsFor, type LocalCredentials } from './iam/identity';
import { registeredActionTypes } from './services/pipeline-structure';
import { loadStack, type LocalStack } from './template/stack';

/** What the local cloud takes from the synthesized template, besides its functions and rules. */
export interface Deployment {
  readonly stack: LocalStack;
  /** The version jobs run on by default: the provider's current one. */
  readonly actionType: ActionTypeRef;
  /** Every version the template registers (the current one and those it keeps). */
  readonly actionTypes: readonly ActionTypeRef[];
  readonly stateMachine: {
    readonly arn: string;
    /** DefinitionString, its ${Placeholders} to be filled with `substitutions` (DefinitionSubstitutions, resolved). */
    readonly definition: string;
    readonly substitutions: Record<string, string>;
    readonly credentials: LocalCredentials;
  };
  readonly documentName: string;
  /** Each launch template's id and the EBS size of each device it maps, for the local EC2. */
  readonly launchTemplates: Record<string, { blockDeviceGiB: Record<string, number> }>;
}

function one(stack: LocalStack, type: string): [string, Record<string, unknown>] {
  const found = stack.resources(type);
  if (found.length !== 1) throw new Error(`${stack.templateFile}: the local cloud runs a stack with exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** The logical id of the role an `Fn::GetAtt [Role, Arn]` property names. */
export function roleLogicalId(stack: LocalStack, logicalId: string, property: string): string {
  const raw = (stack.template.Resources[logicalId].Properties ?? {})[property] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const role = raw?.['Fn::GetAtt']?.[0];
  if (!role) throw new Error(`${logicalId}.${property} is not a role of the template; the local cloud cannot say who calls`);
  return role;
}

/**
 * The action types the template registers, and which is current: the last version the poller's ACTION_VERSION lists
 * (kept versions first: lib/job-poller.ts), or the only one.
 */
function actionTypesOf(stack: LocalStack): { current: ActionTypeRef; all: ActionTypeRef[] } {
  const all: ActionTypeRef[] = registeredActionTypes(stack).map((t) => ({ ...t.id, owner: 'Custom' }));
  if (all.length === 0) throw new Error(`${stack.templateFile}: the local cloud runs a stack with an AWS::CodePipeline::CustomActionType, found none`);
  const versions = stack
    .resources('AWS::Lambda::Function')
    .map(([, p]) => (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[ENV.actionVersion])
    .find((v) => v !== undefined);
  const last = versions === undefined ? undefined : String(versions).split(',').pop()?.trim();
  const current = all.length === 1 ? all[0] : all.find((t) => t.version === last);
  if (!current) throw new Error(`${stack.templateFile}: ${all.length} action types and no poller naming the current version`);
  return { current, all };
}

export function deploy(templateFile: string): Deployment {
  const stack = loadStack(templateFile);
  const actionTypes = actionTypesOf(stack);
  const [machineId, machine] = one(stack, 'AWS::StepFunctions::StateMachine');
  const [documentId] = one(stack, 'AWS::SSM::Document');
  if (typeof machine.DefinitionString !== 'string') throw new Error(`${machineId}: DefinitionString must resolve to a string`);
  return {
    stack,
    actionType: actionTypes.current,
    actionTypes: actionTypes.all,
    stateMachine: {
      arn: stack.ref(machineId),
      definition: machine.DefinitionString,
      substitutions: Object.fromEntries(Object.entries((machine.DefinitionSubstitutions ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
      credentials: credentialsFor(roleLogicalId(stack, machineId, 'RoleArn')),
    },
    documentName: stack.ref(documentId),
    launchTemplates: Object.fromEntries(
      stack.resources('AWS::EC2::LaunchTemplate').map(([id, p]) => {
        const mappings = ((p.LaunchTemplateData as { BlockDeviceMappings?: { DeviceName: string; Ebs?: { VolumeSize?: number } }[] }).BlockDeviceMappings ?? []).filter((m) => m.Ebs?.VolumeSize);
        return [stack.ref(id), { blockDeviceGiB: Object.fromEntries(mappings.map((m) => [m.DeviceName, Number(m.Ebs!.VolumeSize)])) }];
      }),
    ),
  };
}
