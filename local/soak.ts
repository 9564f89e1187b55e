import * as path from 'node:path';
import type { Fleet } from '../lambdas/shared/fleets';
import { POOL_TAGS } from '../lambdas/shared/env';
import { PROPERTY } from '../lambdas/shared/properties';
import { LocalCloud, type FunctionErrorRecord } from './cloud';
import { runFault, type FaultRun } from './fault-run';
import { FAULTS, sweptAsExpected, type Fault } from './faults';
import { idlePoolInstances, instancesBuiltTwice } from './fleet-checks';
import type { JobSummary } from './job';
import { jobOf } from './services/ec2';
import { drawTargets, isWindowsFleet, KeyedLock } from './soak-fleets';

/**
 * Many local jobs at once, each with a fault drawn at random (seeded, so a run can be repeated),
 * and the promises checked for every one: exactly one result, every launched instance released,
 * the outcome its fault predicts. Shared by `npm run soak` and the test suite.
 */

export interface SoakOptions {
  readonly jobs: number;
  readonly seed: number;
  /** Jobs in flight at once. */
  readonly concurrency: number;
  /** Share of jobs that run with no fault, 0..1. */
  readonly cleanShare: number;
  /**
   * Fleets to deploy (`--fleets FILE`): jobs are drawn across their Linux fleets and cold launches, and the fleet
   * faults (each on a fleet of its own, deployed beside these) join the draw. None: cold jobs and no fleet faults.
   */
  readonly fleets?: Readonly<Record<string, Fleet>>;
  readonly onJobDone?: (done: number, summary: JobSummary) => void;
}

export interface SoakReport {
  readonly jobs: number;
  readonly seed: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Jobs that did not end with exactly one result. */
  readonly withoutExactlyOneResult: number;
  /** Instances still pending or running when every job had ended. */
  readonly instancesLeftRunning: number;
  readonly instancesLaunched: number;
  readonly instancesSwept: number;
  /** Instances the sweeper terminated, by the fault of their job. */
  readonly sweptByFault: Record<string, number>;
  /** Executions still running when every job had ended. */
  readonly executionsLeftRunning: number;
  /** Every broken promise, one line each. */
  readonly violations: string[];
  readonly byFault: Record<string, number>;
  /** Jobs run (a fault's scenario may run several), by where they were drawn to run: a fleet's name, or `cold`. */
  readonly byTarget: Record<string, number>;
  /** Builds by where their instance came from (JobSummary.capacitySource). */
  readonly byCapacitySource: Record<string, number>;
  /** Fleets deployed but not built on (Windows: the local agent runs the Linux step only). */
  readonly fleetsNotBuiltOn: string[];
  /** Idle pool members when every job had ended (not counted as left running: the pools keep them). */
  readonly idlePoolInstances: number;
  readonly wallMs: number;
}

/** mulberry32: a small, well-known seeded generator; the same seed draws the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The fault of each draw, in order: null for a clean job. A fault that shortens every job's timeout needs a cloud of
 * its own (Fault.jobs), and one that breaks the whole account (Fault.accountWide) would break its neighbours' expectations:
 * never in a shared soak; fleet faults only `withFleets`, a fault of several jobs (pool-claim-race's
 * 50) drawn at a tenth of the others' rate per job, so that it does not crowd them out.
 */
export function drawFaults(jobs: number, seed: number, cleanShare: number, withFleets = false): (Fault | null)[] {
  const random = seededRandom(seed);
  const shared = FAULTS.filter((f) => !f.jobs && !f.accountWide && (withFleets || !f.fleets));
  const weights = shared.map((f) => Math.min(1, 5 / (f.jobCount ?? 1)));
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = (r: number) => {
    let at = r * total;
    for (let i = 0; i < shared.length; i++) if ((at -= weights[i]) < 0) return shared[i];
    return shared[shared.length - 1];
  };
  return Array.from({ length: jobs }, () => (random() < cleanShare ? null : pick(random())));
}

