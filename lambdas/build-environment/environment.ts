import { secretReference, type EnvironmentVariable } from '../shared/build-environment';
import { errorCode, JobConfigurationError } from '../shared/errors';
import { PROPERTY } from '../shared/properties';

/**
 * A build's environment, resolved: PLAINTEXT values as they are, PARAMETER_STORE and SECRETS_MANAGER values read now,
 * in "Store Build Environment" (right after the job is acknowledged), before anything is launched (a missing parameter is a ConfigurationError with nothing to
 * release). The result goes only into the job's object in the job bucket (lambdas/shared/job-objects.ts); nothing here
 * logs, returns or puts into an error message a value it read.
 */

export interface ValueSources {
  /** A parameter's value, decrypted (lambdas/shared/ssm.ts). */
  parameter(name: string): Promise<string>;
  /** A secret's text, or null for a binary secret (lambdas/shared/secrets.ts). */
  secret(secretId: string, versionStage: string, versionId: string): Promise<string | null>;
}

/** Errors that mean the variable names something this job cannot read: the user's to fix, not worth a retry. */
const NOT_FOUND = new Set(['ParameterNotFound', 'ParameterVersionNotFound', 'ResourceNotFoundException']);
const REFUSED = new Set(['AccessDeniedException', 'AccessDenied', 'DecryptionFailure', 'InvalidKeyId', 'InvalidRequestException', 'ValidationException']);

function named(variable: EnvironmentVariable, text: string): JobConfigurationError {
  return new JobConfigurationError(`${PROPERTY.environmentVariables}: variable ${JSON.stringify(variable.name)} ${text}`);
}

async function read(variable: EnvironmentVariable, sources: ValueSources): Promise<string> {
  if (variable.type === 'PLAINTEXT') return variable.value;
  const what = variable.type === 'PARAMETER_STORE' ? `parameter ${variable.value}` : `secret ${secretReference(variable.value).secretId}`;
  try {
    if (variable.type === 'PARAMETER_STORE') return await sources.parameter(variable.value);
    const ref = secretReference(variable.value);
    const text = await sources.secret(ref.secretId, ref.versionStage, ref.versionId);
    if (text === null) throw named(variable, `names ${what}, which holds binary data; only a secret string can be an environment variable.`);
    return ref.jsonKey ? jsonField(variable, what, text, ref.jsonKey) : text;
  } catch (err) {
    if (err instanceof JobConfigurationError) throw err;
    // The SDK's code, never its message or the value: codes name no content.
    const code = errorCode(err);
    if (NOT_FOUND.has(code)) throw named(variable, `names ${what}, which does not exist in this account and Region (${code}). Create it, or correct the name.`);
    if (REFUSED.has(code)) throw named(variable, `names ${what}, which this stack could not read (${code}): check its name, version and KMS key policy.`);
    throw err;
  }
}

/** The field `key` of a JSON secret (CodeBuild's secret-id:json-key); its text when a string, else its JSON. */
function jsonField(variable: EnvironmentVariable, what: string, text: string, key: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw named(variable, `asks for key ${JSON.stringify(key)} of ${what}, which is not a JSON object.`);
  if (!Object.hasOwn(parsed, key)) throw named(variable, `asks for key ${JSON.stringify(key)} of ${what}, which has no such key.`);
  const field = (parsed as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : JSON.stringify(field);
}

/** Every variable's value, in the property's order; throws a JobConfigurationError naming the variable. */
export async function resolveEnvironment(variables: readonly EnvironmentVariable[], sources: ValueSources): Promise<[string, string][]> {
  const values = await Promise.all(variables.map((v) => read(v, sources)));
  return variables.map((v, i) => {
    // An environment variable cannot hold NUL (and the object's records are NUL-terminated).
    if (values[i].includes('\0')) throw named(v, 'has a value with a NUL character, which no environment variable can hold.');
    return [v.name, values[i]];
  });
}

/** The object's first record when some values are secret: the names whose values the build's output masks. */
export const MASK_RECORD_PREFIX = '!mask=';

/**
 * The object the build document reads: NAME=VALUE records, each ended by a NUL byte, so any value (newlines, quotes,
 * $) is taken as it is by bash's `read -d ''` and PowerShell's Split, with no parser and no evaluation. When `masked`
 * names variables (the PARAMETER_STORE and SECRETS_MANAGER ones), a first record `!mask=NAME,NAME` (no variable's
 * name starts with `!`) tells the document to replace their values with *** in the build's output, as CodeBuild masks
 * them in its logs, so an echoed secret reaches neither the log group nor the failure message.
 */
export function encodeEnvironment(pairs: readonly (readonly [string, string])[], masked: readonly string[] = []): Buffer {
  const mask = masked.length ? `${MASK_RECORD_PREFIX}${masked.join(',')}\0` : '';
  return Buffer.from(mask + pairs.map(([name, value]) => `${name}=${value}\0`).join(''), 'utf8');
}
