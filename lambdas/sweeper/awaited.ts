import { latestActionRun, listActionExecutions, pipelineExecutionStatus } from '../shared/codepipeline';
import type { PipelineRef } from '../shared/types';

/** The questions asked of CodePipeline about a pipeline execution, and about a held build's action (lambdas/shared/codepipeline.ts). */
export interface PipelineQuestions {
  readonly actions: typeof listActionExecutions;
  readonly status: typeof pipelineExecutionStatus;
  readonly latest: typeof latestActionRun;
}

/**
 * The questions, each asked once per pipeline execution for the life of this object (one sweep): builds of the same
 * pipeline execution (parallel actions, a retried stage) share the answers, so a sweep's CodePipeline calls grow with
 * the pipeline executions it asks about, never with their builds. A failed answer is not kept: the next build asks again.
 */
export function askedOnce(): PipelineQuestions {
  const memo = <T, A extends string[]>(call: (...args: A) => Promise<T>) => {
    const answers = new Map<string, Promise<T>>();
    return (...args: A): Promise<T> => {
      const key = args.join('\n');
      if (!answers.has(key)) {
        answers.set(key, call(...args).catch((err: unknown) => {
          answers.delete(key);
          throw err;
        }));
      }
      return answers.get(key)!;
    };
  };
  return { actions: memo(listActionExecutions), status: memo(pipelineExecutionStatus), latest: memo(latestActionRun) };
}

const DIRECT: PipelineQuestions = { actions: listActionExecutions, status: pipelineExecutionStatus, latest: latestActionRun };

/** Whether CodePipeline still waits for a build, and why not. */
export type Awaited = { readonly awaited: true; readonly why: string } | { readonly awaited: false; readonly why: string };

/**
 * Pipeline execution statuses in which no action of it is waited for any more
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html).
 * Stopping is not one: "Stop and wait" lets in-progress actions finish, and "Stop and abandon"
 * shows as the action's own Abandoned status.
 */
const OVER = new Set(['Cancelled', 'Stopped', 'Succeeded', 'Superseded', 'Failed']);

/**
 * Asks CodePipeline whether the build's action execution is still in progress: the one its job
 * names, else the newest of its stage and action in its pipeline execution (a job renewal keeps the
 * action execution and changes the job id, so the job id is not what is matched), then the pipeline
 * execution itself. A pipeline or pipeline execution that no longer exists waits for nothing
 * (action history is kept 12 months, longer than any build:
 * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html).
 * An action that changed less than `graceMs` before `now` is left to its event (the abandon handler).
 * Errors (throttling, access denied) are the caller's: it keeps the build.
 */
export async function stillAwaited(p: Partial<PipelineRef> | undefined, now: Date, graceMs: number, ask: PipelineQuestions = DIRECT): Promise<Awaited> {
  if (!p?.name || !p.executionId) return { awaited: true, why: 'its input names no pipeline execution' };
  const where = `pipeline ${p.name} execution ${p.executionId}`;
  const actions = await ask.actions(p.name, p.executionId);
  if (actions === null) return { awaited: false, why: `${where} no longer exists` };
  // Its own action execution when the input names it (a retried stage lists a newer one that is not this build's),
  // else the newest of its stage and action.
  const mine =
    actions.find((a) => p.actionExecutionId !== undefined && a.actionExecutionId === p.actionExecutionId) ??
    actions.filter((a) => a.stageName === p.stage && a.actionName === p.action).sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0))[0];
  // Not listed (yet: the list may lag the job): nothing says CodePipeline gave up on it.
  if (!mine) return { awaited: true, why: `${where} lists no action ${p.stage}/${p.action} yet` };
  if (mine.status !== 'InProgress') {
    const why = `its action ${p.stage}/${p.action} in ${where} is ${mine.status ?? 'unknown'}`;
    // lastUpdateTime: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html
    if (mine.lastUpdateTime && now.getTime() - mine.lastUpdateTime.getTime() < graceMs) return { awaited: true, why: `${why}, since less than ${graceMs} ms: left to its event` };
    return { awaited: false, why };
  }
  const status = await ask.status(p.name, p.executionId);
  if (status === null) return { awaited: false, why: `${where} no longer exists` };
  if (OVER.has(status)) return { awaited: false, why: `${where} is ${status}` };
  return { awaited: true, why: `its action is InProgress and ${where} is ${status}` };
}
