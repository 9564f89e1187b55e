import { FleetFullError } from '../shared/errors';
import { dequeue, enqueue, freeSlot, oldestQueued, queuePosition, takeSlot, type PoolTable } from '../shared/pool-table';
import { failTask, resumeTask } from '../shared/sfn';
import type { JobFleet } from '../shared/types';

/**
 * A fleet's concurrency cap and its line. Slots are the execution names in the fleet's SLOTS set (at most
 * maxConcurrent); a job that finds none free stores its "Take Fleet Slot" task token in the line and ends its
 * invocation: it waits at no cost until a job that frees a slot resumes it. Every step is a conditional write, so a
 * slot freed while a job joins the line is never missed (the joiner looks again after joining) and a waiting job is
 * resumed once (whoever removes its entry from the line resumes it).
 */

export interface TakeRequest {
  readonly taskToken: string;
  readonly fleet: JobFleet;
  readonly jobId: string;
  readonly executionName: string;
}

/** What "Take Fleet Slot" outputs ($.slot): whether the job waited, how long, and where it was in line. */
export interface SlotGrant {
  readonly queued: boolean;
  readonly waitedMs: number;
  /** Its place when it joined the line (1 = next); 0 when it did not wait. */
  readonly position: number;
}

export type TakeOutcome = { readonly outcome: 'granted' } | { readonly outcome: 'queued'; readonly position: number } | { readonly outcome: 'refused' };

/** Line entries live past the longest wait, then DynamoDB's TTL removes any that nobody took out. */
const ENTRY_GRACE_SECONDS = 3600;

/** Takes a slot for the job and resumes its task, or puts it in line (or, when the fleet keeps no line, fails it). */
export async function take(table: PoolTable, request: TakeRequest, now: Date): Promise<TakeOutcome> {
  const { fleet, executionName, taskToken } = request;
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) {
    await resumeTask(taskToken, { queued: false, waitedMs: 0, position: 0 } satisfies SlotGrant);
    return { outcome: 'granted' };
  }
  if (fleet.maxQueueMinutes === 0) {
    const full = new FleetFullError(`fleet ${JSON.stringify(fleet.name)} is running its ${fleet.maxConcurrent} builds at once (maxConcurrent) and keeps no line (maxQueueMinutes 0). Retry the stage later, or raise the fleet's maxConcurrent or maxQueueMinutes and deploy.`);
    await failTask(taskToken, full.name, full.message);
    return { outcome: 'refused' };
  }
  const entry = await enqueue(table, fleet.name, {
    executionName,
    jobId: request.jobId,
    taskToken,
    enqueuedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + fleet.queueTimeoutSeconds + ENTRY_GRACE_SECONDS,
  });
  // A slot freed between the first look and joining the line woke nobody (the line was empty then): look again.
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) {
    if (await dequeue(table, fleet.name, entry.sk)) await resumeTask(taskToken, { queued: false, waitedMs: 0, position: 0 } satisfies SlotGrant);
    // Otherwise a freeing job took the entry out first: it holds the same slot for this execution and resumes it.
    return { outcome: 'granted' };
  }
  return { outcome: 'queued', position: await queuePosition(table, fleet.name, entry.sk) };
}

/** How many waiting jobs one free looks at per page. */
const WAKE_PAGE = 10;

/**
 * Gives the execution's slot back, then resumes the oldest waiting jobs while slots are free. A waiting job whose task
 * is gone (its execution stopped, or its wait timed out) is skipped and its slot given back.
 */
export async function free(table: PoolTable, fleet: JobFleet, executionName: string, now: Date): Promise<{ resumed: number }> {
  await freeSlot(table, fleet.name, executionName);
  let resumed = 0;
  for (;;) {
    const waiting = await oldestQueued(table, fleet.name, WAKE_PAGE, now);
    if (waiting.length === 0) return { resumed };
    for (const entry of waiting) {
      if (!(await takeSlot(table, fleet.name, entry.executionName, fleet.maxConcurrent))) return { resumed };
      if (!(await dequeue(table, fleet.name, entry.sk))) continue; // it took the slot itself
      const grant: SlotGrant = { queued: true, waitedMs: Math.max(0, now.getTime() - Date.parse(entry.enqueuedAt)), position: 0 };
      let told: boolean;
      try {
        told = await resumeTask(entry.taskToken, grant);
      } catch (err) {
        // Not told (throttled, say): back in line at its place, the slot given back, and this free fails to be retried.
        await enqueue(table, fleet.name, { executionName: entry.executionName, jobId: entry.jobId, taskToken: entry.taskToken, enqueuedAt: entry.enqueuedAt, expiresAt: entry.expiresAt });
        await freeSlot(table, fleet.name, entry.executionName);
        throw err;
      }
      if (told) resumed += 1;
      else await freeSlot(table, fleet.name, entry.executionName);
    }
  }
}
