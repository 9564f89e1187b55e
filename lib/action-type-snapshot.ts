import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { CONTEXT } from './context';

/**
 * Each deployed version of the custom action type, pinned in a committed file.
 *
 * AWS::CodePipeline::CustomActionType is identified by Category, Provider and Version, and its ConfigurationProperties,
 * Settings, InputArtifactDetails and OutputArtifactDetails are all "Update requires: Replacement"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-customactiontype.html).
 * CloudFormation replaces a resource by creating the new one before deleting the old, and the new one's
 * Category/Provider/Version is still taken: a stack update that changes a property description, adds a property or
 * changes a URL template fails. So a changed definition must come with a new version; synth refuses it otherwise.
 */

/** Where the pins live: action-types/<Category>-<Provider>-<Version>.json. */
export const PINS_DIR = path.join(__dirname, '..', 'action-types');

export interface ActionTypePinOptions {
  /** Folder holding the pins. @default PINS_DIR */
  readonly directory?: string;
  /** Write the pin of a version that has none yet (`cdk synth`/`deploy` do). @default false: accept it unpinned */
  readonly writeMissing?: boolean;
}

export type PinResult = 'matches' | 'written' | 'unpinned';

/** The definition changed but the version did not: CloudFormation could not update the action type. */
export class ActionTypeChangedError extends Error {
  override readonly name = 'ActionTypeChangedError';
}

export function pinFile(ref: ActionTypeRef, directory = PINS_DIR): string {
  return path.join(directory, `${ref.category}-${ref.provider}-${ref.version}.json`);
}

/**
 * The definition as CloudFormation resolves it, with every intrinsic written as a ${...} template: `{ Ref: AWS::Region }`
 * becomes ${AWS::Region}, a resource's Ref ${LogicalId}, or the stable name `names` gives it (the provider's own
 * resources, whose logical IDs depend on where a user puts the provider). So the pin is the same whatever the Region,
 * account or construct path, and still changes when a URL would point elsewhere (another resource, another path).
 */
export function templated(value: unknown, names: Readonly<Record<string, string>> = {}): unknown {
  if (Array.isArray(value)) return value.map((v) => templated(v, names));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const [fn] = Object.keys(obj);
  if (Object.keys(obj).length === 1 && (fn === 'Ref' || fn.startsWith('Fn::'))) {
    const arg = obj[fn];
    if (fn === 'Ref') return `\${${names[String(arg)] ?? String(arg)}}`;
    if (fn === 'Fn::GetAtt') return `\${${Array.isArray(arg) ? arg.join('.') : String(arg)}}`;
    if (fn === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(templated(p, names))).join(separator);
    }
    throw new Error(`the action type's definition uses ${fn}, which its pin cannot represent`);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, templated(v, names)]));
}

/** Paths at which two JSON values differ, e.g. configurationProperties[2].description. */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    const child = (k: string) => (Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k);
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], child(k)));
  }
  return [at || '(the whole definition)'];
}

function nextVersion(version: string): string {
  return /^\d+$/.test(version) ? String(Number(version) + 1) : `${version}-2`;
}

/** The id of the construct that registered a version when its pin says none: every version before ids were recorded. */
export const FIRST_CONSTRUCT_ID = 'ActionType';

/** A version's pin: its definition (in the ${...} form of `templated`) and the id of the construct that registers it. */
export interface Pin {
  readonly definition: Record<string, unknown>;
  readonly constructId: string;
}

/** The pin of `ref`, or undefined when it has none. */
export function readPin(ref: ActionTypeRef, directory = PINS_DIR): Pin | undefined {
  const file = pinFile(ref, directory);
  if (!fs.existsSync(file)) return undefined;
  const pin = JSON.parse(fs.readFileSync(file, 'utf8')) as { definition: Record<string, unknown>; constructId?: string };
  return { definition: pin.definition, constructId: pin.constructId ?? FIRST_CONSTRUCT_ID };
}

/**
 * Checks the definition of `ref` against its pin: the same passes; a different one throws ActionTypeChangedError
 * naming the version and what changed; none yet is written (writeMissing, with the id of the construct that
 * registers it: CloudFormation must find the version under the same logical ID in every later template) or accepted.
 */
export function checkActionTypePin(
  ref: ActionTypeRef,
  definition: unknown,
  options: ActionTypePinOptions = {},
  constructId = FIRST_CONSTRUCT_ID,
  keptVersions: readonly string[] = [],
): PinResult {
  const file = pinFile(ref, options.directory);
  const id = `${ref.owner}/${ref.category}/${ref.provider}`;
  const pinned = readPin(ref, options.directory);
  if (!pinned) {
    if (!options.writeMissing) return 'unpinned';
    if (file.split(path.sep).includes('node_modules')) {
      throw new Error(`actionTypePin: the pin of ${id}/${ref.version} would be written to ${file}, inside node_modules, where the next install deletes it; set actionTypePin.directory to a folder you commit`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const pin = {
      actionType: `${id}/${ref.version}`,
      note: 'The definition this version was registered with. Never edit: deploy a new version instead (README, "Upgrading the action type").',
      ...(constructId === FIRST_CONSTRUCT_ID ? {} : { constructId }),
      definition,
    };
    fs.writeFileSync(file, `${JSON.stringify(pin, null, 2)}\n`);
    return 'written';
  }
  const changed = differences(pinned.definition, definition);
  if (changed.length === 0) return 'matches';
  const shown = changed.length > 5 ? [...changed.slice(0, 5), `${changed.length - 5} more`] : changed;
  throw new ActionTypeChangedError(
    `The custom action type ${id} version ${ref.version} differs from its pinned definition in ${path.relative(process.cwd(), file)} (changed: ${shown.join(', ')}). ` +
      'A custom action type cannot be updated in place: its properties, settings and artifact details are create-only, and CloudFormation cannot ' +
      `replace it under the same Category/Provider/Version. Deploy the new definition as a new version that keeps version ${ref.version} ` +
      `(the provider's version and previousVersions props, or -c ${CONTEXT.version}=${nextVersion(ref.version)} -c ${CONTEXT.previousVersions}=${[...keptVersions, ref.version].join(',')} for the app; ` +
      'see "Upgrading the action type" in README.md), or undo the change.',
  );
}
