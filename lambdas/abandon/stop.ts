import type { Logger } from '@aws-lambda-powertools/logger';
import { runningExecutions, stopExecution } from '../shared/sfn';
import type { ExecutionInput } from '../shared/types';

/** The action that was stopped and abandoned, as its event names it. */
export interface AbandonedAction {
  readonly pipeline: string;
  readonly 'execution-id': string;
  readonly stage: string;
  readonly action: string;
}

/**
 * Stops the running build executions of the abandoned action; returns how many. Their end
 * (ABORTED) reaches the execution-events handler, which terminates their instances.
 */
export async function stopAbandonedBuilds(stateMachineArn: string, d: AbandonedAction, logger: Logger): Promise<number> {
  let stopped = 0;
  for (const execution of await runningExecutions(stateMachineArn)) {
    let input: Partial<ExecutionInput>;
    try {
      input = JSON.parse(execution.input) as Partial<ExecutionInput>;
    } catch {
      continue;
    }
    const p = input.pipeline;
    if (!p || p.name !== d.pipeline || p.executionId !== d['execution-id'] || p.stage !== d.stage || p.action !== d.action) continue;
    await stopExecution(execution.executionArn, `CodePipeline action ${d.stage}/${d.action} was stopped and abandoned`);
    logger.info('stopped the build of an abandoned action', { executionArn: execution.executionArn, jobId: input.jobId });
    stopped += 1;
  }
  return stopped;
}
