import { GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand, type ActionExecutionDetail } from '@aws-sdk/client-codepipeline';
import type { Clients } from './clients';

export interface Outcome {
  /** PipelineExecution.status at the end (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html). */
  readonly status: string;
  /** The build action's execution, when it started. */
  readonly action?: ActionExecutionDetail;
  /** Every action execution of the run (a failed source says why here). */
  readonly actions: ActionExecutionDetail[];
}

export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/** Waits `ms`, or less if the signal fires; leaves no listener behind. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Watches a pipeline execution until it ends: GetPipelineState for each stage's progress (printed
 * as it changes), GetPipelineExecution for the end, ListActionExecutions for the build action's
 * details. Throws Interrupted when the signal fires, Error when `deadline` passes.
 */
export async function watch(c: Clients, pipelineName: string, pipelineExecutionId: string, o: { pollMs: number; deadline: number; signal: AbortSignal; log: (line: string) => void }): Promise<Outcome> {
  const seen = new Map<string, string>();
  for (;;) {
    if (o.signal.aborted) throw new Interrupted('interrupted');
    if (Date.now() > o.deadline) throw new Error(`the pipeline did not finish within --timeout-minutes`);
    const state = await c.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName }));
    for (const stage of state.stageStates ?? []) {
      if (stage.latestExecution?.pipelineExecutionId !== pipelineExecutionId) continue;
      const status = stage.latestExecution.status ?? '';
      if (seen.get(stage.stageName!) !== status) o.log(`stage ${stage.stageName}: ${status}`);
      seen.set(stage.stageName!, status);
    }
    const execution = (await c.codepipeline.send(new GetPipelineExecutionCommand({ pipelineName, pipelineExecutionId }))).pipelineExecution;
    const status = execution?.status ?? 'InProgress';
    if (status !== 'InProgress' && status !== 'Stopping') {
      const actions = await c.codepipeline.send(new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId } }));
      const all = actions.actionExecutionDetails ?? [];
      return { status, action: all.find((a) => a.stageName === 'Build'), actions: all };
    }
    await sleep(o.pollMs, o.signal);
  }
}
