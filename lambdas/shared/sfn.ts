import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StopExecutionCommand,
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
  InvalidToken,
} from '@aws-sdk/client-sfn';
import { executionNameOf } from './execution-names';

/** All Step Functions calls. */
const client = new SFNClient({});

export type StartResult = { executionArn: string; alreadyStarted: boolean };

/** The send options that give a call up after `timeoutMs` (none: no limit). */
const abortAfter = (timeoutMs?: number) => (timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMs) });

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

/**
 * Resumes a task waiting for a callback; false when the task already finished or timed out. Given `timeoutMs`, the
 * call (the SDK's retries included) is given up after it, with an AbortError: the SDK's request handler sets no time
 * limit of its own.
 */
export async function resumeTask(taskToken: string, output: unknown, timeoutMs?: number): Promise<boolean> {
  try {
    await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }), abortAfter(timeoutMs));
    return true;
  } catch (err) {
    if (err instanceof TaskTimedOut || err instanceof TaskDoesNotExist || err instanceof InvalidToken) return false;
    throw err;
  }
}

/**
 * Fails a task waiting for a callback with `error` (what its Catch matches) and `cause`; false when the task already
 * finished or timed out. SendTaskFailure's error is at most 256 characters and its cause 32768
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html). `timeoutMs` as for
 * resumeTask.
 */
export async function failTask(taskToken: string, error: string, cause: string, timeoutMs?: number): Promise<boolean> {
  try {
    await client.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32768) }), abortAfter(timeoutMs));
    return true;
  } catch (err) {
    if (err instanceof TaskTimedOut || err instanceof TaskDoesNotExist || err instanceof InvalidToken) return false;
    throw err;
  }
}

/** The execution's status, or null when Step Functions does not know it. */
export async function executionStatus(executionArn: string): Promise<string | null> {
  try {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return out.status ?? null;
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist) return null;
    throw err;
  }
}

/**
 * Executions per ListExecutions page: maxResults is 1 to 1000 and 100 when left out
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html). ListExecutions' bucket is
 * small (100, refilled 2 a second outside the three largest Regions: "Quotas related to API action throttling",
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), so a listing asks for the largest pages.
 */
export const EXECUTIONS_PER_PAGE = 1000;

/**
 * The names of the running executions, every page, with no call per execution: ceil(running / 1000) ListExecutions calls.
 * ListExecutions is eventually consistent (same page): one started a moment ago may be missing.
 */
export async function runningExecutionNames(stateMachineArn: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: EXECUTIONS_PER_PAGE, nextToken }));
    for (const e of page.executions ?? []) if (e.executionArn) names.push(executionNameOf(e.executionArn));
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}

/** The execution's input (DescribeExecution); null when Step Functions does not know it. */
export async function executionInputOf(executionArn: string): Promise<string | null> {
  try {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return out.input ?? '{}';
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist) return null;
    throw err;
  }
}

export async function stopExecution(executionArn: string, cause: string): Promise<void> {
  try {
    await client.send(new StopExecutionCommand({ executionArn, error: 'Abandoned', cause }));
  } catch (err) {
    if (!(err instanceof ExecutionDoesNotExist)) throw err;
  }
}

/** An execution that ended, as DescribeExecution gives it (the fields of a status-change event). */
export interface EndedExecutionRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly input: string | null;
  readonly error: string | null;
  readonly cause: string | null;
}

/**
 * Executions that ended with one of `statuses` between `since` and `until`. ListExecutions lists the most
 * recent first, sorted by start time, and is eventually consistent
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html): paging
 * stops at the first execution that started before `startedAfter` (none older can have ended
 * since, when no execution lives longer than `since - startedAfter`).
 */
export async function endedExecutions(stateMachineArn: string, statuses: readonly string[], since: Date, until: Date, startedAfter: Date): Promise<EndedExecutionRecord[]> {
  const out: EndedExecutionRecord[] = [];
  for (const statusFilter of statuses) {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: statusFilter as never, maxResults: EXECUTIONS_PER_PAGE, nextToken }));
      nextToken = page.nextToken;
      for (const e of page.executions ?? []) {
        if (e.startDate && e.startDate < startedAfter) nextToken = undefined;
        else if (e.executionArn && e.stopDate && e.stopDate >= since && e.stopDate <= until) {
          const d = await client.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
          out.push({ executionArn: e.executionArn, name: e.name ?? '', status: d.status ?? statusFilter, input: d.input ?? null, error: d.error ?? null, cause: d.cause ?? null });
        }
      }
    } while (nextToken);
  }
  return out;
}

