import type { Job } from '@aws-sdk/client-codepipeline';
import type { Logger } from '@aws-lambda-powertools/logger';
import { acknowledgeJob, putJobFailure } from '../shared/codepipeline';
import { errorCode, errorMessage } from '../shared/errors';
import { buildDeadline, RENEWING_STATES, roundSeconds } from '../shared/renewal';
import { executionArnOf, executionStatus, latestExit, latestWaitingTask, resumeTask } from '../shared/sfn';
import type { ContinuationHandover, FailureType, JobRenewal } from '../shared/types';

export type ContinuationOutcome = 'continued' | 'continuation-failed' | 'not-started' | 'duplicate';

/** How a continuation job no execution waits for fails (its build is gone: the stage must run again). */
export const CONTINUATION_FAILURE: FailureType = 'JobFailed';

/**
 * A continuation job (its data carries the continuation token: the name of the execution whose
 * build it continues) starts nothing: it is handed to that execution, which waits in "Renew Job" (or, in its fleet's
 * line, "Report Place In Line").
 * The task token is the one that task received, in the execution's history; the handover is its
 * output (the job, its nonce, and the next round's length), and the execution acknowledges the job.
 * A job no execution waits for (it ended, or is not renewing) is acknowledged and failed here, with
 * a message that says why: it must not be left without a result. A job the execution was already
 * handed (CodePipeline offered it again, with a new nonce, before the execution acknowledged it) is
 * left alone: the execution's acknowledgement then fails on the stale nonce and it waits, through
 * "Renew Job", for the next offer.
 */
export async function handContinuation(job: Job, stateMachineArn: string, renewalSeconds: number, logger: Logger, now: number): Promise<ContinuationOutcome> {
  const jobId = job.id ?? '';
  const name = job.data?.continuationToken ?? '';
  const executionArn = executionArnOf(stateMachineArn, name);
  try {
    const status = /^[0-9A-Za-z_-]{1,80}$/.test(name) ? await executionStatus(executionArn) : null;
    const waiting = status === 'RUNNING' ? await latestWaitingTask(executionArn, RENEWING_STATES) : null;
    if (waiting) {
      const renewal = waiting.payload as unknown as JobRenewal;
      const deadline = buildDeadline(renewal.readyAt, renewal.waitTimeoutSeconds);
      // The round the renewing state asks for (a job in line refreshes its place sooner than a build renews).
      const round = Number.isInteger(renewal.renewalSeconds) && renewal.renewalSeconds > 0 ? Math.min(renewal.renewalSeconds, renewalSeconds) : renewalSeconds;
      const handover: ContinuationHandover = {
        jobId,
        nonce: job.nonce ?? '',
        renewAfterSeconds: roundSeconds(now, now + round * 1000, deadline, round),
      };
      if (await resumeTask(waiting.taskToken, handover)) {
        logger.info('continuation job handed to its build execution', { jobId, executionArn });
        return 'continued';
      }
    }
    if (status === 'RUNNING' && (await handedOver(executionArn, jobId))) {
      logger.info('continuation job already handed to its build execution; offered again, left to it', { jobId, executionArn });
      return 'duplicate';
    }
    const why = status === 'RUNNING' ? 'is not waiting for a continuation job' : `is ${status ?? 'unknown to Step Functions'}`;
    if (!(await acknowledgeJob(jobId, job.nonce ?? '')).owned) {
      // Offered again with a new nonce meanwhile: that offer's worker owns the job and fails it.
      logger.info('continuation job not failed here: its nonce is stale, a newer offer owns it', { jobId, executionArn });
      return 'not-started';
    }
    await putJobFailure(
      jobId,
      CONTINUATION_FAILURE,
      `This job continues the build of execution ${name || '(none named)'}, which ${why}: the build is not running any more, so this job cannot report its result. Retry the stage.`,
      executionArn,
    );
    logger.warn('continuation job failed: its build execution does not wait for it', { jobId, executionArn, status });
    return 'continuation-failed';
  } catch (err) {
    logger.error('could not hand the continuation job over; CodePipeline will offer it again', { jobId, reason: `${errorCode(err)}: ${errorMessage(err)}` });
    return 'not-started';
  }
}

/** Whether the execution's latest handover (the output of its latest "Renew Job") was this job. */
async function handedOver(executionArn: string, jobId: string): Promise<boolean> {
  const last = await latestExit(executionArn, RENEWING_STATES);
  return (last?.output.continuation as { jobId?: string } | undefined)?.jobId === jobId;
}
