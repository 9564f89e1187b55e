import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalCloud, type CloudTiming } from '../cloud';
import { runJob, type JobSummary } from '../job';
import { LAMBDA_ACCOUNT } from '../lambda/account-concurrency';
import { ENVIRONMENTS, MAX_ENVIRONMENTS } from '../lambda/invoker';
import { ApiMeter, type OperationFigures } from '../services/api-meter';
import { jobOf } from '../services/ec2';
import { functionErrorViolations, violationsOf } from '../soak';
import { AWS_LATENCY } from './jobs';

/**
 * Issue #16's scale run: many builds at once in simulated time, started as 100 a simulated minute, each long enough
 * that all run together for a while, then all finished; every API call and Lambda invocation metered (api-meter.ts)
 * and the soak's promises checked for every job (one result, every instance released, nothing left running).
 */

const HELLO = path.join(__dirname, '..', '..', 'examples', 'hello');
const BUDGET = path.join(__dirname, '..', '..', 'bench', 'scale-budget.json');

export interface ScaleOptions {
  readonly jobs: number;
  /** Builds started per simulated minute, evenly spaced. */
  readonly startsPerMinute: number;
  /** Simulated minutes each build's command runs. */
  readonly buildMinutes: number;
  /** Real ms per simulated second. */
  readonly msPerSecond: number;
  /**
   * Execution environments (worker threads) each function may keep. The local cloud's 4 by default: a design whose
   * functions wait (a readiness watcher per build: about 1.7 builds start a simulated second and each is watched
   * about 50 simulated seconds, 80 at once) then queues here behind 4 workers, so its calls are fewer than on AWS;
   * 96 runs them all at once, which a shared 2-core machine cannot (workers time out starting).
   */
  readonly environmentsPerFunction: number;
  /**
   * Real ms after which the run stops waiting: jobs not finished by then are violations, and the figures are those
   * metered so far (a design that floods the local services on this machine still ends the benchmark).
   */
  readonly maxWallMs: number;
  /** Where to write the per-operation table; none when absent. */
  readonly budgetFile?: string;
  readonly log?: (line: string) => void;
}

/**
 * 1,000 builds, 100 starting each simulated minute, 12 simulated minutes of build each: the last starts after
 * 10 minutes, before the first ends, so all 1,000 run at once for about 2 minutes. 450 ms a simulated second keeps
 * this machine ahead of the schedule, so the figures are the design's, not the machine's: the whole run takes about
 * 10.5 real minutes on two cores. At 300 (8 real minutes) the machine fell behind: 5.5 builds start a real second, each
 * running the document's real script (curl, unzip, bash), and with every function's invocations waiting for one of its
 * 4 environments "Is Instance Ready?" ran 829 ms a call (median; 94 at 450) and queued 15 real s (0 at 450), which
 * counted against Lambda's concurrency (192 to 640 at once in five runs; 21 at 450), and 875 to 1,000 builds ran at once.
 */
export const SCALE_DEFAULTS: Omit<ScaleOptions, 'jobs'> = { startsPerMinute: 100, buildMinutes: 12, msPerSecond: 450, environmentsPerFunction: MAX_ENVIRONMENTS, maxWallMs: 16 * 60_000, budgetFile: BUDGET };

/** One operation's line of the budget: calls per job and its peak rates. */
export interface BudgetLine extends OperationFigures {
  readonly callsPerJob: number;
}

export interface ScaleFigures {
  readonly jobs: number;
  /** Every job ended with one result, every instance was released, nothing left running, and all ran at once. */
  readonly ok: boolean;
  readonly violations: string[];
  /** The most build commands running at the same moment. */
  readonly peakConcurrentBuilds: number;
  readonly peakTpsEc2Describe: number;
  readonly peakTpsSsmDescribe: number;
  readonly peakLambdaConcurrency: number;
  /** Synchronous invocations Lambda refused for the account's concurrency. */
  readonly lambdaThrottled: number;
  /** Each function's own peak of invocations in flight (which function holds the account's concurrency). */
  readonly peakLambdaConcurrencyByFunction: Readonly<Record<string, number>>;
  readonly apiCallsPerJob: number;
  readonly budget: BudgetLine[];
  readonly timing: { readonly msPerSecond: number; readonly startsPerMinute: number; readonly buildMinutes: number; readonly bootSeconds: number; readonly registerSeconds: number };
  /** The latest a job started after its planned moment (real ms): how far this machine fell behind the schedule. */
  readonly maxStartLagMs: number;
  readonly wallMs: number;
}

/** The most intervals [start, end) that overlap at one moment. */
export function peakOverlap(intervals: readonly (readonly [number, number])[]): number {
  const edges = intervals.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (now += d));
  return peak;
}

/** Where things stand: executions by their current state, instances by state, Lambda invocations in flight. */
function progress(cloud: LocalCloud): string {
  const count = (xs: string[]) => Object.entries(xs.reduce<Record<string, number>>((by, x) => ({ ...by, [x]: (by[x] ?? 0) + 1 }), {})).map(([k, v]) => `${k} ${v}`).join(', ');
  const running = [...cloud.sfn.executions.values()].filter((e) => e.status === 'RUNNING');
  const states = running.map((e) => [...e.events].reverse().find((ev) => ev.type === 'StateEntered')?.state?.name ?? '?');
  return `executions: ${count(states) || 'none running'}; instances: ${count([...cloud.ec2.instances.values()].map((i) => i.state))}; Lambda in flight ${LAMBDA_ACCOUNT.running} (${Object.entries(LAMBDA_ACCOUNT.runningByFunction()).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([f, n]) => `${f.replace(/^Ec2BuildAction-/, '').replace(/[0-9A-F]{8}$/, '')} ${n}`).join(', ')})`;
}

