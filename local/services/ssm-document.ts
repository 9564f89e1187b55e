import * as fs from 'node:fs';
import * as path from 'node:path';
import { documentContent, documentContentBytes } from '../../lib/document-content';

export const DOCUMENT_FILE = path.join(__dirname, '..', '..', 'ssm-documents', 'run-build.yaml');

interface ParameterSpec {
  type: string;
  default?: string;
  allowedPattern?: string;
  allowedValues?: string[];
  interpolationType?: string;
}

interface Step {
  action: string;
  name: string;
  precondition?: { StringEquals?: string[] };
  inputs: { runCommand: string[]; timeoutSeconds?: string };
}

export interface CommandDocument {
  parameters: Record<string, ParameterSpec>;
  mainSteps: Step[];
}

/** The document as the stack deploys it (lib/document-content.ts): what the local agent runs. */
export function loadDocument(file = DOCUMENT_FILE): CommandDocument {
  return documentContent(fs.readFileSync(file, 'utf8')) as unknown as CommandDocument;
}

/** The deployed document's size, which Systems Manager counts with a command's parameters toward 64 KB. */
export function documentBytes(doc: CommandDocument = loadDocument()): number {
  return documentContentBytes(doc);
}

/** The step an agent on this platform runs (its platformType precondition matches). */
export function stepFor(doc: CommandDocument, platform: 'Linux' | 'Windows'): Step {
  const step = doc.mainSteps.find((s) => s.precondition?.StringEquals?.[1] === platform);
  if (!step) throw new Error(`the document has no ${platform} step`);
  return step;
}

/**
 * Resolves parameters as SSM does: defaults, allowedValues and allowedPattern checked
 * (InvalidParameters otherwise), and the ENV_VAR ones handed to the script as SSM_<Name>.
 */
export function resolveParameters(doc: CommandDocument, given: Record<string, string[]>): { values: Record<string, string>; env: Record<string, string> } {
  const values: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (!doc.parameters[name]) throw new Error(`InvalidParameters: parameter "${name}" is not defined in the document`);
  }
  for (const [name, spec] of Object.entries(doc.parameters)) {
    const value = given[name]?.[0] ?? spec.default;
    if (value === undefined) throw new Error(`InvalidParameters: parameter "${name}" is required`);
    if (spec.allowedValues && !spec.allowedValues.includes(value)) throw new Error(`InvalidParameters: "${name}" must be one of ${spec.allowedValues.join(', ')}`);
    if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value)) {
      throw new Error(`InvalidParameters: parameter "${name}" value does not match the allowed pattern ${spec.allowedPattern}`);
    }
    values[name] = value;
    if (spec.interpolationType === 'ENV_VAR') env[`SSM_${name}`] = value;
  }
  return { values, env };
}
