import { JobConfigurationError } from './errors';
import { PROPERTY } from './properties';

/**
 * The build's own environment variables (EnvironmentVariables) and the ones it exports (ExportedVariables), in the
 * format of CodePipeline's CodeBuild action: a JSON array of { "name", "value", "type" }, type PLAINTEXT (the default),
 * PARAMETER_STORE (value: a Parameter Store parameter's name) or SECRETS_MANAGER (value:
 * secret-id[:json-key[:version-stage[:version-id]]]), https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html
 * and https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.secrets-manager.
 * Only PLAINTEXT values travel with the job; the others are references, resolved right after the job is acknowledged,
 * before the launch (lambdas/build-environment/environment.ts), into an object only the build reads.
 */

export const VARIABLE_TYPES = ['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

export interface EnvironmentVariable {
  readonly name: string;
  readonly type: VariableType;
  /** The value (PLAINTEXT) or the reference to it (a parameter's name, a secret's id with its qualifiers). */
  readonly value: string;
}

/** Which parameters and secrets a job may name: the stack's settings (the functions' IAM grants match them). */
export interface EnvironmentScope {
  /** Parameter name prefixes, each a path like /builds/ (ssm:GetParameter on parameter/builds/*). */
  readonly parameterPrefixes: readonly string[];
  /** Secret name prefixes, like builds/ (secretsmanager:GetSecretValue on secret:builds/*). */
  readonly secretPrefixes: readonly string[];
}

/** The settings a message names, as the app (context) and the construct library (props) take them. */
export const SCOPE_SETTINGS = {
  parameterPrefixes: { context: 'ec2-build-action:parameterPrefixes', prop: 'parameterPrefixes' },
  secretPrefixes: { context: 'ec2-build-action:secretPrefixes', prop: 'secretPrefixes' },
} as const;

/**
 * A variable name: CodePipeline's EnvironmentVariable name is 1 to 128 of [A-Za-z0-9_]
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_EnvironmentVariable.html); a shell cannot set one
 * that starts with a digit, so neither may these.
 */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/**
 * Set by the build document itself (the pipeline's context): a variable may not take them over, in any case, since
 * Windows' environment variable names are case-insensitive
 * (https://learn.microsoft.com/en-us/windows/win32/procthread/environment-variables).
 */
const RESERVED_PREFIX = 'CODEPIPELINE_';
/**
 * Names the build document itself reads or sets before the build command runs, which a variable would take over: its
 * parameters (SSM_*, Systems Manager's ENV_VAR interpolation), its own variables (EC2_BUILD_ACTION_*, but for the
 * settings an action gives through EnvironmentVariables), the exports hook's BASH_ENV, and bash's read-only variables,
 * which bash refuses to set (https://www.gnu.org/software/bash/manual/html_node/Bash-Variables.html).
 */
const DOCUMENT_PREFIXES = ['SSM_', 'EC2_BUILD_ACTION_'];
const DOCUMENT_NAMES = new Set(['BASH_ENV', 'BASHOPTS', 'BASH_VERSINFO', 'EUID', 'PPID', 'SHELLOPTS', 'UID']);
/** Settings an action gives as variables (version 3 has CodePipeline's ten properties already). */
export const ACTION_SETTING_VARIABLES: ReadonlySet<string> = new Set(['EC2_BUILD_ACTION_HOLD_MINUTES']);
function isDocumentName(name: string): boolean {
  const upper = name.toUpperCase();
  if (ACTION_SETTING_VARIABLES.has(upper)) return false;
  return DOCUMENT_NAMES.has(upper) || DOCUMENT_PREFIXES.some((p) => upper.startsWith(p));
}
/** A parameter's name (optionally :version or :label): SSM's PSParameterName is 1 to 2048 of these (its model). */
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}(:[A-Za-z0-9_.-]{1,100})?$/;
/** A secret's name: 1 to 512 of ASCII letters, digits and /_+=.@- (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

function bad(variable: string, rule: string): JobConfigurationError {
  return new JobConfigurationError(`${PROPERTY.environmentVariables}: variable ${JSON.stringify(variable)} ${rule}`);
}

/** A SECRETS_MANAGER value, split: the secret (name or ARN) and the optional JSON key, version stage and version id. */
export interface SecretReference {
  readonly secretId: string;
  /** The secret's name: the ARN's resource part (with the 6 characters Secrets Manager appends) or the id itself. */
  readonly name: string;
  readonly jsonKey: string;
  readonly versionStage: string;
  readonly versionId: string;
}

