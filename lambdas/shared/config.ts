import { ENV } from './env';
import type { ActionTypeRef } from './types';

/** Thrown at cold start when the stack did not set a variable a function needs. */
export class MissingConfigError extends Error {
  // A literal, not the class's name at run time: bundles are minified.
  override readonly name = 'MissingConfigError' as const;
  constructor(variable: string, options?: ErrorOptions) {
    super(`environment variable ${variable} is not set; the stack sets it on every function that needs it`, options);
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
  if (versions.some((v) => v === '')) throw new MissingConfigError(ENV.actionVersion);
  return versions.map((version) => ({ category, owner: 'Custom', provider, version }));
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
  if (!Number.isFinite(maxJobMinutes) || maxJobMinutes <= 0) throw new MissingConfigError(ENV.maxJobMinutes);
  const eventGraceMs = Number(required(env, ENV.eventGraceMs));
  if (!Number.isFinite(eventGraceMs) || eventGraceMs < 0) throw new MissingConfigError(ENV.eventGraceMs);
  return { stackTagValue: required(env, ENV.stackTagValue), maxJobMinutes, buildDocumentName: required(env, ENV.buildDocumentName), eventGraceMs };
}

/** How long one instance check keeps looking before it hands back to the state machine's Retry. */
export function loadCheckWatchMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(required(env, ENV.checkWatchMs));
  if (!Number.isFinite(ms) || ms < 0) throw new MissingConfigError(ENV.checkWatchMs);
  return ms;
}

/** The job renewal interval in seconds (lambdas/shared/renewal.ts); the local cloud sets a few seconds. */
export function loadRenewalSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(required(env, ENV.jobRenewalSeconds));
  if (!Number.isInteger(seconds) || seconds < 1) throw new MissingConfigError(ENV.jobRenewalSeconds);
  return seconds;
}
