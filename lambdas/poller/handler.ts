import type { Handler } from 'aws-lambda';
import { loadActionTypes, loadEnvironmentScope, loadFleets, loadHoldOnFailureMinutes, loadRenewalSeconds, loadStateMachineArn } from '../shared/config';
import { pollForJobs } from '../shared/codepipeline';
import { countingErrors } from '../shared/error-metrics';
import { measureReportedFailures } from '../shared/job-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { ActionTypeRef } from '../shared/types';
import { CONTINUATION_FAILURE } from './continuation';
import { dispatchJob, type DispatchOutcome } from './dispatch';

/** A "CodePipeline Action Execution State Change" event, or the safety-net schedule's event. */
export interface PollerEvent {
  readonly source?: string;
  readonly detail?: { readonly type?: { owner?: string; category?: string; provider?: string; version?: string | number } };
}

const actionTypes = loadActionTypes();
const stateMachineArn = loadStateMachineArn();
const renewalSeconds = loadRenewalSeconds();
const fleets = loadFleets();
const scope = loadEnvironmentScope();
const holdMinutes = loadHoldOnFailureMinutes();
const logger = createLogger('poller');
const metrics = createMetrics('poller');

/** The rule already filters on owner, category and provider; the version may arrive as a number. */
export function isOurAction(event: PollerEvent, ours: ActionTypeRef): boolean {
  const t = event.detail?.type;
  return !!t && t.owner === ours.owner && t.category === ours.category && t.provider === ours.provider && String(t.version) === ours.version;
}

/**
 * Polls the version a STARTED event names (when it is one this provider serves), and every version on the schedule
 * that catches jobs offered again.
 */
export const handler: Handler<PollerEvent, Record<DispatchOutcome, number>> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const counts: Record<DispatchOutcome, number> = { started: 0, rejected: 0, duplicate: 0, 'not-started': 0, continued: 0, 'continuation-failed': 0 };
  const pollable = event.source === 'aws.events' ? actionTypes : actionTypes.filter((t) => isOurAction(event, t));
  if (pollable.length === 0) {
    logger.info('event is for another version of this action type; ignoring', { type: event.detail?.type });
    return counts;
  }
  // The schedule's poll drains what is queued (continuation jobs of jobs waiting in a fleet's line come at any time,
  // with no event of their own): it polls again while a version returned a whole batch, for part of its time.
  const until = event.source === 'aws.events' ? Date.now() + Math.max(0, context.getRemainingTimeInMillis() - DRAIN_MARGIN_MS) : 0;
  let polled = 0;
  let versions = pollable;
  for (;;) {
    const full = await pollOnce(versions, counts);
    polled += full.polled;
    versions = full.versions;
    if (versions.length === 0 || Date.now() >= until) break;
  }
  logger.info('poll finished', { polled, ...counts });
  return counts;
});

/** Time the schedule's draining polls leave the function for the last dispatch. */
const DRAIN_MARGIN_MS = 15_000;

/**
 * Polls each version once and dispatches what came. One version's failure (ActionTypeNotFoundException while a
 * deployment adds it, throttling) leaves the others' jobs to dispatch; its jobs are offered again and the next poll
 * takes them. Returns the versions that gave a whole batch (more may wait).
 */
async function pollOnce(versions: readonly ActionTypeRef[], counts: Record<DispatchOutcome, number>): Promise<{ polled: number; versions: ActionTypeRef[] }> {
  const polls = await Promise.allSettled(versions.map((t) => pollForJobs(t, POLL_BATCH)));
  polls.forEach((p, i) => {
    if (p.status === 'rejected') logger.error('poll failed', { version: versions[i].version, error: p.reason as Error });
  });
  const [first] = polls;
  if (polls.every((p) => p.status === 'rejected') && first.status === 'rejected') throw first.reason;
  const jobs = polls.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
  const outcomes = await Promise.all(jobs.map((job) => dispatchJob(job, stateMachineArn, logger, renewalSeconds, new Date(), fleets, scope, holdMinutes)));
  for (const o of outcomes) counts[o] += 1;
  // A continuation job failed here was acknowledged by this dispatch just before: its failure is this call's to count.
  measureReportedFailures(metrics, CONTINUATION_FAILURE, outcomes.filter((o) => o === 'continuation-failed').length);
  return { polled: jobs.length, versions: versions.filter((_, i) => { const p = polls[i]; return p.status === 'fulfilled' && p.value.length >= POLL_BATCH; }) };
}

/** Jobs asked for per poll: PollForJobs' maxBatchSize (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PollForJobs.html). */
const POLL_BATCH = 10;
