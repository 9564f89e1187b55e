import type { Logger } from '@aws-lambda-powertools/logger';
import { releaseEndedExecution } from '../execution-events/release';
import type { TaggedInstance } from '../shared/ec2';
import { TAGS } from '../shared/env';
import type { PoolTable } from '../shared/pool-table';
import { endedExecutions } from '../shared/sfn';

/** The statuses the execution-events rule handles (lib/event-patterns.ts executionEndedPattern). */
export const ABNORMAL: readonly string[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * How far back the sweeper looks for executions that ended abnormally, in grace periods: an hour
 * with the stack's 5-minute grace, four sweeps at the default 15-minute rate, so a sweep that fails
 * or is late leaves no lost end behind. Looking again at an execution whose event did arrive changes
 * nothing (its job already has a result), but costs calls: the local cloud, whose grace is scaled
 * to its simulated time, scales the look-back with it.
 */
export const LOOK_BACK_GRACES = 12;

export interface LostEnds {
  /** Jobs this sweep failed on behalf of an execution whose status event was lost. */
  readonly jobsFailed: number;
  /** Instances released with them (listed before, now terminated), and why. */
  readonly released: { instanceId: string; reason: string }[];
  readonly failures: string[];
}

/**
 * Step Functions sends its execution status events on a best-effort basis
 * (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-states.html): an execution that
 * ended FAILED, TIMED_OUT or ABORTED may never reach the execution-events handler. Do what it does
 * (release.ts: terminate its instances, fail its job if it owned it and no result was reported)
 * for every such execution that stopped within the look-back, and more than `graceMs` ago (until
 * then it is its event's). `maxJobMinutes` bounds how long an execution lives, so listing (newest
 * first) stops at executions that started before it could.
 */
export async function failLostEnds(stateMachineArn: string, maxJobMinutes: number, now: Date, graceMs: number, listed: TaggedInstance[], logger: Logger, table: PoolTable): Promise<LostEnds> {
  const lookBackMs = LOOK_BACK_GRACES * graceMs;
  const since = new Date(now.getTime() - lookBackMs);
  const until = new Date(now.getTime() - graceMs);
  // Before launch an execution only acknowledges and launches: a second look-back covers that.
  const startedAfter = new Date(since.getTime() - maxJobMinutes * 60000 - lookBackMs);
  let jobsFailed = 0;
  const released: LostEnds['released'] = [];
  const failures: string[] = [];
  for (const e of await endedExecutions(stateMachineArn, ABNORMAL, since, until, startedAfter)) {
    try {
      // Its instances from the sweep's own listing: no DescribeInstances per ended execution.
      const result = await releaseEndedExecution(e, logger, table, now, listed.filter((x) => x.tags[TAGS.execution] === e.name));
      if (result.reported === 'reported') {
        logger.warn('failed the job of an execution whose status event was lost', { executionArn: e.executionArn, status: e.status });
        jobsFailed += 1;
      }
      if (result.released > 0) {
        for (const i of listed.filter((x) => x.tags[TAGS.execution] === e.name)) released.push({ instanceId: i.instanceId, reason: `its execution ${e.name} ended ${e.status} and its status event was lost` });
      }
    } catch (err) {
      // The job may be gone with its pipeline; anything else is tried again at the next sweep.
      const { name, message } = err as Error;
      if (name === 'JobNotFoundException') logger.info('the job of an ended execution no longer exists', { executionArn: e.executionArn });
      else failures.push(`${e.executionArn}: ${name}: ${message}`);
    }
  }
  return { jobsFailed, released, failures };
}
