import { collectResult } from '../command-events/result';
import { BuildWaitExceededError } from '../shared/errors';
import { buildDeadline } from '../shared/renewal';
import { resumeTask } from '../shared/sfn';
import { buildCommandOf } from '../shared/ssm';
import { isRunningStatus, type BuildWait } from '../shared/types';

export type WaitOutcome = 'resumed' | 'waiting';

/**
 * "Wait For Build" after a renewal: its result comes through this task's token (the command-events
 * handler and the sweeper find it in the execution's history). The command may have finished while
 * the job was being renewed, its status event then delivered to a token nobody waits on any more:
 * so look first, and hand the result over at once if it is there. Past the build's deadline with the
 * command still going, stop waiting.
 */
export async function waitForBuild(w: BuildWait, now: number): Promise<WaitOutcome> {
  const command = await buildCommandOf(w.instanceId, w.executionName);
  if (!command) throw new Error(`no build command of execution ${w.executionName} on ${w.instanceId}`);
  if (!isRunningStatus(command.status)) {
    const finished = await collectResult(command.commandId, w.instanceId, command.status);
    if (finished && (await resumeTask(w.taskToken, finished.result))) return 'resumed';
  }
  if (now >= buildDeadline(w.readyAt, w.waitTimeoutSeconds)) {
    throw new BuildWaitExceededError(w.waitTimeoutSeconds);
  }
  return 'waiting';
}
