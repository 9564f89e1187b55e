import {
  AcknowledgeJobCommand,
  CodePipelineClient,
  GetJobDetailsCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  InvalidJobStateException,
  InvalidNonceException,
  ListActionExecutionsCommand,
  PipelineExecutionNotFoundException,
  PipelineNotFoundException,
  PollForJobsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type ActionCategory,
  type ActionExecutionDetail,
  type Job,
  type JobData,
} from '@aws-sdk/client-codepipeline';
import type { ActionTypeRef, FailureType } from './types';

/** All CodePipeline job-worker calls. Nothing else imports the CodePipeline client. */
const client = new CodePipelineClient({});

/**
 * CodePipeline's limits on the texts a job worker reports: FailureDetails.message 1 to 5000 characters
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_FailureDetails.html), ExecutionDetails.summary up
 * to 2048 (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ExecutionDetails.html), the external
 * execution id up to 1500 (both pages). The completion fits its texts itself (the log link early, the log's end kept:
 * lambdas/completion/outcome.ts); the cut here is the last resort.
 */
export const LIMITS = { failureMessage: 5000, summary: 2048, externalExecutionId: 1500 } as const;

export async function pollForJobs(actionType: ActionTypeRef, maxBatchSize = 10): Promise<Job[]> {
  const out = await client.send(new PollForJobsCommand({ actionTypeId: { ...actionType, category: actionType.category as ActionCategory }, maxBatchSize }));
  return out.jobs ?? [];
}

/**
 * What AcknowledgeJob said: the job's status (InProgress when this worker now owns it), or that the
 * nonce was refused (InvalidNonceException): the nonce "ensure[s] that the job is being worked on by only one job
 * worker" (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_AcknowledgeJob.html), so a refused one
 * means another worker (or another offer of the job) owns it, and this one must leave it alone. The reference does not
 * say when CodePipeline offers a job again, nor that a later offer carries a new nonce; either way the job ends with
 * one owner: the worker whose nonce is accepted, or, if none is, the next poll's (the safety-net poll finds it).
 */
export type Acknowledgement = { readonly owned: true; readonly status: string } | { readonly owned: false };

export async function acknowledgeJob(jobId: string, nonce: string): Promise<Acknowledgement> {
  try {
    const out = await client.send(new AcknowledgeJobCommand({ jobId, nonce }));
    return { owned: true, status: out.status ?? 'Unknown' };
  } catch (err) {
    if (err instanceof InvalidNonceException) return { owned: false };
    throw err;
  }
}

/** Job details with fresh artifact credentials. */
export async function getJobDetails(jobId: string): Promise<JobData> {
  const out = await client.send(new GetJobDetailsCommand({ jobId }));
  if (!out.jobDetails?.data) throw new Error(`GetJobDetails returned no data for job ${jobId}`);
  return out.jobDetails.data;
}

export type ReportResult = 'reported' | 'already-reported';

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function report(send: () => Promise<unknown>): Promise<ReportResult> {
  try {
    await send();
    return 'reported';
  } catch (err) {
    // A second result for the same job: the first one stands (a retried completion).
    if (err instanceof InvalidJobStateException) return 'already-reported';
    throw err;
  }
}

export function putJobSuccess(jobId: string, executionArn: string, summary: string, outputVariables?: Record<string, string>): Promise<ReportResult> {
  return report(() =>
    client.send(
      new PutJobSuccessResultCommand({
        jobId,
        executionDetails: {
          externalExecutionId: truncate(executionArn, LIMITS.externalExecutionId),
          summary: truncate(summary, LIMITS.summary),
          percentComplete: 100,
        },
        // The final result only: never beside a continuation token (putJobContinuation below).
        ...(outputVariables && Object.keys(outputVariables).length > 0 ? { outputVariables } : {}),
      }),
    ),
  );
}

/**
 * Renews a job whose action goes on: a success with a continuation token, after which CodePipeline
 * creates a new job for the same action, its data carrying the token
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html). Never
 * with outputVariables: "outputVariables can be included only when there is no continuation token
 * on the request" (same page); the final result, on the last job, is the only one that may carry them.
 */
export function putJobContinuation(jobId: string, continuationToken: string, executionArn: string, summary: string): Promise<ReportResult> {
  return report(() =>
    client.send(
      new PutJobSuccessResultCommand({
        jobId,
        continuationToken,
        executionDetails: {
          externalExecutionId: truncate(executionArn, LIMITS.externalExecutionId),
          summary: truncate(summary, LIMITS.summary),
        },
      }),
    ),
  );
}

export function putJobFailure(
  jobId: string,
  type: FailureType,
  message: string,
  executionArn?: string,
): Promise<ReportResult> {
  return report(() =>
    client.send(
      new PutJobFailureResultCommand({
        jobId,
        failureDetails: {
          type,
          message: truncate(message, LIMITS.failureMessage),
          ...(executionArn ? { externalExecutionId: truncate(executionArn, LIMITS.externalExecutionId) } : {}),
        },
      }),
    ),
  );
}

/** The latest run of one action, as GetPipelineState shows it. */
export interface LatestAction {
  /** The pipeline execution that last ran the action's stage. */
  readonly pipelineExecutionId?: string;
  readonly actionExecutionId?: string;
  /** InProgress | Abandoned | Succeeded | Failed (ActionExecution.status). */
  readonly status?: string;
}

/**
 * The latest run of a stage's action: the stage's latest pipeline execution and the action's latest action execution
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html, StageState.latestExecution and
 * ActionState.latestExecution: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecution.html).
 * A retried stage gives its action a new action execution; a newer pipeline execution that reaches the stage becomes
 * its latest. Null when the pipeline does not exist; an empty object when it has no such stage or action (any more).
 */
export function latestActionRun(pipelineName: string, stageName: string, actionName: string): Promise<LatestAction | null> {
  return unlessGone(async () => {
    const out = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
    const stage = out.stageStates?.find((s) => s.stageName === stageName);
    const action = stage?.actionStates?.find((a) => a.actionName === actionName);
    return { pipelineExecutionId: stage?.latestExecution?.pipelineExecutionId, actionExecutionId: action?.latestExecution?.actionExecutionId, status: action?.latestExecution?.status };
  });
}

/** Null when the pipeline or its execution does not exist (deleted, or another pipeline now has the name). */
async function unlessGone<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof PipelineNotFoundException || err instanceof PipelineExecutionNotFoundException) return null;
    throw err;
  }
}

/**
 * Every action execution of one pipeline execution, all pages; null when the pipeline or the
 * execution does not exist. Statuses: InProgress | Abandoned | Succeeded | Failed
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html,
 * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html).
 */
export function listActionExecutions(pipelineName: string, pipelineExecutionId: string): Promise<ActionExecutionDetail[] | null> {
  return unlessGone(async () => {
    const out: ActionExecutionDetail[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId }, nextToken }));
      out.push(...(page.actionExecutionDetails ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  });
}

/**
 * The pipeline execution's status (Cancelled | InProgress | Stopped | Stopping | Succeeded |
 * Superseded | Failed: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html);
 * null when the pipeline or the execution does not exist.
 */
export function pipelineExecutionStatus(pipelineName: string, pipelineExecutionId: string): Promise<string | null> {
  return unlessGone(async () => {
    const out = await client.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }));
    return out.pipelineExecution?.status ?? null;
  });
}
