import type { Handler } from 'aws-lambda';
import { acknowledgeJob } from '../shared/codepipeline';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';

export interface AcknowledgeEvent {
  readonly jobId: string;
  readonly nonce: string;
}

export interface AcknowledgeResult {
  /** The job's status after the acknowledgement (InProgress for a job this execution runs), or NotOurs. */
  readonly status: string;
  /**
   * Always null. Executions started on the definition before "Store Build Environment" select `$.Payload.rejection`
   * from this function's result, and Step Functions may start executions on the previous definition for a moment after
   * an update (https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateStateMachine.html): without
   * the field their ResultSelector would fail after the job was acknowledged, leaving it without a result.
   */
  readonly rejection: null;
}

const logger = createLogger('acknowledge');
const metrics = createMetrics('acknowledge');

/**
 * "Acknowledge Job", the execution's first step, and the acknowledgement of each continuation job: from here on the
 * job has an owner that will report its result. A stale nonce means another worker owns the job: NotOurs, on which the
 * execution ends ("Is The Job Ours?" goes on with InProgress only) or, for a continuation job, waits for the next
 * handover ("Is The Continuation Job Ours?"). It does nothing else, so nothing delays the acknowledgement and a retry
 * of this task is a retry of AcknowledgeJob alone; a job's environment variables are stored by the next task ("Store
 * Build Environment"). Other errors fail the task, for the state machine to retry.
 */
export const handler: Handler<AcknowledgeEvent, AcknowledgeResult> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ jobId: event.jobId });
  const ack = await acknowledgeJob(event.jobId, event.nonce);
  if (!ack.owned) {
    logger.info('another worker owns this job');
    return { status: 'NotOurs', rejection: null };
  }
  logger.info('job acknowledged', { status: ack.status });
  return { status: ack.status, rejection: null };
});
