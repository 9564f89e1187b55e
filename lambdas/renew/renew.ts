import { putJobContinuation, type ReportResult } from '../shared/codepipeline';
import { duration } from '../shared/duration';
import { BuildWaitExceededError, LineWaitExceededError } from '../shared/errors';
import { buildDeadline } from '../shared/renewal';
import type { JobRenewal } from '../shared/types';

/** A job's entry in its fleet's line, as "Report Place In Line" names it. */
export type LineEntry = NonNullable<JobRenewal['line']>;

/** How close to its deadline a wait in line counts as over (a round's length is whole seconds). */
const LINE_DEADLINE_SLACK_MS = 1000;

/** The fleet's line, as "Report Place In Line" reads it: a job's place (0 when it left the line), and leaving it. */
export interface Line {
  placeOf(entry: LineEntry): Promise<number>;
  leave(entry: LineEntry): Promise<void>;
}

/** What "Renew Job" tells CodePipeline about the job it renews (ExecutionDetails.summary, at most 2048 characters). */
export function renewalSummary(r: JobRenewal, now: number): string {
  const minutes = Math.max(0, Math.round((now - Date.parse(r.readyAt)) / 60000));
  return `The build is still running (${minutes} min so far); it goes on under a new job of this action, which reports its result.`;
}

/** An English ordinal: 1st, 2nd, 3rd, 4th, 11th, 22nd. */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/**
 * What "Report Place In Line" tells CodePipeline while the job waits for a slot of its fleet: its place (`position`,
 * 1 = next; 0 when its entry has left the line, as a slot came free for it), how long it has waited and its bound.
 */
export function lineSummary(r: JobRenewal, entry: LineEntry, position: number, now: number): string {
  const { fleet } = entry;
  const waited = duration(now - Date.parse(r.readyAt));
  if (position < 1) return `A build slot of fleet ${JSON.stringify(fleet.name)} came free after ${waited} in line; the build starts.`;
  return (
    `Waiting for a build slot of fleet ${JSON.stringify(fleet.name)}: ${ordinal(position)} in line; all ${fleet.maxConcurrent} (maxConcurrent) are in use. ` +
    `Waited ${waited} so far; gives up after ${fleet.maxQueueMinutes} min (maxQueueMinutes).`
  );
}

/**
 * Renews the job of a build still running at the job's horizon, or of a job in its fleet's line (renewInLine): a
 * success with the execution's name as continuation token. Not past the build's deadline: then the build has had all
 * its time, and the current job gets the final result. A job that already has its result ('already-reported': a
 * continuation acknowledged by a worker that lost it, see "Is The Continuation Job Ours?") is not renewed twice; the
 * execution waits for the continuation job CodePipeline already created.
 */
export async function renewJob(r: JobRenewal, now: number, line?: Line): Promise<ReportResult> {
  if (r.line) {
    if (!line) throw new TypeError('renewJob: a job in line needs its fleet\'s line');
    return renewInLine(r, r.line, now, line);
  }
  if (now >= buildDeadline(r.readyAt, r.waitTimeoutSeconds)) throw new BuildWaitExceededError(r.waitTimeoutSeconds);
  return putJobContinuation(r.jobId, r.executionName, r.executionArn, renewalSummary(r, now));
}

/**
 * Renews the job of a job in its fleet's line, its place in the summary; past maxQueueMinutes, the job leaves the
 * line, which gave it no slot in time, and fails (LineWaitExceeded) without renewing. A round ends on a whole second
 * at or before the deadline (roundSeconds floors): within that second the wait is over, rather than worth one more
 * renewal and a shortest round.
 */
async function renewInLine(r: JobRenewal, entry: LineEntry, now: number, line: Line): Promise<ReportResult> {
  if (now + LINE_DEADLINE_SLACK_MS >= buildDeadline(r.readyAt, r.waitTimeoutSeconds)) {
    await line.leave(entry);
    const { name, maxConcurrent, maxQueueMinutes } = entry.fleet;
    throw new LineWaitExceededError(
      `the job waited ${duration(now - Date.parse(r.readyAt))} in line for fleet ${JSON.stringify(name)}, whose ${maxConcurrent} builds at once (maxConcurrent) were all taken, and gave up (maxQueueMinutes ${maxQueueMinutes}). Retry the stage later, or raise the fleet's maxConcurrent or maxQueueMinutes and deploy.`,
    );
  }
  return putJobContinuation(r.jobId, r.executionName, r.executionArn, lineSummary(r, entry, await line.placeOf(entry), now));
}
