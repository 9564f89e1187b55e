import { latestActionRun } from '../shared/codepipeline';
import { HOLD_LIMITS } from '../shared/hold';
import type { PipelineRef } from '../shared/types';
import type { Awaited } from './awaited';

/** The question asked of CodePipeline about a held build, once per pipeline a sweep (askedOnce). */
export type LatestRunQuestion = typeof latestActionRun;

/** Whether an instance's hold tag (TAGS.holdUntil) is a hold that still runs at `now`: a time ahead, within the longest hold. */
export function holdRuns(holdUntil: string | undefined, now: Date): boolean {
  const until = holdUntil ? Date.parse(holdUntil) : NaN;
  return Number.isFinite(until) && until > now.getTime() && until - now.getTime() <= HOLD_LIMITS.max * 60_000;
}

/**
 * Whether a held build (its failure reported, its instance kept until `holdUntil`: shared/hold.ts) is still wanted. The
 * hold ends when it runs out, when its pipeline is gone, when the stage ran again in a newer pipeline execution
 * (superseded), or when the stage was retried (its action has a newer action execution): whoever looks at the
 * instance then looks at a build nobody reruns. Errors (throttling, access denied) are the caller's: it keeps the build.
 */
export async function holdStillWanted(p: Partial<PipelineRef> | undefined, holdUntil: string, now: Date, latest: LatestRunQuestion): Promise<Awaited> {
  if (!holdRuns(holdUntil, now)) return { awaited: false, why: `its hold on failure ended (${holdUntil})` };
  if (!p?.name || !p.stage || !p.action) return { awaited: true, why: `held until ${holdUntil}; its input names no pipeline action` };
  const run = await latest(p.name, p.stage, p.action);
  if (run === null) return { awaited: false, why: `pipeline ${p.name} no longer exists` };
  if (run.pipelineExecutionId && p.executionId && run.pipelineExecutionId !== p.executionId) {
    return { awaited: false, why: `stage ${p.stage} ran again in pipeline execution ${run.pipelineExecutionId}` };
  }
  const retried = p.actionExecutionId ? run.actionExecutionId !== undefined && run.actionExecutionId !== p.actionExecutionId : run.status === 'InProgress';
  if (retried) return { awaited: false, why: `action ${p.stage}/${p.action} was retried` };
  return { awaited: true, why: `held until ${holdUntil}` };
}