/** The execution's status and, once it ended, when (DescribeExecution's stopDate); null when Step Functions does not know it. */
export async function executionState(executionArn: string): Promise<{ status: string; stopDate: Date | null } | null> {
  try {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    return out.status ? { status: out.status, stopDate: out.stopDate ?? null } : null;
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist) return null;
    throw err;
  }
}

/** How many pages of history (100 events each, newest first) a token lookup reads before it gives up. */
const HISTORY_PAGES = 5;

/**
 * The parameters of the latest task the execution scheduled in the Task state `stateName` (or in any of several), or null.
 * A TaskScheduled event names no state: the nearest TaskStateEntered before it does (its
 * previousEventId only for a first attempt: a retried task is scheduled after its failure), as the
 * build's state machine has no Parallel or Map state
 * (HistoryEvent: https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html;
 * its parameters are "the JSON data passed to the resource":
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_TaskScheduledEventDetails.html).
 * Read newest first (reverseOrder) with the execution data, which holds the parameters
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html).
 */
export async function latestTaskParameters(executionArn: string, stateName: string | readonly string[]): Promise<Record<string, unknown> | null> {
  const names: readonly string[] = typeof stateName === 'string' ? [stateName] : stateName;
  // Both newest first, as read.
  const entered: { id: number; name: string }[] = [];
  const scheduled: { id: number; parameters: string }[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const out = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, maxResults: 100, nextToken }));
    for (const e of out.events ?? []) {
      if (e.id === undefined) continue;
      if (e.type === 'TaskStateEntered') entered.push({ id: e.id, name: e.stateEnteredEventDetails?.name ?? '' });
      if (e.type === 'TaskScheduled') scheduled.push({ id: e.id, parameters: e.taskScheduledEventDetails?.parameters ?? '{}' });
    }
    for (const s of scheduled) {
      const state = entered.find((e) => e.id < s.id);
      // Its state's entry is further back: read on.
      if (!state) break;
      if (names.includes(state.name)) return JSON.parse(s.parameters) as Record<string, unknown>;
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return null;
}

/**
 * The task token of the latest task of the Lambda Task state `stateName` (lambda:invoke.waitForTaskToken,
 * whose Payload carries it as `taskToken`), with that Payload; null when the execution has none.
 */
export async function latestWaitingTask(executionArn: string, stateName: string | readonly string[]): Promise<{ taskToken: string; payload: Record<string, unknown> } | null> {
  const parameters = await latestTaskParameters(executionArn, stateName);
  const payload = (parameters?.Payload ?? null) as Record<string, unknown> | null;
  return payload && typeof payload.taskToken === 'string' ? { taskToken: payload.taskToken, payload } : null;
}

/** The ARN of one of the state machine's executions, from its name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * The output of the latest exit from one of `states` that `accept` takes, read newest first, with the state's name;
 * null when there is none.
 */
export async function latestExit(
  executionArn: string,
  states: readonly string[],
  accept: (output: Record<string, unknown>) => boolean = () => true,
): Promise<{ state: string; output: Record<string, unknown> } | null> {
  let nextToken: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const out = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, includeExecutionData: true, maxResults: 100, nextToken }));
    for (const e of out.events ?? []) {
      const exited = e.stateExitedEventDetails;
      if (!exited?.name || !states.includes(exited.name)) continue;
      try {
        const output = JSON.parse(exited.output ?? '{}') as Record<string, unknown>;
        if (accept(output)) return { state: exited.name, output };
      } catch {
        // an output too large to be recorded says nothing
      }
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return null;
}

/**
 * The latest successful acknowledgement among `ackStates` (its state's output says ack.status InProgress), read newest
 * first: after job renewals the execution owns its newest job, acknowledged in "Acknowledge Continuation Job".
 * Null when it never acknowledged a job.
 */
export function latestAcknowledgement(executionArn: string, ackStates: readonly string[]): Promise<{ state: string; output: Record<string, unknown> } | null> {
  return latestExit(executionArn, ackStates, (output) => (output.ack as { status?: string } | undefined)?.status === 'InProgress');
}
