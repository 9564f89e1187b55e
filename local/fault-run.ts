import { PROPERTY } from '../lambdas/shared/properties';
import type { LocalCloud } from './cloud';
import { instancesBuiltTwice } from './fleet-checks';
import type { Fault } from './faults';
import type { ScenarioOutcome } from './faults-fleet';
import { runJob, type JobOptions, type JobSummary } from './job';

/**
 * Runs a fault the way every runner does (its test, the fault table, the soak, `npm run local -- --fault`):
 * one job, or the fault's scenario with its jobs. Besides the fault's own checks, every job it ran keeps the
 * promises every job keeps: exactly one result, every instance it launched released, none of them built twice.
 */
export interface FaultRun extends ScenarioOutcome {
  readonly fault: Fault | null;
}

/** Why a fault cannot run in this cloud, or null: the fleet its job names must be deployed as the fault defines it. */
export function cloudMismatch(cloud: LocalCloud, fault: Fault): string | null {
  const name = fault.job?.properties?.[PROPERTY.fleet];
  if (fault.fleets && name !== undefined) {
    if (JSON.stringify(cloud.fleets[name]) !== JSON.stringify(fault.fleets[name])) {
      return `fault ${fault.name} needs a local cloud started with its fleets (LocalCloud.start(timing, { fleets }); fleet ${name} is ${cloud.fleets[name] ? 'different' : 'missing'})`;
    }
  }
  return null;
}

/** The promises every job keeps, whatever its fault. */
export function jobPromises(summary: JobSummary, name: string): string[] {
  const out: string[] = [];
  if (summary.jobResults !== 1) out.push(`${summary.jobId} (${name}): ${summary.jobResults} job results`);
  if (summary.instancesReleased !== summary.instancesLaunched) out.push(`${summary.jobId} (${name}): ${summary.instancesLaunched} launched, ${summary.instancesReleased} released`);
  if (summary.instancesSwept !== 0) out.push(`${summary.jobId} (${name}): ${summary.instancesSwept} instances terminated by the sweeper`);
  return out;
}

export async function runFault(cloud: LocalCloud, options: JobOptions, fault: Fault | null): Promise<FaultRun> {
  if (!fault?.scenario) {
    const summary = await runJob(cloud, options, fault ?? undefined);
    return { fault, summaries: [summary], primary: summary, violations: instancesBuiltTwice(cloud, summary.timeline.instances.map((i) => i.instanceId)) };
  }
  const mismatch = cloudMismatch(cloud, fault);
  if (mismatch) throw new Error(mismatch);
  const outcome = await fault.scenario({
    cloud,
    run: (extra = {}, plain = false) => {
      // The fault's own job options first, then the scenario's changes for this job.
      const merged: JobOptions = { ...options, ...(fault.job ?? {}), ...extra };
      return runJob(cloud, merged, plain ? undefined : { ...fault, job: undefined });
    },
  });
  const violations = [...outcome.violations];
  for (const s of outcome.summaries) if (s !== outcome.primary) violations.push(...jobPromises(s, `${fault.name}, another of its jobs`));
  violations.push(...instancesBuiltTwice(cloud, outcome.summaries.flatMap((s) => s.timeline.instances.map((i) => i.instanceId))));
  return { fault, ...outcome, violations };
}