/** The soak's end-of-run checks: no instance of a job left pending or running, no execution left running, no lost function error. */
function leftOver(cloud: LocalCloud): string[] {
  const out: string[] = [];
  for (const i of cloud.ec2.instances.values()) if (i.state === 'pending' || i.state === 'running') out.push(`instance ${i.instanceId} of job ${jobOf(i)} left ${i.state}`);
  for (const e of cloud.sfn.executions.values()) if (e.status === 'RUNNING') out.push(`execution ${e.name} still running`);
  return [...out, ...functionErrorViolations(cloud.functionErrors)];
}

export async function scale(options: ScaleOptions): Promise<ScaleFigures> {
  const { jobs, startsPerMinute, buildMinutes, msPerSecond } = options;
  const log = options.log ?? (() => undefined);
  const bootSeconds = 30;
  const registerSeconds = 20;
  // As SCALED's simulated boot and registration, and the safety-net poll every 5 simulated minutes as the stack schedules it.
  const timing: CloudTiming = { msPerSecond, bootMs: bootSeconds * msPerSecond, registerMs: registerSeconds * msPerSecond, safetyPollMs: 300 * msPerSecond, ...AWS_LATENCY };
  const environments = ENVIRONMENTS.perFunction;
  ENVIRONMENTS.perFunction = options.environmentsPerFunction;
  const cloud = await LocalCloud.start(timing);
  // Rates per simulated second: the clock the local cloud's EC2 token buckets refill on.
  const meter = new ApiMeter(() => performance.now() / msPerSecond);
  let late = false;
  try {
    const command = `sleep ${((buildMinutes * 60 * msPerSecond) / 1000).toFixed(2)}`;
    // One job first, unmetered, as a deployed stack has run some: its functions' cold starts (real seconds here)
    // would otherwise outlast CodePipeline's local dispatch timeout (1.5 real s) and leave the first jobs to the
    // safety-net poll, 5 simulated minutes later.
    await runJob(cloud, { source: HELLO, command: 'true' });
    meter.install(LAMBDA_ACCOUNT);
    const started = Date.now();
    const spacingMs = (60 * msPerSecond) / startsPerMinute;
    const t0 = Date.now();
    let maxStartLagMs = 0;
    let done = 0;
    const finished: JobSummary[] = [];
    const runs = Array.from({ length: jobs }, (_, i) =>
      new Promise<void>((r) => setTimeout(r, i * spacingMs)).then(async (): Promise<JobSummary> => {
        maxStartLagMs = Math.max(maxStartLagMs, Date.now() - t0 - i * spacingMs);
        const summary = await runJob(cloud, { source: HELLO, command, timeoutMinutes: String(Math.ceil(buildMinutes) + 30) });
        finished.push(summary);
        if (++done % 100 === 0) log(`  ${done} of ${jobs} jobs done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        return summary;
      }),
    );
    const ticker = setInterval(() => log(`  ${((Date.now() - t0) / msPerSecond).toFixed(0)} s simulated: ${progress(cloud)}`), 60 * msPerSecond);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), options.maxWallMs)));
    const all = await Promise.race([Promise.all(runs), deadline]).finally(() => {
      clearInterval(ticker);
      clearTimeout(timer);
    });
    late = all === 'late';
    if (!late) await cloud.bus.drain();
    meter.uninstall();
    const summaries = [...finished];
    const violations = [...summaries.flatMap((s) => violationsOf(s, null)), ...(late ? [`${jobs - summaries.length} of ${jobs} jobs not finished after ${options.maxWallMs / 1000} s`] : leftOver(cloud))];
    const builds = summaries.flatMap((s) => s.timeline.commands.filter((c) => c.phase === 'build' && c.startedAt !== null && c.endedAt !== null).map((c) => [c.startedAt!, c.endedAt!] as const));
    const peakConcurrentBuilds = peakOverlap(builds);
    if (peakConcurrentBuilds < jobs) violations.push(`only ${peakConcurrentBuilds} of the ${jobs} builds ran at once`);
    const report = meter.report();
    const budget = report.operations.map((o) => ({ ...o, callsPerJob: Number((o.calls / jobs).toFixed(2)) }));
    const figures: ScaleFigures = {
      jobs,
      ok: violations.length === 0,
      violations,
      peakConcurrentBuilds,
      peakTpsEc2Describe: meter.operation('EC2:DescribeInstances').peakPerSecond,
      peakTpsSsmDescribe: meter.operation('SSM:DescribeInstanceInformation').peakPerSecond,
      peakLambdaConcurrency: report.peakLambdaConcurrency,
      lambdaThrottled: report.lambdaThrottled,
      peakLambdaConcurrencyByFunction: report.peakLambdaConcurrencyByFunction,
      apiCallsPerJob: Number((report.totalCalls / jobs).toFixed(1)),
      budget,
      timing: { msPerSecond, startsPerMinute, buildMinutes, bootSeconds, registerSeconds },
      maxStartLagMs,
      wallMs: Date.now() - started,
    };
    if (options.budgetFile) {
      fs.mkdirSync(path.dirname(options.budgetFile), { recursive: true });
      const { violations: _v, ...written } = figures;
      fs.writeFileSync(options.budgetFile, `${JSON.stringify({ ...written, violations: violations.slice(0, 20) }, null, 2)}\n`);
    }
    return figures;
  } finally {
    meter.uninstall();
    // A late run's jobs are still going and its bus never drains: its process ends instead (phase.ts exits).
    if (!late) await cloud.stop();
    ENVIRONMENTS.perFunction = environments;
  }
}