export function secretReference(value: string): SecretReference {
  const parts = value.split(':');
  // An ARN is arn:partition:secretsmanager:region:account:secret:name, 7 colon-separated parts.
  const idParts = value.startsWith('arn:') ? 7 : 1;
  const secretId = parts.slice(0, idParts).join(':');
  const [jsonKey = '', versionStage = '', versionId = ''] = parts.slice(idParts);
  return { secretId, name: idParts === 7 ? (parts[6] ?? '') : secretId, jsonKey, versionStage, versionId };
}

/** Whether a parameter name (without its selector) lies under one of the prefixes. */
export function parameterAllowed(name: string, scope: EnvironmentScope): boolean {
  const bare = name.replace(/:[^:/]*$/, '');
  return scope.parameterPrefixes.some((p) => bare.startsWith(p));
}

function checkReference(v: EnvironmentVariable, scope: EnvironmentScope | null): void {
  if (v.type === 'PARAMETER_STORE') {
    if (!PARAMETER_NAME.test(v.value)) throw bad(v.name, `must name a Parameter Store parameter (letters, digits and _.-/, optionally :version), got ${JSON.stringify(v.value.slice(0, 80))}.`);
    if (scope && !parameterAllowed(v.value, scope)) {
      const { context, prop } = SCOPE_SETTINGS.parameterPrefixes;
      const allowed = scope.parameterPrefixes.length ? `only parameters under ${scope.parameterPrefixes.join(', ')}` : 'no parameters';
      throw bad(v.name, `names parameter ${v.value}, but this stack lets builds read ${allowed}. Add its path to the stack's ${context} context key (or the provider's ${prop} prop) and deploy, or use another parameter.`);
    }
    return;
  }
  if (v.type !== 'SECRETS_MANAGER') return;
  const ref = secretReference(v.value);
  const arn = ref.secretId.startsWith('arn:') ? ref.secretId.split(':') : null;
  const segments = v.value.split(':').length - (arn ? 7 : 1);
  // At most json-key, version-stage and version-id after the secret (the CodeBuild buildspec's reference), and an ARN
  // must be a secret's: arn:partition:secretsmanager:region:account:secret:name.
  if (!SECRET_NAME.test(ref.name) || segments > 3 || (arn !== null && (arn[2] !== 'secretsmanager' || arn[5] !== 'secret'))) {
    throw bad(v.name, `must be secret-id[:json-key[:version-stage[:version-id]]] with a secret's name or ARN, got ${JSON.stringify(v.value.slice(0, 80))}.`);
  }
  if (scope && !scope.secretPrefixes.some((p) => ref.name.startsWith(p))) {
    const { context, prop } = SCOPE_SETTINGS.secretPrefixes;
    const allowed = scope.secretPrefixes.length ? `only secrets whose names start with ${scope.secretPrefixes.join(', ')}` : 'no secrets';
    throw bad(v.name, `names secret ${ref.name}, but this stack lets builds read ${allowed}. Add its name prefix to the stack's ${context} context key (or the provider's ${prop} prop) and deploy, or use another secret.`);
  }
}

/**
 * Parses EnvironmentVariables; throws a JobConfigurationError naming the variable. `scope` null means the stack's
 * settings are not known here (an action checked at synth against a provider deployed elsewhere): any reference
 * passes, the poller checks it.
 */
