import type { Logger } from '@aws-lambda-powertools/logger';
import type { SweeperConfig } from '../shared/config';
import { findTaggedInstances, terminateInstances } from '../shared/ec2';
import { TAGS } from '../shared/env';
import { executionStatus } from '../shared/sfn';
import { finishedCommands } from '../shared/ssm';
import { deliverResult } from '../command-events/result';

export interface SweepDecision {
  readonly instanceId: string;
  readonly reason: string;
}

export interface SweepReport {
  readonly terminated: SweepDecision[];
  readonly kept: number;
  readonly resumed: number;
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
    if ((await deliverResult(commandId, instanceId, status)).outcome === 'resumed') {
      s.logger.warn('resumed a build whose command status event was lost', { instanceId, commandId, status });
      resumed += 1;
    }
  }
  return resumed;
}

/**
 * Terminates this stack's instances whose execution is no longer running, or which are older than
 * the longest allowed job at `now`, and says so in its log; resumes running builds whose command
 * status event was lost. The last line of defence.
 */
export async function sweep(s: Sweeper, now: Date): Promise<SweepReport> {
  const instances = await findTaggedInstances({ [TAGS.stack]: s.config.stackTagValue });
  const candidates: SweepDecision[] = [];
  let resumed = 0;
  for (const instance of instances) {
    const ageMinutes = (now.getTime() - instance.launchTime.getTime()) / 60000;
    let reason: string | null = null;
    if (ageMinutes > s.config.maxJobMinutes) {
      reason = `older than the longest allowed job (${Math.round(ageMinutes)} > ${s.config.maxJobMinutes} minutes)`;
    } else {
      const name = instance.tags[TAGS.execution];
      if (!name) {
        reason = 'it carries no execution tag';
      } else {
        const executionArn = `${s.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
        const status = await executionStatus(executionArn);
        if (status !== 'RUNNING') reason = `its execution ${name} is ${status ?? 'unknown to Step Functions'}`;
        else resumed += await redeliverFinished(s, instance.instanceId);
      }
    }
    if (reason) candidates.push({ instanceId: instance.instanceId, reason });
  }
  // An execution that ended between the listing and now has released its own instance already.
  const stopped = new Set(await terminateInstances(candidates.map((t) => t.instanceId)));
  const terminated = candidates.filter((t) => stopped.has(t.instanceId));
  for (const t of terminated) s.logger.warn('terminated a leftover build instance', { ...t });
  const kept = instances.length - candidates.length;
  s.logger.info('sweep finished', { terminated: terminated.length, alreadyReleased: candidates.length - terminated.length, kept, resumed });
  return { terminated, kept, resumed };
}
