import { Aws } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { Construct } from 'constructs';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { pinFile, readPin, type ActionTypePinOptions } from './action-type-snapshot';

export interface KeptActionTypeProps {
  readonly actionType: ActionTypeRef;
  /** Name of the stack's SSM document, for a pinned console link that names it. */
  readonly documentName: string;
  readonly pin?: ActionTypePinOptions;
}

/** The names a pinned definition may hold as ${...}, and what each stands for now. */
function placeholders(documentName: string): Record<string, string> {
  return { 'AWS::Region': Aws.REGION, BuildDocument: documentName };
}

/**
 * A pinned definition as CloudFormation properties: each ${Name} back to the token it was written from, so the
 * template holds what it held when this version was the current one (a changed property would make CloudFormation
 * replace the resource, which fails: the version's identity is taken).
 */
export function renderPinned(value: unknown, names: Record<string, string>, version: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renderPinned(v, names, version));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderPinned(v, names, version)]));
  }
  if (typeof value !== 'string') return value;
  return value.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    const token = names[name];
    if (token === undefined) throw new Error(`the pin of version ${version} names \${${name}}, which no resource of the provider stands for`);
    return token;
  });
}

/**
 * A version of the action type that a newer one replaced but pipelines may still use: registered beside it, with its
 * pinned definition, under the construct id it had when it was registered (the same logical ID, so CloudFormation
 * keeps the resource). A version with no pin cannot be kept: its definition is unknown.
 */
export class KeptActionType extends Construct {
  readonly resource: codepipeline.CfnCustomActionType;

  /** The construct id a kept version must have: the one its pin records. */
  static constructIdOf(ref: ActionTypeRef, pin?: ActionTypePinOptions): string {
    const pinned = readPin(ref, pin?.directory);
    if (!pinned) {
      throw new Error(
        `Ec2BuildProvider: previousVersions names version ${ref.version}, which has no pin at ${pinFile(ref, pin?.directory)}: ` +
          "only a version whose definition was pinned when it was registered can be kept (register versions with actionTypePin: { directory: '<a folder you commit>', writeMissing: true })",
      );
    }
    return pinned.constructId;
  }

  constructor(scope: Construct, id: string, props: KeptActionTypeProps) {
    super(scope, id);
    const pinned = readPin(props.actionType, props.pin?.directory)!;
    const definition = renderPinned(pinned.definition, placeholders(props.documentName), props.actionType.version) as codepipeline.CfnCustomActionTypeProps;
    this.resource = new codepipeline.CfnCustomActionType(this, 'Resource', definition);
  }
}
