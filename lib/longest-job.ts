import * as fs from 'node:fs';
import { WAIT_MARGIN_SECONDS } from '../lambdas/poller/job';
import { MAX_TIMEOUT_MINUTES } from '../lambdas/shared/properties';

/**
 * How long a build instance can live while its execution still needs it, from the state machine's own numbers
 * (state-machines/build-job.asl.json), so that the sweeper's age limit never cuts a build or an upload and
 * follows any change of a timeout or a retry in the ASL.
 */

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

interface State {
  readonly Type: string;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: readonly Retrier[];
}

export interface StateMachineDefinition {
  readonly TimeoutSeconds?: number;
  readonly States: Record<string, State>;
}

export interface LongestJobLimits {
  /** How long one "Is Instance Ready?" call watches before it reports the instance not ready yet. */
  readonly watchSeconds: number;
  /** The largest value each TimeoutSecondsPath in the ASL can take. */
  readonly timeoutPaths: Record<string, number>;
}

/** The largest value of `$.job.waitTimeoutSeconds`: the longest build plus the poller's margin for SSM to report it. */
export const TIMEOUT_PATHS: Record<string, number> = {
  '$.job.waitTimeoutSeconds': MAX_TIMEOUT_MINUTES * 60 + WAIT_MARGIN_SECONDS,
};

// Retrier defaults of the Amazon States Language (IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0), and full jitter
// only ever shortens a wait: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error
const attemptsOf = (r: Retrier) => r.MaxAttempts ?? 3;
function delaySeconds(r: Retrier): number {
  let total = 0;
  for (let i = 0; i < attemptsOf(r); i++) total += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** i, r.MaxDelaySeconds ?? Infinity);
  return total;
}

/** A task's own bound on one attempt: its TimeoutSeconds, or the largest value its TimeoutSecondsPath can take. */
function attemptSeconds(name: string, state: State, limits: LongestJobLimits): number {
  if (state.TimeoutSeconds !== undefined) return state.TimeoutSeconds;
  const path = state.TimeoutSecondsPath;
  if (path !== undefined && limits.timeoutPaths[path] !== undefined) return limits.timeoutPaths[path];
  throw new Error(`"${name}" has ${path ? `TimeoutSecondsPath ${path}, whose largest value lib/longest-job.ts does not know` : 'no TimeoutSeconds'}: the longest job, and so the sweeper's age limit, would be unbounded`);
}

/**
 * Longest time one Task state can take: the first attempt and every retry running to their bound, plus every retry's
 * wait. `ownErrorSeconds` bounds a retried attempt that ended with one of the task's own errors (neither Lambda.* nor
 * States.*, which may come at the state's timeout): the readiness check's "not ready yet" after one watch, an SDK call's error.
 */
export function stateSeconds(definition: StateMachineDefinition, name: string, limits: LongestJobLimits, ownErrorSeconds?: number): number {
  const state = definition.States[name];
  if (state?.Type !== 'Task') throw new Error(`state machine has no Task state "${name}"`);
  const attempt = attemptSeconds(name, state, limits);
  const own = (r: Retrier) => r.ErrorEquals.every((e) => !e.startsWith('Lambda.') && !e.startsWith('States.'));
  const retrySeconds = (r: Retrier) => (ownErrorSeconds !== undefined && own(r) ? Math.min(ownErrorSeconds, attempt) : attempt);
  return (state.Retry ?? []).reduce((sum, r) => sum + attemptsOf(r) * retrySeconds(r) + delaySeconds(r), attempt);
}

/**
 * Allowance for one failed SDK call of an aws-sdk integration task (its errors are named after the service, e.g.
 * Ssm.InvalidInstanceIdException: https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
 * Such an error ends the attempt when the call returns, long before a task token's wait; Step Functions documents no
 * bound on the call itself, so this is a generous one.
 */
export const SDK_CALL_SECONDS = 60;

/** Each phase of the longest job after the instance is launched, in seconds. */
export function longestJobPhases(definition: StateMachineDefinition, limits: LongestJobLimits): Record<string, number> {
  const inputUrl = stateSeconds(definition, 'Get Input Artifact URL', limits);
  return {
    inputUrl,
    // Each "not ready yet" returns after one watch; then the Retry's interval.
    readiness: stateSeconds(definition, 'Is Instance Ready?', limits, limits.watchSeconds),
    // "Is The Input URL Fresh?" signs the input URL again after a slow boot, then looks at the (ready) instance once more.
    refreshInputUrl: inputUrl + attemptSeconds('Is Instance Ready?', definition.States['Is Instance Ready?'], limits),
    build: stateSeconds(definition, 'Run Build', limits, SDK_CALL_SECONDS),
    outputUrl: stateSeconds(definition, 'Get Output Upload URL', limits),
    upload: stateSeconds(definition, 'Upload Output Artifact', limits, SDK_CALL_SECONDS),
    release: stateSeconds(definition, 'Release Instance', limits),
  };
}

/** The longest job after launch, in whole minutes, rounded up. */
export function longestJobMinutes(definition: StateMachineDefinition, limits: LongestJobLimits): number {
  const seconds = Object.values(longestJobPhases(definition, limits)).reduce((a, b) => a + b, 0);
  return Math.ceil(seconds / 60);
}

/** Reads the ASL file as CDK deploys it (its ${Placeholders} are all inside strings, so it parses as it is). */
export function readDefinition(file: string): StateMachineDefinition {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StateMachineDefinition;
}
