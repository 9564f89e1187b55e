import { ENV } from './env';
import { FleetValueError, parseFleets, type Fleet } from './fleets';
import type { ActionTypeRef } from './types';
import type { EnvironmentScope } from './build-environment';
import { HOLD_LIMITS, isHoldMinutes } from './hold';

/** Thrown at cold start when the stack did not set a variable a function needs, or set one it cannot use. */
export class MissingConfigError extends Error {
  // A literal, not the class's name at run time: bundles are minified.
  override readonly name = 'MissingConfigError' as const;
  /** `value`: what the variable holds when it is set but unusable (`expected` says what it must be). */
  constructor(variable: string, options?: ErrorOptions & { value?: string; expected?: string }) {
    super(
      options?.value === undefined
        ? `environment variable ${variable} is not set; the stack sets it on every function that needs it`
        : `environment variable ${variable} must be ${options.expected ?? 'usable'}, got ${JSON.stringify(options.value)}; the stack sets it on every function that needs it`,
      { cause: options?.cause },
    );
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new MissingConfigError(name);
  return value;
}

/** The versions of the action type the provider serves (ACTION_VERSION lists them, comma-separated: kept ones, then the current). */
export function loadActionTypes(env: NodeJS.ProcessEnv = process.env): ActionTypeRef[] {
  const category = required(env, ENV.actionCategory);
  const provider = required(env, ENV.actionProvider);
  const versions = required(env, ENV.actionVersion).split(',').map((v) => v.trim());
  if (versions.some((v) => v === '')) throw new MissingConfigError(ENV.actionVersion, { value: env[ENV.actionVersion], expected: 'a comma-separated list of versions' });
  return versions.map((version) => ({ category, owner: 'Custom', provider, version }));
}

/** The value of the stack's tag on its instances. */
export function loadStackTagValue(env: NodeJS.ProcessEnv = process.env): string {
  return required(env, ENV.stackTagValue);
}

export function loadStateMachineArn(env: NodeJS.ProcessEnv = process.env): string {
  return required(env, ENV.stateMachineArn);
}

export interface LaunchConfig {
  readonly launchTemplateId: string;
  /** Subnets to try in order when one lacks capacity; empty means the launch template's. */
  readonly subnetIds: readonly string[];
  readonly stackTagValue: string;
  /** Size of the encrypted root volume, repeated when the AMI's root device is not the template's. */
  readonly rootVolumeGiB: number;
}

export function loadLaunchConfig(env: NodeJS.ProcessEnv = process.env): LaunchConfig {
  const subnets = (env[ENV.subnetIds] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    launchTemplateId: required(env, ENV.launchTemplateId),
    subnetIds: subnets,
    stackTagValue: required(env, ENV.stackTagValue),
    rootVolumeGiB: Number(required(env, ENV.rootVolumeGiB)),
  };
}

export function loadS3ForcePathStyle(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ENV.s3ForcePathStyle] === 'true';
}

export interface SweeperConfig {
  readonly stackTagValue: string;
  /** Instances older than this are terminated whatever their execution says. */
  readonly maxJobMinutes: number;
  /** The build document, whose finished commands the sweeper re-delivers to waiting builds. */
  readonly buildDocumentName: string;
  /** How long an event (ABANDONED, an execution's end) has to be handled before the sweeper does its work instead. */
  readonly eventGraceMs: number;
}

export function loadSweeperConfig(env: NodeJS.ProcessEnv = process.env): SweeperConfig {
  const maxJobMinutes = Number(required(env, ENV.maxJobMinutes));
  if (!Number.isFinite(maxJobMinutes) || maxJobMinutes <= 0) throw new MissingConfigError(ENV.maxJobMinutes, { value: env[ENV.maxJobMinutes], expected: 'a positive number of minutes' });
  const eventGraceMs = Number(required(env, ENV.eventGraceMs));
  if (!Number.isFinite(eventGraceMs) || eventGraceMs < 0) throw new MissingConfigError(ENV.eventGraceMs, { value: env[ENV.eventGraceMs], expected: 'a number of milliseconds, 0 or more' });
  return { stackTagValue: required(env, ENV.stackTagValue), maxJobMinutes, buildDocumentName: required(env, ENV.buildDocumentName), eventGraceMs };
}

/** How long one instance check keeps looking before it hands back to the state machine's Retry. */
export function loadCheckWatchMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(required(env, ENV.checkWatchMs));
  if (!Number.isFinite(ms) || ms < 0) throw new MissingConfigError(ENV.checkWatchMs, { value: env[ENV.checkWatchMs], expected: 'a number of milliseconds, 0 or more' });
  return ms;
}

