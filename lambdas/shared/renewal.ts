/**
 * Job renewals. CodePipeline times out a job that gets no result in time, and its quotas page
 * disagrees with itself: "All other actions: 1 hour" in its current edition, 24 hours for custom
 * actions in older ones (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).
 * To work under either, a build still running at its job's horizon renews the job: PutJobSuccessResult
 * with a continuationToken (the execution's name), which makes CodePipeline create a new job for
 * the same action ("Future jobs use this token to identify the running instance of the action":
 * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html), and
 * the poller hands that job to the running execution. Only the last job gets the build's result.
 */

/** State names the poller, the command-events handler and the sweeper look for in an execution's history. */
export const STATES = {
  /** Renews the job and waits (task token) for the poller to hand over the continuation job. */
  renewJob: 'Renew Job',
  /** Renews the job of a job in its fleet's line, its place in the summary, and waits as "Renew Job" does. */
  reportPlaceInLine: 'Report Place In Line',
  /** Waits (task token) for the running build's result after a renewal. */
  waitForBuild: 'Wait For Build',
  /** Acknowledges the continuation job: from then on the execution owns it. */
  acknowledgeContinuation: 'Acknowledge Continuation Job',
  /** The same, for a job in its fleet's line. */
  acknowledgeQueuedContinuation: 'Acknowledge Queued Continuation Job',
} as const;

/**
 * Default renewal interval: 45 minutes after the job was polled, so a renewal reaches CodePipeline
 * well within a 1-hour job timeout even when the job waited for the 5-minute safety-net poll.
 */
export const DEFAULT_RENEWAL_SECONDS = 45 * 60;

/**
 * The shortest wait of one round, so that "Wait For Build" has time to look at the command
 * before its task times out; never more than the interval itself (tests use a few seconds).
 */
export const MIN_ROUND_SECONDS = 60;

/** When the build's own wait ends: its TimeoutMinutes plus SSM's delivery and event margins, from readiness. */
export function buildDeadline(readyAt: string, waitTimeoutSeconds: number): number {
  return Date.parse(readyAt) + waitTimeoutSeconds * 1000;
}

/**
 * How long the next round of waiting for the build may last, in whole seconds (a Task state's
 * TimeoutSecondsPath must be a positive integer: https://states-language.net/spec.html#task-state):
 * until the job's horizon, never past the build's deadline, and at least a short round.
 */
export function roundSeconds(now: number, horizon: number, deadline: number, intervalSeconds: number): number {
  const shortest = Math.max(1, Math.min(MIN_ROUND_SECONDS, intervalSeconds));
  const until = Math.min(horizon, deadline);
  return Math.max(shortest, Math.floor((until - now) / 1000));
}

/** The states that renew a job and wait for the poller's handover of the continuation job. */
export const RENEWING_STATES: readonly string[] = [STATES.renewJob, STATES.reportPlaceInLine];

/**
 * How often, at most, a job in its fleet's line renews its job to show its place in the action's summary: every 5
 * minutes, or at each renewal when those come sooner. Each report is a job renewal (a PutJobSuccessResult, a
 * continuation job polled and acknowledged), so the refresh is kept slow.
 */
export const LINE_REFRESH_SECONDS = 300;

/**
 * How long a job waits in its fleet's line before it first reports its place: a job that gets a slot sooner never
 * renews its job (a renewal's handover waits for the poller, and a slot freed meanwhile waits with it).
 */
export const LINE_FIRST_REPORT_SECONDS = 30;
