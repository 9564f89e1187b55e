import {
  ExecutionAlreadyExists,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  InvalidToken,
} from '@aws-sdk/client-sfn';

/** All Step Functions calls. */
const client = new SFNClient({});

export type StartResult = { executionArn: string; alreadyStarted: boolean };

/**
 * Starts the build execution, named after the job so that a duplicate event starts nothing twice.
 * ExecutionAlreadyExists counts as started.
 */
export async function startBuildExecution(stateMachineArn: string, name: string, input: unknown): Promise<StartResult> {
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  try {
    const out = await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return { executionArn: out.executionArn ?? executionArn, alreadyStarted: false };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists) return { executionArn, alreadyStarted: true };
    throw err;
  }
}

/** Resumes a task waiting for a callback; false when the task already finished or timed out. */
export async function resumeTask(taskToken: string, output: unknown): Promise<boolean> {
  try {
    await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    return true;
  } catch (err) {
    if (err instanceof TaskTimedOut || err instanceof TaskDoesNotExist || err instanceof InvalidToken) return false;
    throw err;
  }
}
