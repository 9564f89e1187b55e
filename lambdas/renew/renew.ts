import { putJobContinuation, type ReportResult } from '../shared/codepipeline';
import { BuildWaitExceededError } from '../shared/errors';
import { buildDeadline } from '../shared/renewal';
import type { JobRenewal } from '../shared/types';

/** What "Renew Job" tells CodePipeline about the job it renews (ExecutionDetails.summary, at most 2048 characters). */
export function renewalSummary(r: JobRenewal, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(r.readyAt)) / 60000));
  return `The build is still running (${minutes} min so far); it goes on under a new job of this action, which reports its result.`;
}

/**
 * Renews the job of a build still running at the job's horizon: a success with the execution's name
 * as continuation token. Not past the build's own deadline: then the build has had all its time, and
 * the current job gets the final result. A job that already has its result ('already-reported': a
 * continuation acknowledged by a worker that lost it, see "Is The Continuation Job Ours?") is not renewed
 * twice; the execution waits for the continuation job CodePipeline already created.
 */
export async function renewJob(r: JobRenewal, now: number): Promise<ReportResult> {
  if (now >= buildDeadline(r.readyAt, r.waitTimeoutSeconds)) {
    throw new BuildWaitExceededError(r.waitTimeoutSeconds);
  }
  return putJobContinuation(r.jobId, r.executionName, r.executionArn, renewalSummary(r, now));
}
