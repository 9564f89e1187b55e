import type { Logger } from '@aws-lambda-powertools/logger';
import type { SweeperConfig } from '../shared/config';
import { findTaggedInstances, terminateInstances } from '../shared/ec2';
import { TAGS } from '../shared/env';
import { executionState, stopExecution } from '../shared/sfn';
import { finishedCommands } from '../shared/ssm';
import { deliverResult } from '../command-events/result';
import { ABNORMAL, failLostEnds } from './lost-ends';
import { unawaitedBuilds } from './unawaited';

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
}

export interface Sweeper {
  readonly stateMachineArn: string;
  readonly config: SweeperConfig;
  readonly logger: Logger;
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
 * fails the jobs of executions that ended abnormally and whose status event was lost. The last
 * line of defence: a second run right after changes nothing.
 */
export async function sweep(s: Sweeper, now: Date): Promise<SweepReport> {
  const failures: string[] = [];
  const instances = await findTaggedInstances({ [TAGS.stack]: s.config.stackTagValue });
  const unawaited = await part(failures, 'asking about running builds', () => unawaitedBuilds(s.stateMachineArn, now, s.config.eventGraceMs, s.logger), []);
  const stopping = new Map(unawaited.map((u) => [u.name, u]));
  const lost = await part(failures, 'looking for lost execution ends', () => failLostEnds(s.stateMachineArn, s.config.maxJobMinutes, now, s.config.eventGraceMs, instances, s.logger), { jobsFailed: 0, released: [], failures: [] });
  failures.push(...lost.failures);
  const releasedWithEnds = new Set(lost.released.map((r) => r.instanceId));
  const candidates: SweepDecision[] = [];
  let resumed = 0;
  for (const instance of instances) {
    if (releasedWithEnds.has(instance.instanceId)) continue;
    const ageMinutes = (now.getTime() - instance.launchTime.getTime()) / 60000;
    const name = instance.tags[TAGS.execution];
    let reason: string | null = null;
    if (ageMinutes > s.config.maxJobMinutes) {
      reason = `older than the longest allowed job (${Math.round(ageMinutes)} > ${s.config.maxJobMinutes} minutes)`;
    } else if (!name) {
      reason = 'it carries no execution tag';
    } else if (stopping.has(name)) {
      reason = `CodePipeline no longer waits for its build: ${stopping.get(name)!.why}`;
    } else {
      const executionArn = `${s.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const state = await executionState(executionArn);
      if (state?.status === 'RUNNING') resumed += await redeliverFinished(s, instance.instanceId);
      // Just ended abnormally: execution-events' (or, after the grace, failLostEnds', with the job's result) to release.
      else if (state && ABNORMAL.includes(state.status) && state.stopDate && now.getTime() - state.stopDate.getTime() < s.config.eventGraceMs) continue;
      else reason = `its execution ${name} is ${state?.status ?? 'unknown to Step Functions'}`;
    }
    if (reason) candidates.push({ instanceId: instance.instanceId, reason });
  }
  // An execution that ended between the listing and now has released its own instance already.
  const stoppedIds = new Set(await terminateInstances(candidates.map((t) => t.instanceId)));
  const terminated = [...lost.released, ...candidates.filter((t) => stoppedIds.has(t.instanceId))];
  for (const t of terminated) s.logger.warn('terminated a leftover build instance', { ...t });
  const stopped: SweepReport['stopped'] = [];
  for (const u of unawaited) {
    const reason = `CodePipeline no longer waits for this build: ${u.why}`;
    if (await part(failures, `stopping ${u.executionArn}`, () => stopExecution(u.executionArn, reason).then(() => true), false)) {
      s.logger.warn('stopped a build CodePipeline no longer waits for', { executionArn: u.executionArn, reason });
      stopped.push({ executionArn: u.executionArn, reason });
    }
  }
  const kept = instances.length - candidates.length - releasedWithEnds.size;
  const report = { terminated, kept, resumed, stopped, jobsFailed: lost.jobsFailed };
  s.logger.info('sweep finished', { terminated: terminated.length, alreadyReleased: candidates.length + lost.released.length - terminated.length, kept, resumed, stopped: stopped.length, jobsFailed: lost.jobsFailed });
  // Loud (the function's error metric) once everything else is done; the next sweep tries again.
  if (failures.length) throw new SweepIncompleteError(failures);
  return report;
}

export class SweepIncompleteError extends Error {
  constructor(readonly failures: string[]) {
    super(`the sweep could not finish ${failures.length} step(s): ${failures.join('; ')}`);
    this.name = 'SweepIncompleteError';
  }
}
