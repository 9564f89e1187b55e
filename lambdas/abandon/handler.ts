import { loadStateMachineArn } from '../shared/config';
import { createLogger } from '../shared/logger';
import { runningExecutions, stopExecution } from '../shared/sfn';
import type { ExecutionInput } from '../shared/types';

/** The part of an ABANDONED "CodePipeline Action Execution State Change" event this handler reads. */
export interface AbandonEvent {
  readonly detail: { readonly pipeline: string; readonly 'execution-id': string; readonly stage: string; readonly action: string };
}

const stateMachineArn = loadStateMachineArn();
const logger = createLogger('abandon');

/**
 * "Stop and abandon": stops the build executions of the abandoned action. Their end (ABORTED)
 * reaches the execution-events handler, which terminates their instances.
 */
export const handler = async (event: AbandonEvent): Promise<{ stopped: number }> => {
  const d = event.detail;
  logger.appendKeys({ pipeline: d.pipeline, pipelineExecutionId: d['execution-id'], stage: d.stage, action: d.action });
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
  return { stopped };
};
