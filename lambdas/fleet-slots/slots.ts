import { FleetFullError } from '../shared/errors';
import { dequeue, enqueue, freeSlot, holdsSlot, leaveLine, oldestQueued, queuePosition, setWaitingTask, takeSlot, type PoolTable, type QueueEntry } from '../shared/pool-table';
import { executionStatus, resumeTask } from '../shared/sfn';
import type { JobFleet } from '../shared/types';

/**
 * A fleet's concurrency cap and its line. Slots are the execution names in the fleet's SLOTS set (at most
 * maxConcurrent). "Launch Instance" takes one (lambdas/launcher/capacity.ts); when none was free, "Take Fleet Slot"
 * takes one that came free since or puts the job in line, and the job waits in "Wait For Fleet Slot", whose task token
 * it stores in its entry, at no cost until a job that frees a slot resumes it; at the end of each round it reports its
 * place to CodePipeline (a job renewal, so the action's summary shows it) and waits again. Every step is a conditional
 * write, so a slot freed while a job joins the line or renews is never missed (the job looks again after storing its
 * token) and a waiting job is resumed once (whoever takes its entry out, with the token it read, resumes it).
 */

export interface LineRequest {
  readonly fleet: JobFleet;
  readonly jobId: string;
  readonly executionName: string;
  readonly executionArn: string;
}

/** Where a job joined the line: its entry's sort key and its enqueue time, the start of its wait. */
export interface LinePlace {
  readonly sk: string;
  readonly enqueuedAt: string;
}

/** "Wait For Fleet Slot": the job's task token, and its place from "Take Fleet Slot". */
export interface WaitRequest extends LineRequest {
  readonly taskToken: string;
  readonly line: LinePlace;
}

/**
 * What "Take Fleet Slot" and "Wait For Fleet Slot" output ($.slot): whether the job has its slot, whether it waited
 * and how long, its place in line when it joined (1 = next; 0 once it has a slot), and, while in line, its entry.
 */
export interface SlotState {
  readonly granted: boolean;
  readonly queued: boolean;
  readonly waitedMs: number;
  readonly position: number;
  readonly line: LinePlace | null;
}

const AT_ONCE: SlotState = { granted: true, queued: false, waitedMs: 0, position: 0, line: null };

/** Line entries live past the longest wait, then DynamoDB's TTL removes any that nobody took out. */
const ENTRY_GRACE_SECONDS = 3600;

function expiresAt(fleet: JobFleet, enqueuedAt: string): number {
  return Math.floor(Date.parse(enqueuedAt) / 1000) + fleet.queueTimeoutSeconds + ENTRY_GRACE_SECONDS;
}

/**
 * Takes a slot for the job, or puts it in line (no task waits yet: "Wait For Fleet Slot" stores its token). A fleet
 * that keeps no line refuses the job (FleetFull).
 */
export async function take(table: PoolTable, request: LineRequest, now: Date): Promise<SlotState> {
  const { fleet, executionName } = request;
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) return AT_ONCE;
  if (fleet.maxQueueMinutes === 0) {
    throw new FleetFullError(`fleet ${JSON.stringify(fleet.name)} is running its ${fleet.maxConcurrent} builds at once (maxConcurrent) and keeps no line (maxQueueMinutes 0). Retry the stage later, or raise the fleet's maxConcurrent or maxQueueMinutes and deploy.`);
  }
  const enqueuedAt = now.toISOString();
  const entry = await enqueue(table, fleet.name, { executionName, executionArn: request.executionArn, jobId: request.jobId, taskToken: null, enqueuedAt, expiresAt: expiresAt(fleet, enqueuedAt) });
  // A slot freed between the first look and joining the line woke nobody (the line was empty then): look again. A
  // freeing job that took the entry out meanwhile took this same slot for the execution (takeSlot admits its holder).
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) {
    await dequeue(table, fleet.name, entry.sk, null);
    return AT_ONCE;
  }
  return { granted: false, queued: true, waitedMs: 0, position: await queuePosition(table, fleet.name, entry.sk), line: { sk: entry.sk, enqueuedAt } };
}

export type WaitOutcome = { readonly outcome: 'granted' } | { readonly outcome: 'waiting'; readonly position: number };

