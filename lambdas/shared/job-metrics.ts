import type { MetricKey } from './metric-names';
import type { BuildMetrics } from './metrics';
import type { JobPhases } from './phases';
import type { BuildJob, CompletionInput, FailureType, JobOutcome, LaunchedInstance } from './types';

/**
 * What each function measures, from what it already knows: pure functions of the facts, so that handlers only add
 * one call and flush. The names and units are metric-names.ts's.
 */

/**
 * The job's result (completion): one JobsSucceeded or JobsFailed (by failure type), the other 0, so that the failed
 * rate is a plain ratio of sums; its start latency; a wait in its fleet's line past maxQueueMinutes.
 */
export function measureJobResult(m: BuildMetrics, input: CompletionInput, outcome: JobOutcome, phases?: JobPhases): void {
  const failed = outcome.status === 'Failed';
  m.add('jobsSucceeded', failed ? 0 : 1);
  m.add('jobsFailed', failed ? 1 : 0, failed ? outcome.failureType : undefined);
  const latency = startLatencyMs(input);
  if (latency !== null) m.add('startLatency', latency);
  if (input.state.errors?.takeFleetSlot?.Error === 'LineWaitExceeded') m.add('lineWaitExceeded', 1, input.state.job?.fleet?.name);
  // Each phase the job got to (shared/phases.ts).
  for (const [phase, metric] of Object.entries(PHASE_METRICS) as [keyof JobPhases, MetricKey][]) {
    const ms = phases?.[phase];
    if (ms !== null && ms !== undefined) m.add(metric, ms);
  }
}

/** The metric of each phase. */
export const PHASE_METRICS: Record<keyof JobPhases, MetricKey> = {
  queuedMs: 'phaseQueued',
  readyMs: 'phaseInstanceReady',
  stagingInMs: 'phaseStagingIn',
  buildMs: 'phaseBuild',
  stagingOutMs: 'phaseStagingOut',
  releaseMs: 'phaseRelease',
};

/**
 * Jobs failed outside Report Result (the watchdog and the sweeper for an execution that ended FAILED, TIMED_OUT or
 * ABORTED; the poller for a continuation job whose execution no longer waits): counted as Report Result counts its
 * own, JobsFailed by failure type and JobsSucceeded 0, so the dashboard's outcomes and the failed-job rate see them.
 * Only for failures the caller reported itself (not one that found the job's result standing).
 */
export function measureReportedFailures(m: BuildMetrics, failureType: FailureType, count = 1): void {
  for (let i = 0; i < count; i += 1) {
    m.add('jobsSucceeded', 0);
    m.add('jobsFailed', 1, failureType);
  }
}

/**
 * From the job's poll (the STARTED event's, or the safety-net poll's: the poller records it in renewBy, its renewal
 * interval later) to the instance ready for the build command ($.ready.readyAt, when "Is Instance Ready?" saw its
 * agent online). Null for a job that never got there, and for a Spot rerun, whose readiness is its second instance's.
 */
export function startLatencyMs(input: CompletionInput): number | null {
  const { job, ready, rerun } = input.state;
  if (!ready || rerun) return null;
  const polledAt = job ? Date.parse(job.renewBy) - job.renewalSeconds * 1000 : Date.parse(input.executionStartTime);
  const latency = Date.parse(ready.readyAt) - polledAt;
  return Number.isFinite(latency) ? Math.max(0, latency) : null;
}

/** Where the launcher got the job's instance: a fleet's pool (a hit) or a cold launch. */
export function measureCapacity(m: BuildMetrics, job: BuildJob, instance: LaunchedInstance): void {
  m.add(instance.capacitySource === 'launched' ? 'coldLaunches' : 'poolHits', 1, job.fleet?.name);
}

/** An interruption warning for one of the stack's Spot instances (a build's or an idle pool member's). */
export function measureInterruption(m: BuildMetrics, outcome: { readonly outcome: string; readonly fleet?: string }): void {
  if (outcome.outcome !== 'not-ours') m.add('spotInterruptions', 1, outcome.fleet || undefined);
}

/**
 * One sweep: the instances it terminated (0 for none, so the alarm sees the sweeps) and their minutes since launch, and
 * the jobs it failed for executions whose end event was lost (`lostEndFailure`: the type it reported them with).
 */
export function measureSweep(m: BuildMetrics, report: { readonly terminated: readonly unknown[]; readonly leakedInstanceMinutes: number; readonly jobsFailed: number }, lostEndFailure: FailureType): void {
  m.add('sweeperTerminations', report.terminated.length);
  m.add('leakedInstanceMinutes', report.leakedInstanceMinutes);
  measureReportedFailures(m, lostEndFailure, report.jobsFailed);
}

/** Minutes from each terminated instance's launch to `now`, summed (an instance not in the listing counts 0). */
export function instanceMinutes(terminated: readonly { readonly instanceId: string }[], listed: readonly { readonly instanceId: string; readonly launchTime: Date }[], now: Date): number {
  const launched = new Map(listed.map((i) => [i.instanceId, i.launchTime.getTime()]));
  const ms = terminated.reduce((sum, t) => sum + Math.max(0, now.getTime() - (launched.get(t.instanceId) ?? now.getTime())), 0);
  return Math.round(ms / 600) / 100;
}

/** A job that found no free slot at launch joins its fleet's line: how many jobs are then in it, itself included (0 when a slot was freed meanwhile). */
export function measureLine(m: BuildMetrics, fleet: string, slot: { readonly granted: boolean; readonly position: number }): void {
  m.add('jobsWaiting', slot.granted ? 0 : slot.position, fleet);
}