/** What broke for this job, if anything. */
export function violationsOf(summary: JobSummary, fault: Fault | null): string[] {
  const out: string[] = [];
  const name = fault?.name ?? 'no fault';
  if (summary.jobResults !== 1) out.push(`${summary.jobId} (${name}): ${summary.jobResults} job results`);
  if (summary.instancesReleased !== summary.instancesLaunched) {
    out.push(`${summary.jobId} (${name}): ${summary.instancesLaunched} launched, ${summary.instancesReleased} released`);
  }
  const expected = fault?.expect ?? { status: 'Succeeded' as const };
  // Only a job whose release fails on purpose leaves its instance to the sweeper.
  if (!sweptAsExpected(summary.instancesSwept, expected.swept)) {
    out.push(`${summary.jobId} (${name}): ${summary.instancesSwept} instances terminated by the sweeper, expected ${JSON.stringify(expected.swept ?? 0)}`);
  }
  if (expected.capacitySource && summary.capacitySource !== expected.capacitySource) out.push(`${summary.jobId} (${name}): built on ${summary.capacitySource}, expected ${expected.capacitySource}`);
  if (expected.launched !== undefined && summary.instancesLaunched !== expected.launched) out.push(`${summary.jobId} (${name}): ${summary.instancesLaunched} instances launched, expected ${expected.launched}`);
  if (summary.status !== expected.status) out.push(`${summary.jobId} (${name}): ${summary.status}, expected ${expected.status}: ${summary.failureMessage ?? ''}`);
  else if (expected.failureType && summary.failureType !== expected.failureType) {
    out.push(`${summary.jobId} (${name}): failure type ${summary.failureType}, expected ${expected.failureType}`);
  } else if (expected.message && !expected.message.test(summary.failureMessage ?? '')) {
    out.push(`${summary.jobId} (${name}): message ${JSON.stringify(summary.failureMessage)} does not match ${expected.message}`);
  } else if (expected.summary && !expected.summary.test(summary.successSummary ?? '')) {
    out.push(`${summary.jobId} (${name}): summary ${JSON.stringify(summary.successSummary)} does not match ${expected.summary}`);
  }
  return out;
}

/** A scheduled or event-driven function that failed every attempt: on AWS its error would be lost, so the soak fails. */
export function functionErrorViolations(errors: readonly FunctionErrorRecord[]): string[] {
  return errors.map((e) => `${e.functionName} (rule ${e.source}) failed every attempt: ${e.errorType}: ${e.errorMessage}`);
}

/** A job's instances as EC2 knows them: state, pool tag, whether the sweeper terminated it. */
function describeInstances(cloud: LocalCloud, summary: JobSummary): string {
  return summary.timeline.instances
    .map(({ instanceId }) => {
      const i = cloud.ec2.instances.get(instanceId);
      return `${instanceId} ${i?.state ?? 'unknown'}${i?.tags[POOL_TAGS.pool] ? ` (${i.tags[POOL_TAGS.pool]} pool member)` : ''}${cloud.sweptInstances.has(instanceId) ? ' swept' : ''}`;
    })
    .join(', ');
}

