import { resumeTask } from '../shared/sfn';
import { getCommand } from '../shared/ssm';
import { isRunningStatus, type CommandResult } from '../shared/types';
import { stepThatRan } from './step';
/** How much of each output stream travels back into the state machine (its payload limit is 256 KB). */
export const TAIL_CHARS = 4000;

export function tail(text: string, max = TAIL_CHARS): string {
  return text.length <= max ? text : text.slice(text.length - max);
}

export interface FinishedCommand {
  readonly taskToken: string;
  readonly result: CommandResult;
}

/**
 * The task token the state machine passed to this command, and the command's result.
 * Null for a command this stack did not send (no TaskToken parameter).
 */
export async function collectResult(commandId: string, instanceId: string, eventStatus: string): Promise<FinishedCommand | null> {
  const command = await getCommand(commandId);
  const taskToken = command?.parameters.TaskToken?.[0];
  if (!taskToken) return null;
  const invocation = await stepThatRan(commandId, instanceId);
  // The event is the authority on the status: GetCommandInvocation may lag behind it for a moment.
  const lagging = isRunningStatus(invocation.status);
  return {
    taskToken,
    result: {
      commandId,
      status: lagging ? eventStatus : invocation.status,
      statusDetails: lagging ? eventStatus : invocation.statusDetails || invocation.status,
      exitCode: invocation.exitCode,
      outputTail: tail(invocation.stdout),
      errorTail: tail(invocation.stderr),
    },
  };
}

export type Delivery = { readonly outcome: 'resumed' | 'stale'; readonly exitCode: number } | { readonly outcome: 'ignored' };

/**
 * Hands a finished command's result to the build execution waiting on its task token: 'resumed',
 * 'stale' when that task had already ended, 'ignored' for a command this stack did not send.
 * Used for the status-change event and, by the sweeper, for an event that was lost.
 */
export async function deliverResult(commandId: string, instanceId: string, status: string): Promise<Delivery> {
  const finished = await collectResult(commandId, instanceId, status);
  if (!finished) return { outcome: 'ignored' };
  const resumed = await resumeTask(finished.taskToken, finished.result);
  return { outcome: resumed ? 'resumed' : 'stale', exitCode: finished.result.exitCode };
}
