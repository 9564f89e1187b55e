import type { Logger } from '@aws-lambda-powertools/logger';
import { free } from '../fleet-slots/slots';
import type { Fleet } from '../shared/fleets';
import { dequeue, queryPrefix, SK, slotHolders, str, type PoolTable } from '../shared/pool-table';
import { executionArnOf, executionState } from '../shared/sfn';

/** What the sweep did to the fleets' slots and lines. */
export interface SlotSweep {
  /** Slots given back for executions that are not running, as `fleet/execution`. */
  readonly freed: string[];
  /** Line entries taken out for executions that are not running, as `fleet/execution`. */
  readonly dequeued: string[];
  /** Waiting jobs the freed slots resumed. */
  readonly resumed: number;
}

/**
 * Whether an execution is running: the sweep's ListExecutions listing says so, or, for a name it does not list,
 * DescribeExecution does. ListExecutions is eventually consistent
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html): an execution started a
 * moment before the listing may be missing from it, and taking its slot away would let one job too many run. Only
 * the names the listing leaves out are described, so a sweep describes the leaked ones, not every holder.
 */
function runningCheck(stateMachineArn: string, listed: ReadonlySet<string>): (name: string) => Promise<boolean> {
  const described = new Map<string, boolean>();
  return async (name) => {
    if (listed.has(name)) return true;
    if (!described.has(name)) described.set(name, (await executionState(executionArnOf(stateMachineArn, name)))?.status === 'RUNNING');
    return described.get(name)!;
  };
}

/**
 * Slots and line entries left by executions that ended without "Free Fleet Slot" (a crash, an abort, the execution's
 * timeout, a lost status event): each fleet's line entries of executions that are not running are taken out, then
 * its holders that are not running give their slots back through `free`, which resumes the oldest waiting jobs. Both
 * steps are conditional writes, safe beside a "Free Fleet Slot" or a watchdog doing the same.
 */
export async function sweepFleetSlots(
  table: PoolTable,
  fleets: Readonly<Record<string, Fleet>>,
  stateMachineArn: string,
  running: ReadonlySet<string>,
  now: Date,
  logger: Logger,
): Promise<SlotSweep> {
  const isRunning = runningCheck(stateMachineArn, running);
  const out = { freed: [] as string[], dequeued: [] as string[], resumed: 0 };
  for (const [name, fleet] of Object.entries(fleets)) {
    for (const item of await queryPrefix(table, name, SK.queuePrefix)) {
      const executionName = str(item, 'executionName');
      if (!(await isRunning(executionName)) && (await dequeue(table, name, str(item, 'sk'), item.taskToken?.S ?? null))) out.dequeued.push(`${name}/${executionName}`);
    }
    for (const holder of await slotHolders(table, name)) {
      if (await isRunning(holder)) continue;
      out.resumed += (await free(table, { name, maxConcurrent: fleet.maxConcurrent }, holder, now)).resumed;
      out.freed.push(`${name}/${holder}`);
    }
  }
  if (out.freed.length || out.dequeued.length) logger.warn('gave back fleet slots and line places of executions that are not running', { ...out });
  return out;
}
