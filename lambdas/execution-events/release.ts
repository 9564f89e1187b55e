import type { Logger } from '@aws-lambda-powertools/logger';
import { putJobFailure } from '../shared/codepipeline';
import { loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import type { JobObjects } from '../shared/job-objects';
import { listTaggedInstances, terminateInstances, type TaggedInstance } from '../shared/ec2';
import { TAGS } from '../shared/env';
import type { PoolTable } from '../shared/pool-table';
import { STATES } from '../shared/renewal';
import { latestAcknowledgement } from '../shared/sfn';
import type { ExecutionInput, FailureType } from '../shared/types';
import { forgetPoolInstances, freeFleetSlot } from './fleet-slot';

/** What a "Step Functions Execution Status Change" event says about the execution that ended. */
export interface EndedExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly input?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
}

export interface ReleaseResult {
  readonly released: number;
  readonly reported: string;
}

/** How a job whose execution ended outside its own Catch fails: the system's, not the user's (retrying may succeed). */
export const ENDED_EXECUTION_FAILURE: FailureType = 'SystemUnavailable';

/** The state whose output says the execution owns its job. */
export const ACK_STATE = 'Acknowledge Job';

/**
 * The job the execution owns now: its first, or after job renewals the newest, whose acknowledgement
 * ("Acknowledge Continuation Job", or "Acknowledge Queued Continuation Job" in a fleet's line) holds its id in
 * $.continuation; null when it never owned one.
 */
async function ownedJob(detail: EndedExecution): Promise<string | null> {
  const ack = await latestAcknowledgement(detail.executionArn, [ACK_STATE, STATES.acknowledgeContinuation, STATES.acknowledgeQueuedContinuation]);
  if (!ack) return null;
  if (ack.state === ACK_STATE) return jobIdOf(detail);
  return (ack.output.continuation as { jobId?: string } | undefined)?.jobId ?? null;
}

export function jobIdOf(detail: EndedExecution): string {
  try {
    const input = JSON.parse(detail.input ?? '') as Partial<ExecutionInput>;
    if (input.jobId) return input.jobId;
  } catch {
    // the input may be missing from a large event; the name starts with the job id
  }
  return detail.name.slice(0, 36);
}

let objects: JobObjects | undefined;

/**
 * Deletes the execution's objects in the job bucket (its resolved environment, its exports), which "Report Result"
 * deletes when it runs; a failure is left to the bucket's expiry, and never holds up the job's result.
 */
async function removeJobObjects(executionName: string, logger: Logger): Promise<void> {
  try {
    // Loaded on first use: the S3 client is large, and most invocations of the watchdog and the sweeper never get here.
    objects ??= new (await import('../shared/job-objects')).JobObjects(loadJobBucket()(), loadS3ForcePathStyle());
    await objects.removeExecution(executionName);
  } catch (err) {
    logger.warn('could not delete the execution\'s job objects; the job bucket\'s expiry will', { error: (err as Error).name });
  }
}

/**
 * An execution that ended FAILED, TIMED_OUT or ABORTED outside its own Catch: terminate whatever
 * instance it launched (and forget it in the pool table when it was a pool instance), give back its
 * fleet slot, and fail its job if it owned it and no result was reported yet. `known`: its instances as a listing of the
 * stack's instances already found them (the sweeper's), so none is looked up again.
 */
export async function releaseEndedExecution(detail: EndedExecution, logger: Logger, table: PoolTable, now: Date, known?: readonly TaggedInstance[]): Promise<ReleaseResult> {
  const { executionArn, name, status } = detail;
  // The job's result matters more than the instance: a failed release is left to the sweeper.
  let released = 0;
  let instanceNote = 'It had no instance running.';
  try {
    const instances = known ?? (await listTaggedInstances({ [TAGS.execution]: name }));
    const ids = instances.map((i) => i.instanceId);
    await terminateInstances(ids);
    await forgetPoolInstances(table, instances);
    released = ids.length;
    if (ids.length) {
      instanceNote = 'Its instance was terminated.';
      logger.warn('terminated the instances of an execution that ended abnormally', { instanceIds: ids });
    }
  } catch (err) {
    instanceNote = 'Its instance could not be terminated now; the scheduled sweeper will terminate it.';
    logger.error('could not terminate the instances of an execution that ended abnormally', err as Error);
  }
  await freeFleetSlot(table, detail, now, logger);
  await removeJobObjects(name, logger);
  const jobId = await ownedJob(detail);
  if (!jobId) {
    logger.info('the execution never owned its job; CodePipeline offers it again');
    return { released, reported: 'not-owned' };
  }
  const why = [detail.error, detail.cause].filter(Boolean).join(': ') || 'no cause given';
  const reported = await putJobFailure(
    jobId,
    ENDED_EXECUTION_FAILURE,
    `The build execution ended ${status} before it reported a result (${why}). ${instanceNote} Retry the stage; if it persists, open the execution link.`,
    executionArn,
  );
  logger.info(reported === 'reported' ? 'job failed on behalf of the execution' : 'the job already had its result', { reported });
  return { released, reported };
}