/**
 * Stores the waiting task's token in the job's entry (with the newest job id, after a renewal), then looks for a slot
 * once more: one freed while no task waited went either to nobody or, with the entry, to this execution. An entry
 * gone without a slot (expired, or removed by the sweeper) is put back at its place.
 */
export async function waitInLine(table: PoolTable, request: WaitRequest, now: Date): Promise<WaitOutcome> {
  const { fleet, executionName, taskToken, line } = request;
  const grant: SlotState = { granted: true, queued: true, waitedMs: Math.max(0, now.getTime() - Date.parse(line.enqueuedAt)), position: 0, line: null };
  if (!(await setWaitingTask(table, fleet.name, line.sk, taskToken, request.jobId))) {
    if (await holdsSlot(table, fleet.name, executionName)) {
      await resumeTask(taskToken, grant);
      return { outcome: 'granted' };
    }
    const { enqueuedAt } = line;
    await enqueue(table, fleet.name, { executionName, executionArn: request.executionArn, jobId: request.jobId, taskToken, enqueuedAt, expiresAt: expiresAt(fleet, enqueuedAt) });
  }
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) {
    // Otherwise a freeing job took the entry out with this token: it resumes the task.
    if (await dequeue(table, fleet.name, line.sk, taskToken)) await resumeTask(taskToken, grant);
    return { outcome: 'granted' };
  }
  return { outcome: 'waiting', position: await queuePosition(table, fleet.name, line.sk) };
}

/** How many waiting jobs one free looks at per page. */
const WAKE_PAGE = 10;

/** What freeing a slot reads of a fleet: its name and its cap. */
export type SlotFleet = Pick<JobFleet, 'name' | 'maxConcurrent'>;

/**
 * Gives the execution's slot back, then gives free slots to the oldest waiting jobs. A job waiting on a task is
 * resumed; one that waits on none right now (it is joining, or reporting its place) keeps the slot and finds it when it
 * waits next; a job whose execution no longer runs gives it back.
 */
export async function free(table: PoolTable, fleet: SlotFleet, executionName: string, now: Date, line: LinePlace | null = null): Promise<{ resumed: number }> {
  // A job that ends while in line leaves it first: a slot is never kept for the execution that frees one.
  if (line) await leaveLine(table, fleet.name, line.sk);
  await freeSlot(table, fleet.name, executionName);
  let resumed = 0;
  for (;;) {
    const waiting = await oldestQueued(table, fleet.name, WAKE_PAGE, now);
    if (waiting.length === 0) return { resumed };
    for (const entry of waiting) {
      if (entry.executionName === executionName) {
        await leaveLine(table, fleet.name, entry.sk);
        continue;
      }
      if (!(await takeSlot(table, fleet.name, entry.executionName, fleet.maxConcurrent))) return { resumed };
      // Not taken out: it took the slot itself, or it stored a newer token and finds its slot when it looks again.
      if (!(await dequeue(table, fleet.name, entry.sk, entry.taskToken))) continue;
      if (await hand(table, fleet, entry, now)) resumed += 1;
    }
  }
}

/** Gives a slot, taken for it, to a job taken out of the line; true when its waiting task was resumed. */
async function hand(table: PoolTable, fleet: SlotFleet, entry: QueueEntry, now: Date): Promise<boolean> {
  if (entry.taskToken !== null) {
    const grant: SlotState = { granted: true, queued: true, waitedMs: Math.max(0, now.getTime() - Date.parse(entry.enqueuedAt)), position: 0, line: null };
    // Not told (throttled, say): the error fails this free, to be retried, and the slot stays the job's. Its task is
    // still waiting; at the end of its round it finds its entry gone and the slot its own, and starts
    // (waitInLine). Putting the entry back instead could race with that and run one build too many.
    if (await resumeTask(entry.taskToken, grant)) return true;
  }
  // No task waits (it is between waits) or its task is over: the slot stays its while its execution runs.
  if (entry.executionArn && (await executionStatus(entry.executionArn)) === 'RUNNING') return false;
  await freeSlot(table, fleet.name, entry.executionName);
  return false;
}
