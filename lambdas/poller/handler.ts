import type { Logger } from '@aws-lambda-powertools/logger';
import { loadActionType, loadStateMachineArn } from '../shared/config';
import { pollForJobs } from '../shared/codepipeline';
import { createLogger } from '../shared/logger';
import type { ActionTypeRef } from '../shared/types';
import { dispatchJob, type DispatchOutcome } from './dispatch';

/** The part of a "CodePipeline Action Execution State Change" event this handler reads. */
export interface ActionEvent {
  readonly detail?: { readonly type?: { owner?: string; category?: string; provider?: string; version?: string | number } };
}

const actionType = loadActionType();
const stateMachineArn = loadStateMachineArn();
const logger: Logger = createLogger('poller');

/** The rule already filters on owner, category and provider; the version may arrive as a number. */
export function isOurAction(event: ActionEvent, ours: ActionTypeRef): boolean {
  const t = event.detail?.type;
  return !!t && t.owner === ours.owner && t.category === ours.category && t.provider === ours.provider && String(t.version) === ours.version;
}

export const handler = async (event: ActionEvent): Promise<Record<DispatchOutcome, number>> => {
  const counts: Record<DispatchOutcome, number> = { started: 0, duplicate: 0, rejected: 0, 'not-started': 0, 'not-ours': 0 };
  if (!isOurAction(event, actionType)) {
    logger.info('event is for another version of this action type; ignoring', { type: event.detail?.type });
    return counts;
  }
  const jobs = await pollForJobs(actionType);
  const outcomes = await Promise.all(jobs.map((job) => dispatchJob(job, stateMachineArn, logger)));
  for (const o of outcomes) counts[o] += 1;
  logger.info('poll finished', { polled: jobs.length, ...counts });
  return counts;
};
