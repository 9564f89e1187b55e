import type { Logger } from '@aws-lambda-powertools/logger';
import { free } from '../fleet-slots/slots';
import type { TaggedInstance } from '../shared/ec2';
import { POOL_TAGS } from '../shared/env';
import { removeMember, type PoolTable } from '../shared/pool-table';
import type { ExecutionInput, JobFleet } from '../shared/types';
import type { EndedExecution } from './release';

/** The fleet the ended execution's job ran on, from its input; null for a cold-launch job or an input the event left out. */
export function fleetOf(detail: EndedExecution): JobFleet | null {
  try {
    const input = JSON.parse(detail.input ?? '') as Partial<ExecutionInput>;
    return input.job?.fleet ?? null;
  } catch {
    return null;
  }
}

/**
 * An execution that ended without "Free Fleet Slot" (crash, abort, its timeout) may still hold its fleet slot: give
 * it back and resume the next waiting jobs (`free` is idempotent: an execution that did free its slot changes
 * nothing; a place it kept in the line is skipped by the wake, as its task is gone). An input missing from the event, or a failure here, is left to the sweeper, which
 * gives back the slots of every execution that is not running. Returns how many waiting jobs it resumed.
 */
export async function freeFleetSlot(table: PoolTable, detail: EndedExecution, now: Date, logger: Logger): Promise<number> {
  const fleet = fleetOf(detail);
  if (!fleet) return 0;
  try {
    const { resumed } = await free(table, fleet, detail.name, now);
    logger.info('gave back the fleet slot of an execution that ended abnormally', { fleet: fleet.name, resumed });
    return resumed;
  } catch (err) {
    logger.error('could not give back the fleet slot of an execution that ended abnormally; the sweeper will', err as Error);
    return 0;
  }
}

/** Forgets the pool table items of terminated pool instances (whoever terminates a pool instance deletes its item). */
export async function forgetPoolInstances(table: PoolTable, terminated: readonly TaggedInstance[]): Promise<void> {
  for (const i of terminated) if (i.tags[POOL_TAGS.fleet]) await removeMember(table, i.tags[POOL_TAGS.fleet], i.instanceId);
}