export function parseEnvironmentVariables(raw: string, scope: EnvironmentScope | null): EnvironmentVariable[] {
  if (raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new JobConfigurationError(`${PROPERTY.environmentVariables} is not valid JSON (${(err as Error).message}). Write a JSON array like [{"name":"STAGE","value":"prod","type":"PLAINTEXT"}].`);
  }
  if (!Array.isArray(parsed)) throw new JobConfigurationError(`${PROPERTY.environmentVariables} must be a JSON array of {"name","value","type"} objects.`);
  const seen = new Set<string>();
  return parsed.map((item: unknown, i) => {
    const o = (item ?? {}) as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : '';
    const label = name || `#${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(label, 'must be an object with "name", "value" and "type".');
    const extra = Object.keys(o).filter((k) => !['name', 'value', 'type'].includes(k));
    if (extra.length) throw bad(label, `has unknown key(s) ${extra.join(', ')}; only "name", "value" and "type" are allowed.`);
    if (!VARIABLE_NAME.test(name)) throw bad(label, 'needs a "name" of 1 to 128 letters, digits and underscores, not starting with a digit.');
    if (name.toUpperCase().startsWith(RESERVED_PREFIX)) throw bad(name, `is reserved: the build document sets the ${RESERVED_PREFIX}* variables. Rename it.`);
    if (isDocumentName(name)) throw bad(name, `is reserved: the build document itself uses ${DOCUMENT_PREFIXES.map((p) => `${p}*`).join(', ')}, ${[...DOCUMENT_NAMES].join(', ')}. Rename it.`);
    // Names that differ only in case are one variable on Windows: refused everywhere, so an action behaves the same on both.
    if (seen.has(name.toUpperCase())) throw bad(name, 'is set twice (names that differ only in case are one variable on Windows). Keep one.');
    seen.add(name.toUpperCase());
    const type = o.type === undefined ? 'PLAINTEXT' : o.type;
    if (typeof type !== 'string' || !(VARIABLE_TYPES as readonly string[]).includes(type)) {
      throw bad(name, `has type ${JSON.stringify(type)}; use ${VARIABLE_TYPES.join(', ')}.`);
    }
    // CodePipeline's EnvironmentVariable value is 1 to 2000 characters (API_EnvironmentVariable.html above); the binding
    // bound is the property's own, a configuration value of 1 to 1000 characters for the whole array
    // (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionConfiguration.html).
    if (typeof o.value !== 'string' || o.value.length < 1 || o.value.length > 2000) throw bad(name, 'needs a "value": a string of 1 to 2000 characters.');
    const variable: EnvironmentVariable = { name, type: type as VariableType, value: o.value };
    checkReference(variable, scope);
    return variable;
  });
}

/**
 * Parses ExportedVariables: comma-separated variable names, each at most once, none of them a PARAMETER_STORE or
 * SECRETS_MANAGER variable of `environment`: its value would become an output variable, which everyone who can view
 * the pipeline reads (the issue: secret values never in the job's result).
 */
export function parseExportedVariables(raw: string, environment: readonly EnvironmentVariable[] = []): string[] {
  if (raw.trim() === '') return [];
  const names = raw.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!VARIABLE_NAME.test(name)) {
      throw new JobConfigurationError(`${PROPERTY.exportedVariables}: ${JSON.stringify(name.slice(0, 80))} is not a variable name (1 to 128 letters, digits and underscores, not starting with a digit). List names separated by commas, like VERSION,IMAGE_TAG.`);
    }
  }
  if (new Set(names).size !== names.length) throw new JobConfigurationError(`${PROPERTY.exportedVariables} names a variable twice: ${raw.trim()}. Keep each once.`);
  // In any case: Windows' names are case-insensitive, so "token" would export the secret TOKEN there.
  const upper = new Set(names.map((n) => n.toUpperCase()));
  const secret = environment.find((v) => v.type !== 'PLAINTEXT' && upper.has(v.name.toUpperCase()));
  if (secret) {
    throw new JobConfigurationError(
      `${PROPERTY.exportedVariables} names ${secret.name}, a ${secret.type} variable of ${PROPERTY.environmentVariables}: its value would become an output variable, which anyone who can view the pipeline reads. Remove it from ${PROPERTY.exportedVariables}.`,
    );
  }
  return names;
}
