import { AwsError } from './aws-error';
import type { Operation } from './http';

/**
 * Jobs made by hand (the local runner's `runJob`: createJob without an action execution) stand for
 * a pipeline the pipeline API (pipelines.ts) never ran: a one-action pipeline execution named by
 * each job's pipelineContext. ListActionExecutions and GetPipelineExecution answer for them from the
 * jobs, as CodePipeline would for the pipeline they stand for, so that the sweeper, which asks
 * whether CodePipeline still waits for a build, sees these builds' actions as AWS would show them.
 */

/** What the answers need to know of one job. */
export interface HandMadeJob {
  readonly actionExecutionId: string;
  /** JobStatus (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_JobDetails.html). */
  readonly status: string;
  readonly data: Record<string, unknown>;
  readonly created: Date;
  /** When the job ended, if it did. */
  readonly endedAt?: Date;
}

interface ActionView {
  readonly pipelineName: string;
  readonly pipelineExecutionId: string;
  readonly actionExecutionId: string;
  readonly stageName: string;
  readonly actionName: string;
  readonly startTime: Date;
  readonly lastUpdateTime: Date;
  /** ActionExecution.status: InProgress | Abandoned | Succeeded | Failed (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecution.html). */
  readonly status: string;
}

/** The action execution's status from its newest job: a continuation's job replaces the one it renewed. */
function actionStatus(jobStatus: string): string {
  if (jobStatus === 'Succeeded' || jobStatus === 'Abandoned') return jobStatus;
  if (jobStatus === 'Failed' || jobStatus === 'TimedOut') return 'Failed';
  return 'InProgress';
}

function actionsOf(jobs: readonly HandMadeJob[], pipelineName: string): ActionView[] {
  const byAction = new Map<string, HandMadeJob[]>();
  for (const j of jobs) {
    const ctx = j.data.pipelineContext as { pipelineName?: string } | undefined;
    if (ctx?.pipelineName !== pipelineName) continue;
    byAction.set(j.actionExecutionId, [...(byAction.get(j.actionExecutionId) ?? []), j]);
  }
  return [...byAction.values()].map((all) => {
    const sorted = [...all].sort((a, b) => a.created.getTime() - b.created.getTime());
    const first = sorted[0];
    const newest = sorted[sorted.length - 1];
    const ctx = first.data.pipelineContext as { pipelineExecutionId?: string; stage?: { name?: string }; action?: { name?: string } };
    return {
      pipelineName,
      pipelineExecutionId: ctx.pipelineExecutionId ?? '',
      actionExecutionId: first.actionExecutionId,
      stageName: ctx.stage?.name ?? '',
      actionName: ctx.action?.name ?? '',
      startTime: first.created,
      lastUpdateTime: newest.endedAt ?? newest.created,
      status: actionStatus(newest.status),
    };
  });
}

/** PipelineExecution.status of a one-stage execution (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html). */
function pipelineStatus(actions: readonly ActionView[]): string {
  const statuses = actions.map((a) => a.status);
  if (statuses.includes('InProgress')) return 'InProgress';
  if (statuses.includes('Abandoned')) return 'Stopped';
  if (statuses.includes('Failed')) return 'Failed';
  return 'Succeeded';
}

const seconds = (d: Date) => d.getTime() / 1000;

function executionOf(actions: ActionView[], pipelineName: string, id: unknown): ActionView[] {
  const mine = actions.filter((a) => a.pipelineExecutionId === id);
  if (!mine.length) throw new AwsError('PipelineExecutionNotFoundException', `Pipeline execution with id '${String(id)}' does not exist in pipeline '${pipelineName}'`);
  return mine;
}

/**
 * GetPipelineState (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html) of a
 * pipeline made of hand-made jobs: each stage's latest pipeline execution, and each action's latest action execution
 * (the newest, whichever pipeline execution started it: a newer execution's or a retry's).
 */
function pipelineState(actions: ActionView[], name: string) {
  const newest = [...actions].sort((x, y) => y.startTime.getTime() - x.startTime.getTime());
  const stages = [...new Set(newest.map((a) => a.stageName))];
  return {
    pipelineName: name,
    pipelineVersion: 1,
    stageStates: stages.map((stageName) => {
      const inStage = newest.filter((a) => a.stageName === stageName);
      const latestId = inStage[0].pipelineExecutionId;
      return {
        stageName,
        inboundTransitionState: { enabled: true },
        latestExecution: { pipelineExecutionId: latestId, status: pipelineStatus(inStage.filter((a) => a.pipelineExecutionId === latestId)) },
        actionStates: [...new Set(inStage.map((a) => a.actionName))].map((actionName) => {
          const a = inStage.find((x) => x.actionName === actionName)!;
          return { actionName, latestExecution: { actionExecutionId: a.actionExecutionId, status: a.status, lastStatusChange: seconds(a.lastUpdateTime) } };
        }),
      };
    }),
  };
}

/**
 * The operations for hand-made jobs, falling back to `served` (the pipeline API) for any
 * pipeline no hand-made job names; PipelineNotFoundException when neither knows it.
 */
export function handMadeOperations(jobs: () => readonly HandMadeJob[], served: Partial<Record<string, Operation>>): Record<string, Operation> {
  const answer = (operation: string, respond: (actions: ActionView[], name: string, b: Record<string, unknown>) => unknown, nameField = 'pipelineName'): Operation => (b) => {
    const name = String(b[nameField]);
    const actions = actionsOf(jobs(), name);
    if (actions.length) return respond(actions, name, b);
    const op = served[operation];
    if (op) return op(b);
    throw new AwsError('PipelineNotFoundException', `Account '000000000000' does not have a pipeline with name '${name}'`);
  };
  return {
    // https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html: newest first.
    ListActionExecutions: answer('ListActionExecutions', (actions, name, b) => {
      const filter = (b.filter ?? {}) as { pipelineExecutionId?: string };
      const listed = filter.pipelineExecutionId ? executionOf(actions, name, filter.pipelineExecutionId) : actions;
      return {
        actionExecutionDetails: listed
          .sort((x, y) => y.startTime.getTime() - x.startTime.getTime())
          .slice(0, Number(b.maxResults ?? 100))
          .map(({ pipelineName: _name, ...a }) => ({ ...a, pipelineVersion: 1, startTime: seconds(a.startTime), lastUpdateTime: seconds(a.lastUpdateTime) })),
      };
    }),
    // Its request names the pipeline `name`, not `pipelineName`.
    GetPipelineState: answer('GetPipelineState', (actions, name) => pipelineState(actions, name), 'name'),
    // https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html
    GetPipelineExecution: answer('GetPipelineExecution', (actions, name, b) => {
      const mine = executionOf(actions, name, b.pipelineExecutionId);
      return { pipelineExecution: { pipelineName: name, pipelineVersion: 1, pipelineExecutionId: String(b.pipelineExecutionId), status: pipelineStatus(mine), artifactRevisions: [] } };
    }),
  };
}
