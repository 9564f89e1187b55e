import * as fs from 'node:fs';
import { FLEET_LIMITS } from '../lambdas/shared/fleets';
import { WAIT_MARGIN_SECONDS } from '../lambdas/poller/job';
import { MAX_TIMEOUT_MINUTES } from '../lambdas/shared/properties';
import { MIN_ROUND_SECONDS } from '../lambdas/shared/renewal';

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
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: readonly Retrier[];
}

export interface StateMachineDefinition {
  readonly TimeoutSeconds?: number;
  readonly States: Record<string, State>;
}

export interface LongestJobLimits {
  /** How long one call of "Is Instance Ready?"'s function can take (its timeout): a failed registration comes within it. */
  readonly watchSeconds: number;
  /** The largest value each TimeoutSecondsPath in the ASL can take. */
  readonly timeoutPaths: Record<string, number>;
}

/** The longest build plus the poller's margin for SSM to report it. */
const LONGEST_WAIT_SECONDS = MAX_TIMEOUT_MINUTES * 60 + WAIT_MARGIN_SECONDS;

/**
 * The largest value of each TimeoutSecondsPath: `$.job.waitTimeoutSeconds`, and the rounds of the wait for the build
 * between job renewals (lambdas/shared/renewal.ts roundSeconds: never past the build's deadline, so never longer than
 * the whole wait).
 */
export const TIMEOUT_PATHS: Record<string, number> = {
  // The longest wait in a fleet's line: the poller sets the fleet's maxQueueMinutes (lineSeconds).
  '$.job.fleet.queueTimeoutSeconds': FLEET_LIMITS.maxQueueMinutes.max * 60,
  '$.job.waitTimeoutSeconds': LONGEST_WAIT_SECONDS,
  '$.ready.buildWaitSeconds': LONGEST_WAIT_SECONDS,
  '$.continuation.renewAfterSeconds': LONGEST_WAIT_SECONDS,
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
  // A .waitForTaskToken task invokes its function first and then waits: Lambda's own errors come with the invocation,
  // before the wait, so they too are bounded like the task's own errors.
  const waitsForToken = state.Resource?.endsWith('.waitForTaskToken') ?? false;
  const own = (r: Retrier) => r.ErrorEquals.every((e) => (waitsForToken || !e.startsWith('Lambda.')) && !e.startsWith('States.'));
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

/**
 * The longest wait for the build, renewals included. Each round ("Run Build", then "Wait For Build" after each renewal)
 * ends at the job's horizon or at the build's deadline (readiness plus the whole wait), whichever comes first, so the
 * rounds add up to the build's own bound, not to their sum. Past the deadline, "Renew Job" fails at once; the most it can
 * still take is one renewal started just before the deadline: the wait for its continuation job, the acknowledgement,
 * and one shortest round of "Wait For Build" (whose function then gives up).
 */
function buildSeconds(definition: StateMachineDefinition, limits: LongestJobLimits): number {
  const lastRound = { ...limits, timeoutPaths: { ...limits.timeoutPaths, '$.continuation.renewAfterSeconds': MIN_ROUND_SECONDS } };
  return (
    stateSeconds(definition, 'Run Build', limits, SDK_CALL_SECONDS) +
    stateSeconds(definition, 'Renew Job', limits) +
    stateSeconds(definition, 'Acknowledge Continuation Job', limits) +
    stateSeconds(definition, 'Wait For Build', lastRound)
  );
}

/**
 * The longest wait in a fleet's line, as buildSeconds for the build: the rounds of reporting the job's place and
 * waiting ("Report Place In Line", its acknowledgement, "Wait For Fleet Slot") end at the fleet's maxQueueMinutes from
 * the job's enqueue time, so they add up to that bound; past it the report fails at once, and the most it can still
 * take is one round started just before it.
 */
function lineSeconds(definition: StateMachineDefinition, limits: LongestJobLimits): number {
  const lastRound = { ...limits, timeoutPaths: { ...limits.timeoutPaths, '$.continuation.renewAfterSeconds': MIN_ROUND_SECONDS } };
  return (
    limits.timeoutPaths['$.job.fleet.queueTimeoutSeconds'] +
    stateSeconds(definition, 'Report Place In Line', limits) +
    stateSeconds(definition, 'Acknowledge Queued Continuation Job', limits) +
    stateSeconds(definition, 'Wait For Fleet Slot', lastRound)
  );
}

/** Each phase of the longest job from the launch (or a pool member's claim) on, in seconds. */
export function longestJobPhases(definition: StateMachineDefinition, limits: LongestJobLimits): Record<string, number> {
  const inputUrl = stateSeconds(definition, 'Get Input Artifact URL', limits);
  return {
    // A pool member is aged from its claim, inside Launch Instance, whose retries (a throttled takeover) come after it.
    launch: stateSeconds(definition, 'Launch Instance', limits),
    inputUrl,
    // A failed registration returns within the function's timeout; then the Retry's interval. Registered, the wait is
    // bounded by the task's TimeoutSeconds.
    readiness: stateSeconds(definition, 'Is Instance Ready?', limits, limits.watchSeconds),
    // "Is The Input URL Fresh?" signs the input URL again after a slow boot, then looks at the (ready) instance once more.
    refreshInputUrl: inputUrl + attemptSeconds('Is Instance Ready?', definition.States['Is Instance Ready?'], limits),
    build: buildSeconds(definition, limits),
    outputUrl: stateSeconds(definition, 'Get Output Upload URL', limits),
    upload: stateSeconds(definition, 'Upload Output Artifact', limits, SDK_CALL_SECONDS),
    release: stateSeconds(definition, 'Release Instance', limits),
  };
}

/** The longest job from the launch on, in whole minutes, rounded up. */
export function longestJobMinutes(definition: StateMachineDefinition, limits: LongestJobLimits): number {
  const seconds = Object.values(longestJobPhases(definition, limits)).reduce((a, b) => a + b, 0);
  return Math.ceil(seconds / 60);
}

/**
 * The longest execution, in seconds: acknowledging, storing the build's environment, the fleet's line, the longest job from its launch on (twice: a
 * Spot build's rerun), and reporting. The execution's own TimeoutSeconds must be at least this, or Step Functions
 * would end a job that is still within its bounds, outside its Catch.
 */
export function longestExecutionSeconds(definition: StateMachineDefinition, limits: LongestJobLimits): number {
  // A fleet's job may pass Launch Instance twice: once finding no free slot (NoFreeFleetSlot), then, after the line,
  // the launch counted in longestJobPhases.
  const before =
    stateSeconds(definition, 'Acknowledge Job', limits) + stateSeconds(definition, 'Store Build Environment', limits) + stateSeconds(definition, 'Launch Instance', limits) + stateSeconds(definition, 'Take Fleet Slot', limits) + lineSeconds(definition, limits);
  const after = Object.values(longestJobPhases(definition, limits)).reduce((a, b) => a + b, 0);
  // A Spot build that was interrupted runs once more, from the launch, on on-demand ("Rerun On Demand").
  const runs = 2;
  return before + runs * after + stateSeconds(definition, 'Free Fleet Slot', limits) + stateSeconds(definition, 'Report Result', limits);
}

/** Reads the ASL file as CDK deploys it (its ${Placeholders} are all inside strings, so it parses as it is). */
export function readDefinition(file: string): StateMachineDefinition {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StateMachineDefinition;
}
