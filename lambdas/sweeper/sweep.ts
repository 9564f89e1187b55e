import type { Logger } from '@aws-lambda-powertools/logger';
import type { SweeperConfig } from '../shared/config';
import { errorCode, THROTTLING_CODES } from '../shared/errors';
import { listTaggedInstances, type TaggedInstance } from '../shared/ec2';
import { POOL_TAGS, TAGS } from '../shared/env';
import type { Fleet } from '../shared/fleets';
import { transition, type PoolMember, type PoolTable } from '../shared/pool-table';
import { forgetPoolInstances } from '../execution-events/fleet-slot';
import { executionArnOf, executionInputOf, executionState, runningExecutionNames, stopExecution } from '../shared/sfn';
import { finishedCommands } from '../shared/ssm';
import { instanceMinutes } from '../shared/job-metrics';
import { deliverResult } from '../command-events/result';
import { sweepFleetSlots, type SlotSweep } from './fleet-slots';
import { ABNORMAL, failLostEnds } from './lost-ends';
import { buildStart, poolMembersOf, poolVerdict } from './pool-members';
import { BUILDS_ASKED_PER_SWEEP, LEFTOVERS_DESCRIBED_PER_SWEEP, sweepShare } from './share';
import { terminateBounded } from './terminate';
import { unawaitedBuilds, type RunningExecution } from './unawaited';
import { holdRuns } from './hold';

export interface SweepDecision {
  readonly instanceId: string;
  readonly reason: string;
}

export interface SweepReport {
  readonly terminated: SweepDecision[];
  readonly kept: number;
  readonly resumed: number;
  /** Build executions stopped because CodePipeline no longer waits for them. */
  readonly stopped: { readonly executionArn: string; readonly reason: string }[];
  /** Jobs failed for executions that ended abnormally and whose status event was lost. */
  readonly jobsFailed: number;
  /** Fleet slots and line places given back for executions that are not running. */
  readonly slots: SlotSweep;
  /** The terminated instances' minutes from launch to this sweep: what the leak cost (job-metrics.ts measures it). */
  readonly leakedInstanceMinutes: number;
}

export interface Sweeper {
  readonly stateMachineArn: string;
  readonly config: SweeperConfig;
  readonly logger: Logger;
  /** The fleets' pool table and the stack's fleets (FLEETS). */
  readonly pools: { readonly table: PoolTable; readonly fleets: Readonly<Record<string, Fleet>> };
}

/**
 * A running build whose command finished but whose status event never arrived (SSM's events reach
 * EventBridge on a best-effort basis) would wait until its state's timeout. Hand the result over
 * again: a token already used is refused by Step Functions and changes nothing.
 */
async function redeliverFinished(s: Sweeper, instanceId: string): Promise<number> {
  let resumed = 0;
  for (const { commandId, status } of await finishedCommands(instanceId, s.config.buildDocumentName)) {
    if ((await deliverResult(commandId, instanceId, status, s.stateMachineArn)).outcome === 'resumed') {
      s.logger.warn('resumed a build whose command status event was lost', { instanceId, commandId, status });
      resumed += 1;
    }
  }
  return resumed;
}

/** The inputs of this sweep's share of the running builds: one DescribeExecution each (ListExecutions gives none). */
async function inputsOf(stateMachineArn: string, names: readonly string[]): Promise<RunningExecution[]> {
  const out: RunningExecution[] = [];
  for (const name of names) {
    const executionArn = executionArnOf(stateMachineArn, name);
    const input = await executionInputOf(executionArn);
    if (input !== null) out.push({ executionArn, input });
  }
  return out;
}

/** Runs one part of the sweep; a failure is recorded (and thrown at the end) so the other parts still run. */
async function part<T>(failures: string[], what: string, run: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    failures.push(`${what}: ${(err as Error).name}: ${(err as Error).message}`);
    return otherwise;
  }
}

/**
 * Terminates this stack's instances whose execution is no longer running, or which are older than
 * the longest allowed job at `now`, and says so in its log; resumes running builds whose command
 * status event was lost; stops the builds CodePipeline no longer waits for (their instances first:
 * they are what costs, and a build whose instance is gone cannot report to a job that moved on);
 * fails the jobs of executions that ended abnormally and whose status event was lost; keeps idle pool
 * members the pool table knows and terminates the pools' leftovers (pool-members.ts); gives back the fleet
 * slots and line places of executions that are not running (fleet-slots.ts). The last line of defence: a
 * second run right after changes nothing.
 */
