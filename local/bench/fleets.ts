import * as path from 'node:path';
import { parseFleets, type Fleet, type FleetProps } from '../../lambdas/shared/fleets';
import { PROPERTY } from '../../lambdas/shared/properties';
import { LocalCloud, type CloudTiming } from '../cloud';
import { runFault } from '../fault-run';
import { faultNamed } from '../faults';
import { FAULT_FLEETS } from '../faults-fleet';
import { fillFleet } from '../fleet-checks';
import { runJob, type JobSummary } from '../job';
import { REAL_TIME } from './jobs';
import { median } from './stats';

/**
 * Start latencies on fleets, in real time (REAL_TIME: a 3 to 3.5 s boot, 2 s agent registration, AWS's API,
 * event and invoke latencies): from the STARTED event to the build's first command running (JobSummary.startLatencyMs),
 * for a build on a hot pool member, on a stopped one (started by the launcher) and on a cold launch; and the
 * pool-claim race (50 jobs at once on 10 hot instances), in the same cloud.
 */

const HELLO = path.join(__dirname, '..', '..', 'examples', 'hello');
const base = { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', maxQueueMinutes: 5 } as const;

/** One fleet per capacity source, so each job's source is certain; the race's fleet as the fault defines it. */
export function benchFleets(hotRuns: number, otherRuns: number): Record<string, Fleet> {
  return {
    ...parseFleets(
      {
        'bench-hot': { ...base, hotPool: hotRuns, stoppedPool: 0, maxConcurrent: hotRuns },
        'bench-stopped': { ...base, hotPool: 0, stoppedPool: otherRuns, maxConcurrent: otherRuns },
        'bench-cold': { ...base, hotPool: 0, stoppedPool: 0, maxConcurrent: otherRuns },
      } satisfies Record<string, FleetProps>,
      'bench fleets',
    ),
    'fault-race': FAULT_FLEETS['fault-race'],
  };
}

export interface FleetLatencyFigures {
  readonly hotPoolMs: number;
  readonly stoppedPoolMs: number;
  readonly coldMs: number;
  /** Median of each job's latency minus its simulated start (StartInstances to running, then agent registration). */
  readonly stoppedOverheadMs: number;
  /** Median of each job's latency minus its instance's simulated boot and registration (RunInstances to agent online). */
  readonly coldOverheadMs: number;
  /** The simulated times subtracted: a stopped instance's start (no jitter) plus registration, and the cold boot's range. */
  readonly simulated: { readonly startMs: number; readonly bootMs: number; readonly bootJitterMs: number; readonly registerMs: number };
  readonly samples: { readonly hot: number[]; readonly stopped: number[]; readonly cold: number[] };
  /** Where a hot job's latency goes: each state's entry (median over the hot jobs), ms after the STARTED event; `first command` last. */
  readonly hotBreakdown: Record<string, number>;
  /** pool-claim-race: builds on the 10 pool instances (each once) and cold launches, of 50 jobs. */
  readonly race: { readonly ok: boolean; readonly fromPool: number; readonly launched: number; readonly violations: string[] };
}

/**
 * Starts `n` jobs `gapMs` apart without waiting for each to settle: a job's runner waits for the refill its claim
 * started to settle (in real time, a replacement's boot and registration), which is not part of the latency; the
 * gap keeps the measured parts (STARTED event to the first command) from overlapping.
 */
async function staggered<T>(n: number, gapMs: number, start: () => Promise<T>): Promise<T[]> {
  const runs: Promise<T>[] = [];
  for (let i = 0; i < n; i++) {
    runs.push(start());
    if (i < n - 1) await new Promise((r) => setTimeout(r, gapMs));
  }
  return Promise.all(runs);
}

/** Each state's first entry, ms after the job's STARTED event, median over the jobs, in the order entered. */
function breakdown(cloud: LocalCloud, jobs: readonly JobSummary[]): Record<string, number> {
  const offsets = new Map<string, number[]>();
  for (const s of jobs) {
    const execution = [...cloud.sfn.executions.values()].find((e) => e.name.startsWith(s.jobId));
    const seen = new Set<string>(['execution started']);
    if (execution) offsets.set('execution started', [...(offsets.get('execution started') ?? []), execution.startDate.getTime() - s.timeline.startedEvent]);
    for (const e of execution?.events ?? []) {
      const name = e.type === 'StateEntered' ? e.state?.name : undefined;
      if (!name || seen.has(name)) continue;
      seen.add(name);
      offsets.set(name, [...(offsets.get(name) ?? []), e.timestamp - s.timeline.startedEvent]);
    }
    offsets.set('first command', [...(offsets.get('first command') ?? []), s.startLatencyMs!]);
  }
  const out = [...offsets].map(([name, ms]) => [name, Math.round(median(ms))] as const).filter(([name]) => name === 'first command' || offsets.get(name)!.length === jobs.length);
  return Object.fromEntries(out.sort((a, b) => a[1] - b[1]));
}

const say = (line: string) => process.stderr.write(`  ${line}\n`);

function checked(summary: JobSummary, source: JobSummary['capacitySource']): JobSummary {
  if (summary.status !== 'Succeeded' || summary.jobResults !== 1 || summary.instancesReleased !== summary.instancesLaunched || summary.startLatencyMs === null) {
    throw new Error(`fleet latency job did not succeed cleanly: ${JSON.stringify({ ...summary, timeline: undefined })}`);
  }
  if (summary.capacitySource !== source) throw new Error(`fleet latency job built on ${summary.capacitySource}, not ${source}`);
  return summary;
}

/**
 * `timing` REAL_TIME_NO_AWS_LATENCY measures our own share (AWS's simulated latencies at zero), without the race,
 * whose figure does not depend on latencies.
 */
export async function fleetLatencies(hotRuns = 15, otherRuns = 5, timing: CloudTiming = REAL_TIME): Promise<FleetLatencyFigures> {
  const cloud = await LocalCloud.start(timing, { fleets: benchFleets(hotRuns, otherRuns) });
  const job = (fleet: string) => runJob(cloud, { source: HELLO, command: 'true', properties: { [PROPERTY.fleet]: fleet } });
  try {
    for (const fleet of ['bench-hot', 'bench-stopped']) if (!(await fillFleet(cloud, fleet))) throw new Error(`the refill did not fill ${fleet}`);
    // The pools were filled before (not timed), as a deployed stack's are; jobs a gap apart, as latencies are measured.
    say(`pools filled; ${hotRuns} jobs on the hot pool`);
    const hotJobs = await staggered(hotRuns, 1200, async () => checked(await job('bench-hot'), 'hot-pool'));
    const hot = hotJobs.map((s) => s.startLatencyMs!);
    const hotBreakdown = breakdown(cloud, hotJobs);
    // A stopped member and a cold launch, each alone (as the hot jobs are: a second start at the same moment would share
    // this machine's cores with it, which separate Lambda functions on AWS do not), a start's length apart.
    say(`${otherRuns} jobs on the stopped pool, ${otherRuns} cold`);
    const startMs = REAL_TIME.bootMs + REAL_TIME.registerMs;
    const pairs: [JobSummary, JobSummary][] = [];
    for (let i = 0; i < otherRuns; i++) pairs.push([await job('bench-stopped'), await job('bench-cold')]);
    const stopped = pairs.map(([s]) => checked(s, 'stopped-pool').startLatencyMs!);
    const stoppedOverhead = stopped.map((ms) => ms - startMs);
    const cold = pairs.map(([, c]) => checked(c, 'launched').startLatencyMs!);
    const coldOverhead = pairs.map(([, c]) => {
      const instance = c.timeline.instances.find((x) => x.instanceId === c.timeline.commands[0]?.instanceId);
      if (!instance?.onlineAt) throw new Error('the cold build instance has no online time');
      return c.startLatencyMs! - (instance.onlineAt - instance.launchedAt);
    });
    const withRace = timing === REAL_TIME;
    if (withRace) say('50 jobs racing for 10 hot pool instances');
    const run = withRace ? await runFault(cloud, { source: HELLO, command: 'true' }, faultNamed('pool-claim-race')!) : { summaries: [], violations: [] };
    const fromPool = run.summaries.filter((s) => s.capacitySource === 'hot-pool').length;
    const launched = run.summaries.filter((s) => s.capacitySource === 'launched').length;
    const allKept = run.summaries.every((s) => s.status === 'Succeeded' && s.jobResults === 1 && s.instancesReleased === s.instancesLaunched);
    return {
      hotPoolMs: median(hot),
      stoppedPoolMs: median(stopped),
      coldMs: median(cold),
      stoppedOverheadMs: median(stoppedOverhead),
      coldOverheadMs: median(coldOverhead),
      simulated: { startMs: REAL_TIME.bootMs, bootMs: REAL_TIME.bootMs, bootJitterMs: REAL_TIME.bootJitterMs ?? 0, registerMs: REAL_TIME.registerMs },
      hotBreakdown,
      samples: { hot: [...hot].sort((a, b) => a - b), stopped: [...stopped].sort((a, b) => a - b), cold: [...cold].sort((a, b) => a - b) },
      race: { ok: withRace && allKept && run.violations.length === 0 && fromPool === 10 && launched === 40, fromPool, launched, violations: run.violations },
    };
  } finally {
    await cloud.stop();
  }
}
