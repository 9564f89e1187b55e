import type { Handler } from 'aws-lambda';
import { loadActionTypes, loadFleets, loadRenewalSeconds, loadStateMachineArn } from '../shared/config';
import { pollForJobs } from '../shared/codepipeline';
import { createLogger } from '../shared/logger';
import type { ActionTypeRef } from '../shared/types';
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
const logger = createLogger('poller');

/** The rule already filters on owner, category and provider; the version may arrive as a number. */
export function isOurAction(event: PollerEvent, ours: ActionTypeRef): boolean {
  const t = event.detail?.type;
  return !!t && t.owner === ours.owner && t.category === ours.category && t.provider === ours.provider && String(t.version) === ours.version;
}

/**
 * Polls the version a STARTED event names (when it is one this provider serves), and every version on the schedule
 * that catches jobs offered again.
 */
export const handler: Handler<PollerEvent, Record<DispatchOutcome, number>> = async (event, context) => {
  logger.addContext(context);
  const counts: Record<DispatchOutcome, number> = { started: 0, rejected: 0, duplicate: 0, 'not-started': 0, continued: 0, 'continuation-failed': 0 };
  const polled = event.source === 'aws.events' ? actionTypes : actionTypes.filter((t) => isOurAction(event, t));
  if (polled.length === 0) {
    logger.info('event is for another version of this action type; ignoring', { type: event.detail?.type });
    return counts;
  }
  // One version's failure (ActionTypeNotFoundException while a deployment adds it, throttling) leaves the others' jobs
  // to dispatch; its jobs are offered again and the next poll takes them.
  const polls = await Promise.allSettled(polled.map((t) => pollForJobs(t)));
  polls.forEach((p, i) => {
    if (p.status === 'rejected') logger.error('poll failed', { version: polled[i].version, error: p.reason as Error });
  });
  const [first] = polls;
  if (polls.every((p) => p.status === 'rejected') && first.status === 'rejected') throw first.reason;
  const jobs = polls.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
  const outcomes = await Promise.all(jobs.map((job) => dispatchJob(job, stateMachineArn, logger, renewalSeconds, new Date(), fleets)));
  for (const o of outcomes) counts[o] += 1;
  logger.info('poll finished', { polled: jobs.length, ...counts });
  return counts;
};
