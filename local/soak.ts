import * as path from 'node:path';
import { LocalCloud, type FunctionErrorRecord } from './cloud';
import { FAULTS, type Fault } from './faults';
import { runJob, type JobSummary } from './job';
import { jobOf } from './services/ec2';

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

/** The fault of each job, in order: null for a clean job. */
export function drawFaults(jobs: number, seed: number, cleanShare: number): (Fault | null)[] {
  const random = seededRandom(seed);
  // A fault that shortens every job's timeout needs a cloud of its own (Fault.jobs): not in a shared soak.
  const shared = FAULTS.filter((f) => !f.jobs);
  return Array.from({ length: jobs }, () => (random() < cleanShare ? null : shared[Math.floor(random() * shared.length)]));
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
  if (summary.instancesSwept !== (expected.swept ?? 0)) {
    out.push(`${summary.jobId} (${name}): ${summary.instancesSwept} instances terminated by the sweeper, expected ${expected.swept ?? 0}`);
  }
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

const SOURCE = path.join(__dirname, '..', 'examples', 'hello');
/** A quick build that still reads its input and writes an output. */
const COMMAND = 'test -f src/hello.c && mkdir -p dist && cp src/hello.c dist/ && echo built';

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const faults = drawFaults(options.jobs, options.seed, options.cleanShare);
  const cloud = await LocalCloud.start();
  const violations: string[] = [];
  const summaries: JobSummary[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < faults.length) {
        const fault = faults[next++];
        let summary: JobSummary;
        try {
          summary = await runJob(cloud, { source: SOURCE, command: COMMAND, outputPath: 'dist' }, fault ?? undefined);
        } catch (err) {
          violations.push(`(${fault?.name ?? 'no fault'}): the runner failed: ${(err as Error).message}`);
          continue;
        }
        summaries.push(summary);
        violations.push(...violationsOf(summary, fault));
        options.onJobDone?.(summaries.length, summary);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.jobs)) }, worker));
    await cloud.bus.drain();
    const leftRunning = [...cloud.ec2.instances.values()].filter((i) => i.state === 'pending' || i.state === 'running');
    for (const i of leftRunning) violations.push(`instance ${i.instanceId} of job ${jobOf(i)} left ${i.state}`);
    const executionsLeft = [...cloud.sfn.executions.values()].filter((e) => e.status === 'RUNNING');
    for (const e of executionsLeft) violations.push(`execution ${e.name} still running`);
    violations.push(...functionErrorViolations(cloud.functionErrors));
    const byFault: Record<string, number> = {};
    for (const f of faults) byFault[f?.name ?? 'none'] = (byFault[f?.name ?? 'none'] ?? 0) + 1;
    return {
      jobs: options.jobs,
      seed: options.seed,
      succeeded: summaries.filter((s) => s.status === 'Succeeded').length,
      failed: summaries.filter((s) => s.status === 'Failed').length,
      withoutExactlyOneResult: options.jobs - summaries.filter((s) => s.jobResults === 1).length,
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
      wallMs: Date.now() - started,
    };
  } finally {
    await cloud.stop();
  }
}