const SOURCE = path.join(__dirname, '..', 'examples', 'hello');
/** A quick build that still reads its input and writes an output. */
const COMMAND = 'test -f src/hello.c && mkdir -p dist && cp src/hello.c dist/ && echo built';

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const withFleets = options.fleets !== undefined;
  const faults = drawFaults(options.jobs, options.seed, options.cleanShare, withFleets);
  const fileFleets = options.fleets ?? {};
  const buildable = Object.keys(fileFleets).filter((name) => !isWindowsFleet(fileFleets[name]));
  const targets = drawTargets(faults, buildable, seededRandom(options.seed + 1));
  // The fleet faults' own fleets are deployed beside the file's: each fault breaks only its own pools.
  const faultFleets = Object.assign({}, ...faults.map((f) => f?.fleets ?? {})) as Record<string, Fleet>;
  const clash = Object.keys(faultFleets).find((name) => name in fileFleets);
  if (clash) throw new Error(`the fleets file has a fleet named ${clash}, which a fault uses for its own`);
  const cloud = await LocalCloud.start(undefined, withFleets ? { fleets: { ...fileFleets, ...faultFleets } } : {});
  const violations: string[] = [];
  const summaries: JobSummary[] = [];
  const byTarget: Record<string, number> = {};
  const lock = new KeyedLock();
  try {
    // As a deployed stack's pools would be by the time pipelines run.
    if (withFleets) await cloud.fillPools();
    let next = 0;
    const worker = async () => {
      while (next < faults.length) {
        const at = next++;
        const fault = faults[at];
        const target = targets[at];
        const job = { source: SOURCE, command: COMMAND, outputPath: 'dist', ...(target ? { properties: { [PROPERTY.fleet]: target } } : {}) };
        const where = target ?? (fault?.fleets ? `${fault.name}'s fleet` : 'cold');
        let run: FaultRun;
        try {
          // A fleet fault breaks its fleet's pools and counts what it finds there: one at a time per fleet.
          const fleetKey = fault?.fleets ? Object.keys(fault.fleets).join(',') : null;
          run = await (fleetKey ? lock.run(fleetKey, () => runFault(cloud, job, fault)) : runFault(cloud, job, fault));
        } catch (err) {
          violations.push(`(${fault?.name ?? 'no fault'}): the runner failed: ${(err as Error).message}`);
          continue;
        }
        byTarget[where] = (byTarget[where] ?? 0) + run.summaries.length;
        const broken = [...violationsOf(run.primary, fault), ...run.violations];
        // Where it ran, and for an instance not released, what EC2 knows of the job's instances: enough to follow it up.
        const onWhat = (v: string) => {
          const s = run.summaries.find((x) => v.startsWith(x.jobId));
          const unreleased = s && s.instancesReleased !== s.instancesLaunched ? `; its instances: ${describeInstances(cloud, s)}` : '';
          return `${v} [${where}]${unreleased}`;
        };
        violations.push(...broken.map(onWhat));
        for (const summary of run.summaries) {
          summaries.push(summary);
          options.onJobDone?.(summaries.length, summary);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.jobs)) }, worker));
    await cloud.bus.drain();
    // Idle pool members are the pools' (the refill keeps them): every other instance must be gone.
    const idle = new Set(idlePoolInstances(cloud).map((i) => i.instanceId));
    const leftRunning = [...cloud.ec2.instances.values()].filter((i) => (i.state === 'pending' || i.state === 'running') && !idle.has(i.instanceId));
    for (const i of leftRunning) violations.push(`instance ${i.instanceId} of job ${jobOf(i)} left ${i.state}`);
    violations.push(...instancesBuiltTwice(cloud));
    const executionsLeft = [...cloud.sfn.executions.values()].filter((e) => e.status === 'RUNNING');
    for (const e of executionsLeft) violations.push(`execution ${e.name} still running`);
    violations.push(...functionErrorViolations(cloud.functionErrors));
    const byFault: Record<string, number> = {};
    for (const f of faults) byFault[f?.name ?? 'none'] = (byFault[f?.name ?? 'none'] ?? 0) + 1;
    const byCapacitySource: Record<string, number> = {};
    for (const s of summaries) byCapacitySource[s.capacitySource ?? 'none'] = (byCapacitySource[s.capacitySource ?? 'none'] ?? 0) + 1;
    const expectedJobs = faults.reduce((n, f) => n + (f?.jobCount ?? 1), 0);
    return {
      jobs: summaries.length,
      seed: options.seed,
      succeeded: summaries.filter((s) => s.status === 'Succeeded').length,
      failed: summaries.filter((s) => s.status === 'Failed').length,
      withoutExactlyOneResult: expectedJobs - summaries.filter((s) => s.jobResults === 1).length,
      instancesLeftRunning: leftRunning.length,
      instancesLaunched: summaries.reduce((n, s) => n + s.instancesLaunched, 0),
      instancesSwept: summaries.reduce((n, s) => n + s.instancesSwept, 0),
      sweptByFault: summaries.reduce<Record<string, number>>((by, s) => {
        if (s.instancesSwept > 0) by[s.fault ?? 'none'] = (by[s.fault ?? 'none'] ?? 0) + s.instancesSwept;
        return by;
      }, {}),
      executionsLeftRunning: executionsLeft.length,
      violations,
      byFault,
      byTarget,
      byCapacitySource,
      fleetsNotBuiltOn: Object.keys(fileFleets).filter((name) => !buildable.includes(name)),
      idlePoolInstances: [...idle].filter((id) => ['pending', 'running', 'stopping', 'stopped'].includes(cloud.ec2.instances.get(id)?.state ?? '')).length,
      wallMs: Date.now() - started,
    };
  } finally {
    await cloud.stop();
  }
}
