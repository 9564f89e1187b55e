import { createLogger } from '../shared/logger';
import { resumeTask } from '../shared/sfn';
import { RUNNING_COMMAND_STATUSES } from '../shared/types';
import { collectResult } from './result';

/** The part of an "EC2 Command Invocation Status-change Notification" event this handler reads. */
export interface CommandEvent {
  readonly detail: { readonly 'command-id': string; readonly 'instance-id': string; readonly status: string };
}

const logger = createLogger('command-events');

/**
 * Resumes the state machine when a build command finishes, so waiting costs no polling:
 * the task token travels as the command's TaskToken parameter.
 */
export const handler = async (event: CommandEvent): Promise<'resumed' | 'stale' | 'ignored'> => {
  const { 'command-id': commandId, 'instance-id': instanceId, status } = event.detail;
  logger.appendKeys({ commandId, instanceId, status });
  if (RUNNING_COMMAND_STATUSES.includes(status)) return 'ignored';
  const finished = await collectResult(commandId, instanceId, status);
  if (!finished) {
    logger.info('command was not sent by a build execution; ignoring');
    return 'ignored';
  }
  const resumed = await resumeTask(finished.taskToken, finished.result);
  logger.info(resumed ? 'build execution resumed' : 'the waiting task had already ended', { exitCode: finished.result.exitCode });
  return resumed ? 'resumed' : 'stale';
};