export async function sweep(s: Sweeper, now: Date): Promise<SweepReport> {
  const failures: string[] = [];
  let instances: TaggedInstance[];
  try {
    instances = await listTaggedInstances({ [TAGS.stack]: s.config.stackTagValue });
  } catch (err) {
    // The account's EC2 budget is spent (by its other clients too): nothing can be judged without the listing, and
    // the next sweep lists again. Throttling is the account's state, not the sweeper's failure: a warning, not an error.
    if (!THROTTLING_CODES.has(errorCode(err))) throw err;
    s.logger.warn('EC2 throttled the sweep\'s listing of instances; the next sweep lists again', { error: errorCode(err) });
    return { terminated: [], kept: 0, resumed: 0, stopped: [], jobsFailed: 0, slots: { freed: [], dequeued: [], resumed: 0 }, leakedInstanceMinutes: 0 };
  }
  // The running builds' names only (a page per 1000), then the per-build questions for this sweep's turn of them (share.ts).
  const runningNames = await part(failures, 'listing running builds', () => runningExecutionNames(s.stateMachineArn), null);
  const listed = new Set(runningNames ?? []);
  const share = runningNames ? await part(failures, 'taking turns among running builds', () => sweepShare(s.pools.table, runningNames), runningNames.slice(0, BUILDS_ASKED_PER_SWEEP)) : [];
  const asked = new Set(share);
  const running = await part(failures, 'reading running builds', () => inputsOf(s.stateMachineArn, share), []);
  // Held builds (hold on failure): their instance's hold tag, by execution name.
  const holds = new Map(instances.filter((i) => i.tags[TAGS.execution] && i.tags[TAGS.holdUntil] !== undefined).map((i) => [i.tags[TAGS.execution], i.tags[TAGS.holdUntil]]));
  const unawaited = running.length ? await part(failures, 'asking about running builds', () => unawaitedBuilds(running, now, s.config.eventGraceMs, s.logger, holds), []) : [];
  // Null when the table cannot be read: idle pool instances are then kept, and builds on pool instances aged by their launch.
  const members = await part(failures, 'reading the pool table', () => poolMembersOf(s.pools.table, instances), null);
  const stopping = new Map(unawaited.map((u) => [u.name, u]));
  const lost = await part(failures, 'looking for lost execution ends', () => failLostEnds(s.stateMachineArn, s.config.maxJobMinutes, now, s.config.eventGraceMs, instances, s.logger, s.pools.table), { jobsFailed: 0, released: [], failures: [] });
  failures.push(...lost.failures);
  const releasedWithEnds = new Set(lost.released.map((r) => r.instanceId));
  const candidates: SweepDecision[] = [];
  let resumed = 0;
  let unlistedDescribed = 0;
  for (const instance of instances) {
    if (releasedWithEnds.has(instance.instanceId)) continue;
    const name = instance.tags[TAGS.execution];
    const member = members?.get(instance.instanceId);
    if (instance.tags[POOL_TAGS.fleet] !== undefined && !name) {
      // An idle pool member, not a build: kept unless it is a leftover of the pools (pool-members.ts).
      const leftover = members ? await idlePoolLeftover(s, instance, member, now, failures) : null;
      if (leftover) candidates.push({ instanceId: instance.instanceId, reason: leftover });
      continue;
    }
    const ageMinutes = (now.getTime() - buildStart(instance, member).getTime()) / 60000;
    let reason: string | null = null;
    // A held instance outlives the longest job by its hold (hold.ts bounds it by the longest hold).
    if (ageMinutes > s.config.maxJobMinutes && !holdRuns(instance.tags[TAGS.holdUntil], now)) {
      reason = `older than the longest allowed job (${Math.round(ageMinutes)} > ${s.config.maxJobMinutes} minutes)`;
    } else if (!name) {
      reason = 'it carries no execution tag';
    } else if (stopping.has(name)) {
      reason = `CodePipeline no longer waits for its build: ${stopping.get(name)!.why}`;
    } else if (listed.has(name)) {
      // Running, as the listing says (no call per build): its finished command is looked for in its turn only.
      if (asked.has(name)) resumed += await redeliverFinished(s, instance.instanceId);
    } else if (runningNames && unlistedDescribed++ < LEFTOVERS_DESCRIBED_PER_SWEEP) {
      // Not listed: ended, or missing from the listing (eventually consistent). Described: the leftovers only (a few a
      // sweep, share.ts; a larger leak over the next sweeps), and a running one that was missed is
      // asked about as if in its turn (rare: what the listing lags by).
      const state = await executionState(executionArnOf(s.stateMachineArn, name));
      if (state?.status === 'RUNNING') {
        resumed += await redeliverFinished(s, instance.instanceId);
        continue;
      }
      // Just ended abnormally: execution-events' (or, after the grace, failLostEnds', with the job's result) to release.
      if (state && ABNORMAL.includes(state.status) && state.stopDate && now.getTime() - state.stopDate.getTime() < s.config.eventGraceMs) continue;
      reason = `its execution ${name} is ${state?.status ?? 'unknown to Step Functions'}`;
    }
    if (reason) candidates.push({ instanceId: instance.instanceId, reason });
  }
  // The executions first, then their instances: an execution that saw its instance vanish first would take it for
  // a lost Spot instance and launch another ("Can The Build Rerun On Demand?"), which nothing would then release.
  const stopped: SweepReport['stopped'] = [];
  for (const u of unawaited) {
    const reason = `CodePipeline no longer waits for this build: ${u.why}`;
    if (await part(failures, `stopping ${u.executionArn}`, () => stopExecution(u.executionArn, reason).then(() => true), false)) {
      s.logger.warn('stopped a build CodePipeline no longer waits for', { executionArn: u.executionArn, reason });
      stopped.push({ executionArn: u.executionArn, reason });
    }
  }
  // An execution that ended between the listing and now has released its own instance already. A leak beyond what one
  // sweep terminates is left to the next sweeps (terminate.ts).
  const { stopped: stoppedNow, deferred } = await terminateBounded(candidates.map((t) => t.instanceId));
  if (deferred.length) s.logger.warn('more leftovers than one sweep terminates; the next sweeps terminate the rest', { deferred: deferred.length });
  const stoppedIds = new Set(stoppedNow);
  const terminated = [...lost.released, ...candidates.filter((t) => stoppedIds.has(t.instanceId))];
  const deferredIds = new Set(deferred);
  const candidateIds = new Set(candidates.map((c) => c.instanceId).filter((id) => !deferredIds.has(id)));
  const terminatedNow = instances.filter((i) => candidateIds.has(i.instanceId));
  await part(failures, 'forgetting terminated pool instances', () => forgetPoolInstances(s.pools.table, terminatedNow), undefined);
  for (const t of terminated) s.logger.warn('terminated a leftover build instance', { ...t });
  const noSlots: SlotSweep = { freed: [], dequeued: [], resumed: 0 };
  // Only with the listing: without it no execution can be told not running.
  const slots = runningNames ? await part(failures, 'giving back fleet slots', () => sweepFleetSlots(s.pools.table, s.pools.fleets, s.stateMachineArn, listed, now, s.logger), noSlots) : noSlots;
  const kept = instances.length - candidates.length - releasedWithEnds.size;
  const report = { terminated, kept, resumed, stopped, jobsFailed: lost.jobsFailed, slots, leakedInstanceMinutes: instanceMinutes(terminated, instances, now) };
  s.logger.info('sweep finished', { terminated: terminated.length, alreadyReleased: candidates.length + lost.released.length - terminated.length, kept, resumed, stopped: stopped.length, jobsFailed: lost.jobsFailed });
  // Loud (the function's error metric) once everything else is done; the next sweep tries again.
  if (failures.length) throw new SweepIncompleteError(failures, report);
  return report;
}

/**
 * Why an idle pool instance is a leftover (poolVerdict), or null to keep it. One that outlived its fleet's maxAgeMinutes
 * is first moved to 'retiring' from the state it was seen in: null when a job claimed it meanwhile.
 */
async function idlePoolLeftover(s: Sweeper, instance: TaggedInstance, member: PoolMember | undefined, now: Date, failures: string[]): Promise<string | null> {
  const verdict = poolVerdict(instance, member, s.pools.fleets, now);
  if (verdict.keep) return null;
  if (!verdict.retireFrom) return verdict.reason;
  const retire = () => transition(s.pools.table, instance.tags[POOL_TAGS.fleet], instance.instanceId, verdict.retireFrom!, 'retiring', now);
  return (await part(failures, `retiring pool instance ${instance.instanceId}`, retire, false)) ? verdict.reason : null;
}

export class SweepIncompleteError extends Error {
  /** `report`: what the sweep did nonetheless (its terminations are counted too). */
  constructor(
    readonly failures: string[],
    readonly report?: SweepReport,
  ) {
    super(`the sweep could not finish ${failures.length} step(s): ${failures.join('; ')}`);
    this.name = 'SweepIncompleteError';
  }
}
