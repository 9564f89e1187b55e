import type { ActionTypeRef } from '../lambdas/shared/types';
import { credentialsFor, type LocalCredentials } from './iam/identity';
import { loadStack, type LocalStack } from './template/stack';

/** What the local cloud takes from the synthesized template, besides its functions and rules. */
export interface Deployment {
  readonly stack: LocalStack;
  readonly actionType: ActionTypeRef;
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

export function deploy(templateFile: string): Deployment {
  const stack = loadStack(templateFile);
  const [, action] = one(stack, 'AWS::CodePipeline::CustomActionType');
  const [machineId, machine] = one(stack, 'AWS::StepFunctions::StateMachine');
  const [documentId] = one(stack, 'AWS::SSM::Document');
  if (typeof machine.DefinitionString !== 'string') throw new Error(`${machineId}: DefinitionString must resolve to a string`);
  return {
    stack,
    actionType: { owner: 'Custom', category: String(action.Category), provider: String(action.Provider), version: String(action.Version) },
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
