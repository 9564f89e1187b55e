import type { Logger } from '@aws-lambda-powertools/logger';
import { actionKey, actionKeyOf } from '../shared/execution-names';
import { executionArnOf, executionInputOf, runningExecutionNames, stopExecution } from '../shared/sfn';
import type { ExecutionInput } from '../shared/types';

/** The action that was stopped and abandoned, as its event names it. */
export interface AbandonedAction {
  readonly pipeline: string;
  readonly 'execution-id': string;
  readonly stage: string;
  readonly action: string;
}

/** Whether an execution's input names the abandoned action. */
function isOf(inputJson: string, d: AbandonedAction): boolean {
  let input: Partial<ExecutionInput>;
  try {
    input = JSON.parse(inputJson) as Partial<ExecutionInput>;
  } catch {
    return false;
  }
  const p = input.pipeline;
  return !!p && p.name === d.pipeline && p.executionId === d['execution-id'] && p.stage === d.stage && p.action === d.action;
}

/**
 * Stops the running build executions of the abandoned action; returns how many. Their end (ABORTED) reaches the
 * execution-events handler, which terminates their instances. The running executions are listed by name (a page per
 * 1,000) and only those whose name carries the action's key are described, to confirm from their input (a key is 8 hex
 * digits: another action's may share it); an execution whose name carries no key (started before names did) is
 * described as before. So an abandon costs ceil(running / 1000) ListExecutions and about one DescribeExecution, not
 * one per running build.
 */
export async function stopAbandonedBuilds(stateMachineArn: string, d: AbandonedAction, logger: Logger): Promise<number> {
  const key = actionKey({ name: d.pipeline, executionId: d['execution-id'], stage: d.stage, action: d.action });
  const candidates = (await runningExecutionNames(stateMachineArn)).filter((name) => (actionKeyOf(name) ?? key) === key);
  let stopped = 0;
  for (const name of candidates) {
    const executionArn = executionArnOf(stateMachineArn, name);
    const input = await executionInputOf(executionArn);
    if (input === null || !isOf(input, d)) continue;
    await stopExecution(executionArn, `CodePipeline action ${d.stage}/${d.action} was stopped and abandoned`);
    logger.info('stopped the build of an abandoned action', { executionArn, jobId: (JSON.parse(input) as Partial<ExecutionInput>).jobId });
    stopped += 1;
  }
  return stopped;
}
