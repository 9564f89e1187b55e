import { commandTime, documentMarks } from '../shared/phases';
import { STATES } from '../shared/renewal';
import { executionArnOf, latestWaitingTask, resumeTask } from '../shared/sfn';
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
  /** The build execution that sent a build command (its ExecutionName parameter); empty for an upload. */
  readonly buildExecution: string;
}

/**
 * The task token the state machine passed to this command, and the command's result.
 * Null for a command this stack did not send (no TaskToken parameter).
 */
export async function collectResult(commandId: string, instanceId: string, eventStatus: string): Promise<FinishedCommand | null> {
  const command = await getCommand(commandId);
  const taskToken = command?.parameters.TaskToken?.[0];
  if (!taskToken) return null;
  const invocation = await stepThatRan(commandId, instanceId, { status: command.status || eventStatus, statusDetails: command.statusDetails || eventStatus });
  // The event is the authority on the status: GetCommandInvocation may lag behind it for a moment.
  const lagging = isRunningStatus(invocation.status);
  const isBuild = command?.parameters.Phase?.[0] === 'build';
  return {
    taskToken,
    buildExecution: isBuild ? command?.parameters.ExecutionName?.[0] ?? '' : '',
    result: {
      commandId,
      status: lagging ? eventStatus : invocation.status,
      statusDetails: lagging ? eventStatus : invocation.statusDetails || invocation.status,
      exitCode: invocation.exitCode,
      outputTail: tail(invocation.stdout),
      errorTail: tail(invocation.stderr),
      // Phase timings (shared/phases.ts): read from the whole of what SSM returned, before it is cut to its tail.
      startedAt: commandTime(invocation.startedAt),
      endedAt: commandTime(invocation.endedAt),
      marks: documentMarks(invocation.stderr),
    },
  };
}

export type Delivery = { readonly outcome: 'resumed' | 'stale'; readonly exitCode: number } | { readonly outcome: 'ignored' };

/**
 * Hands a finished command's result to the build execution waiting on its task token: 'resumed',
 * 'stale' when that task had already ended, 'ignored' for a command this stack did not send.
 * Used for the status-change event and, by the sweeper, for an event that was lost.
 */
export async function deliverResult(commandId: string, instanceId: string, status: string, stateMachineArn: string): Promise<Delivery> {
  const finished = await collectResult(commandId, instanceId, status);
  if (!finished) return { outcome: 'ignored' };
  let resumed = await resumeTask(finished.taskToken, finished.result);
  if (!resumed && finished.buildExecution) resumed = await resumeAfterRenewal(stateMachineArn, finished.buildExecution, finished.result);
  return { outcome: resumed ? 'resumed' : 'stale', exitCode: finished.result.exitCode };
}

/**
 * A build that outlived its job's horizon no longer waits on the command's own token ("Run Build" timed out
 * and the job was renewed): its execution waits in "Wait For Build", whose latest task token is in the
 * execution's history. The command names its execution (ExecutionName), so the result goes there.
 */
async function resumeAfterRenewal(stateMachineArn: string, executionName: string, result: CommandResult): Promise<boolean> {
  const waiting = await latestWaitingTask(executionArnOf(stateMachineArn, executionName), STATES.waitForBuild);
  return waiting ? resumeTask(waiting.taskToken, result) : false;
}
