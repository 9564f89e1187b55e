import { lastFireAt } from './cron-fires';
import type { Fleet } from './fleets';

/** The pool sizes a fleet keeps now, and which schedule set them (its index in fleet.schedules), or null. */
export interface PoolSizes {
  readonly hotPool: number;
  readonly stoppedPool: number;
  readonly schedule: number | null;
}

/**
 * The sizes of the schedule that fired most recently at or before `now` (within lastFireAt's lookback of a year), or
 * the fleet's own hotPool and stoppedPool when none did. The most recent firing decides, not the firings seen since
 * deployment: a fleet deployed at 10:00 on a weekday has its office-hours sizes at once. Two schedules that fired at
 * the same instant: the one listed later wins, as if they were applied in list order.
 */
export function poolSizesAt(fleet: Fleet, now: Date): PoolSizes {
  let best: { at: number; index: number } | null = null;
  fleet.schedules.forEach((s, index) => {
    const at = lastFireAt(s.cron, s.timezone, now)?.getTime();
    if (at !== undefined && (best === null || at >= best.at)) best = { at, index };
  });
  if (best === null) return { hotPool: fleet.hotPool, stoppedPool: fleet.stoppedPool, schedule: null };
  const { index } = best as { at: number; index: number };
  return { hotPool: fleet.schedules[index].hotPool, stoppedPool: fleet.schedules[index].stoppedPool, schedule: index };
}
