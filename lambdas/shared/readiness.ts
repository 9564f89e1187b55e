import { randomUUID } from 'node:crypto';
import { invokeAsync } from './lambda';
import type { PoolTable } from './pool-store';
import { releaseLease, takeLease, type Waiter } from './readiness-table';
import { buildDeadline, roundSeconds } from './renewal';

/** "Is Instance Ready?"'s output: when the agent was seen online, and Run Build's first wait (its TimeoutSecondsPath). */
export interface ReadyForBuild {
  readonly readyAt: string;
  readonly buildWaitSeconds: number;
}

/** The task's output for a build whose agent was seen online at `readyAt`. */
export function readyOutput(w: Pick<Waiter, 'renewBy' | 'renewalSeconds' | 'waitTimeoutSeconds'>, readyAt: Date): ReadyForBuild {
  // Measured from the poll, not from the build's start: the launch and the boot count against the job's timeout too.
  const deadline = buildDeadline(readyAt.toISOString(), w.waitTimeoutSeconds);
  const buildWaitSeconds = roundSeconds(readyAt.getTime(), Date.parse(w.renewBy), deadline, w.renewalSeconds);
  return { readyAt: readyAt.toISOString(), buildWaitSeconds };
}

/** The watcher's timing, from its environment (lambdas/shared/config.ts loadWatchTiming). */
export interface WatchTiming {
  /** Pause between two looks at the running waiters (one DescribeInstanceInformation per 50 of them). */
  readonly tickMs: number;
  /** How long one watcher invocation runs before it hands over to the next. */
  readonly runMs: number;
}

/** The lease outlives a quarter of a run: a watcher that died is replaced within that, by the next kick or the schedule. */
export const leaseMs = (t: WatchTiming) => Math.max(t.runMs / 4, 10 * t.tickMs);

/**
 * What a look at EC2 soon after a build registered takes for a lost instance (registration's own look, and the
 * watcher's within a safety-net period of the registration). Not "stopping" or "stopped": a stopped pool member the
 * launcher has just started may still read as stopped (EC2's reads are eventually consistent:
 * https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html); the watcher's later looks and the
 * state-change events decide those.
 */
export const GONE_STATES: ReadonlySet<string> = new Set(['shutting-down', 'terminated']);

/** What starts the watcher: an "Is Instance Ready?" registration, the watcher's own hand-over, or its schedule. */
export interface WatcherEvent {
  /** The lease the caller took for the new watcher; absent from the schedule, which takes its own. */
  readonly owner?: string;
  /** A hand-over's: when Systems Manager last answered the watcher before (epoch ms), so that the next keeps the pace. */
  readonly agentsAskedAt?: number;
}

/**
 * Makes sure a watcher runs: takes the lease when nobody holds it and starts a watcher with it. A watcher that holds
 * the lease reads the table again within a second, and one that gives the lease back looks once more after
 * (watch.ts), so a waiter written before this call is never left without a watcher.
 */
export async function kickWatcher(table: PoolTable, watcherFunction: string, timing: WatchTiming, now = new Date()): Promise<boolean> {
  const owner = randomUUID();
  if (!(await takeLease(table, owner, now, leaseMs(timing)))) return false;
  try {
    await invokeAsync(watcherFunction, { owner } satisfies WatcherEvent);
  } catch (err) {
    await releaseLease(table, owner);
    throw err;
  }
  return true;
}