/** A positive number of milliseconds from `name`, or a MissingConfigError naming it. */
function positiveMs(env: NodeJS.ProcessEnv, name: string): number {
  const ms = Number(required(env, name));
  if (!Number.isFinite(ms) || ms <= 0) throw new MissingConfigError(name, { value: env[name], expected: 'a number of milliseconds, more than 0' });
  return ms;
}

/** The readiness watcher function's name or ARN ("Is Instance Ready?" starts it). */
export function loadReadinessWatcher(env: NodeJS.ProcessEnv = process.env): string {
  return required(env, ENV.readinessWatcher);
}

/** How long a build waits for its instance to be ready ("Is Instance Ready?" registration). */
export function loadReadyWithinMs(env: NodeJS.ProcessEnv = process.env): number {
  return positiveMs(env, ENV.readyWithinMs);
}

/** How long after its launch a registration is the build's first, which does not look (lambdas/instance-check/register.ts). */
export function loadFirstRegistrationMs(env: NodeJS.ProcessEnv = process.env): number {
  return positiveMs(env, ENV.firstRegistrationMs);
}

/** The readiness watcher's timing (lambdas/shared/readiness.ts WatchTiming). */
export function loadWatchTiming(env: NodeJS.ProcessEnv = process.env): { tickMs: number; runMs: number } {
  return { tickMs: positiveMs(env, ENV.watchTickMs), runMs: positiveMs(env, ENV.watchRunMs) };
}

/** The job renewal interval in seconds (lambdas/shared/renewal.ts); the local cloud sets a few seconds. */
export function loadRenewalSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(required(env, ENV.jobRenewalSeconds));
  if (!Number.isInteger(seconds) || seconds < 1) throw new MissingConfigError(ENV.jobRenewalSeconds, { value: env[ENV.jobRenewalSeconds], expected: 'a whole number of seconds, 1 or more' });
  return seconds;
}

/**
 * The stack's fleets (FLEETS: the parsed fleets as JSON, checked again here so a hand-edited variable fails at cold
 * start with the path of the bad setting); none when the variable is unset or '{}'.
 */
export function loadFleets(env: NodeJS.ProcessEnv = process.env): Record<string, Fleet> {
  const raw = env[ENV.fleets];
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new MissingConfigError(ENV.fleets, { value: raw, expected: 'a JSON object of fleets', cause: err });
  }
  try {
    return parseFleets(value, ENV.fleets);
  } catch (err) {
    if (err instanceof FleetValueError) throw new MissingConfigError(ENV.fleets, { value: raw, expected: `usable fleets (${err.message})`, cause: err });
    throw err;
  }
}

/** A comma-separated list; unset or empty: none. */
function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}

/** The stack's build log group (BUILD_LOG_GROUP_NAME), for the link to a build's output; '' when unset: no link. */
export function loadBuildLogGroup(env: NodeJS.ProcessEnv = process.env): string {
  return env[ENV.buildLogGroupName]?.trim() ?? '';
}

/** The stack's hold on failure in minutes (HOLD_ON_FAILURE_MINUTES, shared/hold.ts); unset: 0, no hold. */
export function loadHoldOnFailureMinutes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[ENV.holdOnFailureMinutes];
  if (raw === undefined || raw.trim() === '') return 0;
  const minutes = Number(raw);
  if (!isHoldMinutes(minutes)) throw new MissingConfigError(ENV.holdOnFailureMinutes, { value: raw, expected: `a whole number of minutes from ${HOLD_LIMITS.min} to ${HOLD_LIMITS.max}` });
  return minutes;
}

/**
 * Seconds in one minute of a hold: 60. The local cloud shortens it (HOLD_MINUTE_SECONDS), as it shortens a fleet's
 * queue minutes, for a fault that runs a whole hold in real time.
 */
export function loadHoldMinuteSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.HOLD_MINUTE_SECONDS ?? 60);
  return Number.isInteger(value) && value >= 1 ? value : 60;
}

/** Which parameters and secrets builds may name (PARAMETER_PREFIXES, SECRET_PREFIXES); unset: none. */
export function loadEnvironmentScope(env: NodeJS.ProcessEnv = process.env): EnvironmentScope {
  return { parameterPrefixes: list(env, ENV.parameterPrefixes), secretPrefixes: list(env, ENV.secretPrefixes) };
}

/**
 * The stack's job bucket (JOB_BUCKET_NAME), checked when a job first needs it: a function whose jobs need none (no
 * EnvironmentVariables, no ExportedVariables) works without it.
 */
export function loadJobBucket(env: NodeJS.ProcessEnv = process.env): () => string {
  const value = env[ENV.jobBucketName]?.trim() ?? '';
  return () => {
    if (value === '') throw new MissingConfigError(ENV.jobBucketName);
    return value;
  };
}
