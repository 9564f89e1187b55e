import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCloud, type CloudTiming } from '../cloud';
import { runJob, zipDirectory, type JobSummary } from '../job';
import { DEFAULT_RENEWAL_SECONDS } from '../../lambdas/shared/renewal';
import { median } from './stats';

/** Figures of whole jobs through the local runner, with AWS's latencies simulated as stated. */

const HELLO = path.join(__dirname, '..', '..', 'examples', 'hello');

/** Latencies added to every simulated AWS interaction, stated in the benchmark's output. */
export const AWS_LATENCY = { apiLatencyMs: 20, eventDelayMs: 250, invokeMs: 20 } as const;

/** The safety-net poll runs every 5 minutes, as the stack schedules it; jobs start from their STARTED events. */
const safetyPoll = (msPerSecond: number) => 5 * 60 * msPerSecond;

/** Simulated time: 10 ms stand for a second, so an hour-long build takes 36 s. */
export const SCALED: CloudTiming = { msPerSecond: 10, bootMs: 300, registerMs: 200, safetyPollMs: safetyPoll(10), ...AWS_LATENCY };
/**
 * Real time, for latencies: a 3 to 3.5 s boot (at random, so readiness falls anywhere between two
 * looks of the instance check) and a 2 s agent registration.
 */
export const REAL_TIME: CloudTiming = { msPerSecond: 1000, bootMs: 3000, bootJitterMs: 500, registerMs: 2000, safetyPollMs: safetyPoll(1000), ...AWS_LATENCY };
/**
 * The same, with AWS's simulated latencies at zero: what is left of the dispatch overhead is ours alone (our functions,
 * the state machine's path, the readiness watcher's tick, and this machine's emulation of AWS's services).
 */
export const REAL_TIME_NO_AWS_LATENCY: CloudTiming = { ...REAL_TIME, apiLatencyMs: 0, eventDelayMs: 0, invokeMs: 0 };

function checked(summary: JobSummary, what: string): JobSummary {
  if (summary.status !== 'Succeeded' || summary.jobResults !== 1 || summary.instancesReleased !== summary.instancesLaunched) {
    throw new Error(`${what}: the job did not succeed cleanly: ${JSON.stringify(summary)}`);
  }
  return summary;
}

export interface TransitionFigures {
  /** States entered plus retries, as Step Functions bills them. */
  readonly transitions: number;
  /** Lambda invocations for the job: poller, Task states (with retries), command events. */
  readonly lambdaInvocations: number;
}

/** A build whose command runs `minutes` of simulated time. */
export async function buildOfMinutes(minutes: number, lambdaStates: Set<string>): Promise<TransitionFigures> {
  // In simulated time like the build: the stack's job renewal after 45 minutes, CodePipeline's job timeout of 1 hour
  // (the current quotas page's reading), so a 60-minute build renews its job once, as it would on AWS.
  const scaled = (seconds: number) => (seconds * SCALED.msPerSecond) / 1000;
  const cloud = await LocalCloud.start(SCALED, { jobs: { renewalSeconds: Math.round(scaled(DEFAULT_RENEWAL_SECONDS)), timeoutMs: scaled(3600) * 1000 } });
  try {
    const seconds = (minutes * 60 * SCALED.msPerSecond) / 1000;
    const s = checked(await runJob(cloud, { source: HELLO, command: `sleep ${seconds}`, timeoutMinutes: String(minutes + 30) }), `${minutes}-minute build`);
    const execution = [...cloud.sfn.executions.values()].find((e) => e.name.startsWith(s.jobId))!;
    const lambdaTasks = execution.events.filter((e) => (e.type === 'StateEntered' || e.type === 'StateRetried') && lambdaStates.has(e.state?.name ?? '')).length;
    const commands = s.timeline.commands.length;
    return { transitions: s.stateTransitions + s.stateRetries, lambdaInvocations: 1 + lambdaTasks + commands };
  } finally {
    await cloud.stop();
  }
}

export interface LatencyFigures {
  readonly dispatchOverheadMs: number;
  readonly completionLatencyMs: number;
  readonly samples: number;
  /** Every job's dispatch overhead, sorted, to show the spread around the median. */
  readonly dispatchSamplesMs: number[];
  /**
   * The overhead's two parts, medians: from the STARTED event to RunInstances (event, poller, execution, acknowledgement,
   * launch) and from the agent online to the build command running (the readiness watcher's next look, the task's
   * resumption, SendCommand), so that the budget shows where the time goes.
   */
  readonly beforeLaunchMs: number;
  readonly afterOnlineMs: number;
}

/** Median over `runs` real-time jobs of our own overhead before and after the command (timing: with AWS's latencies or without). */
export async function latencies(runs: number, timing: CloudTiming = REAL_TIME): Promise<LatencyFigures> {
  const cloud = await LocalCloud.start(timing);
  try {
    const dispatch: number[] = [];
    const completion: number[] = [];
    const beforeLaunch: number[] = [];
    const afterOnline: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = checked(await runJob(cloud, { source: HELLO, command: 'true' }), 'latency job');
      const build = s.timeline.commands.find((c) => c.phase === 'build');
      if (!build?.startedAt || !build.endedAt) throw new Error('the build command has no start or end time');
      const instance = s.timeline.instances.find((i) => i.instanceId === build.instanceId);
      if (!instance?.onlineAt) throw new Error('the build instance has no launch or online time');
      // Minus this instance's simulated boot and registration: from RunInstances to its agent online.
      dispatch.push(build.startedAt - s.timeline.startedEvent - (instance.onlineAt - instance.launchedAt));
      beforeLaunch.push(instance.launchedAt - s.timeline.startedEvent);
      afterOnline.push(build.startedAt - instance.onlineAt);
      completion.push(s.timeline.result - build.endedAt);
    }
    return {
      dispatchOverheadMs: median(dispatch),
      completionLatencyMs: median(completion),
      samples: runs,
      dispatchSamplesMs: [...dispatch].sort((a, b) => a - b),
      beforeLaunchMs: median(beforeLaunch),
      afterOnlineMs: median(afterOnline),
    };
  } finally {
    await cloud.stop();
  }
}

export interface ConcurrencyFigures {
  readonly oneJobMs: number;
  readonly hundredJobsMs: number;
  readonly allCorrect: boolean;
}

/** Wall time of one trivial job, then of 100 at once, in one cloud with the scaled timing. */
export async function concurrency(jobs = 100): Promise<ConcurrencyFigures> {
  const cloud = await LocalCloud.start(SCALED);
  try {
    const options = { source: HELLO, command: 'echo ok' };
    let t = Date.now();
    checked(await runJob(cloud, options), 'single job');
    const oneJobMs = Date.now() - t;
    t = Date.now();
    const summaries = await Promise.all(Array.from({ length: jobs }, () => runJob(cloud, options)));
    const hundredJobsMs = Date.now() - t;
    const allCorrect = summaries.every((s) => s.status === 'Succeeded' && s.jobResults === 1 && s.instancesReleased === s.instancesLaunched && s.instancesLaunched === 1);
    return { oneJobMs, hundredJobsMs, allCorrect };
  } finally {
    await cloud.stop();
  }
}

export interface StagingFigures {
  readonly stagedMs: number;
  readonly plainMs: number;
  readonly sizeMb: number;
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * The SSM step's staging of a 500 MB artifact (download + unzip in, zip + upload out: the build and
 * upload commands with a build that only moves the file) against plain unzip and zip of the same
 * files on the same disk.
 */
export async function staging(sizeMb = 500): Promise<StagingFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-staging-'));
  const cloud = await LocalCloud.start(SCALED);
  try {
    const source = path.join(dir, 'source');
    fs.mkdirSync(source);
    execFileSync('bash', ['-c', `head -c ${sizeMb}M /dev/urandom > "$1"`, '_', path.join(source, 'data.bin')]);
    // Each side starts with the disk's earlier writes flushed, so neither pays for the other's.
    const flush = () => void execFileSync('sync');
    const s = checked(
      await runJob(cloud, { source, command: 'mkdir -p dist && mv data.bin dist/', outputPath: 'dist', beforeStarted: flush }),
      'staging job',
    );
    const stagedMs = s.timeline.commands.reduce((sum, c) => sum + ((c.endedAt ?? 0) - (c.startedAt ?? 0)), 0);
    // The same work done plainly: unzip the input, zip the output.
    const inputZip = path.join(dir, 'input.zip');
    await zipDirectory(source, inputZip);
    const unzipped = path.join(dir, 'unzipped');
    flush();
    const unzipMs = timed(() => execFileSync('unzip', ['-q', inputZip, '-d', unzipped]));
    fs.rmSync(inputZip);
    const zipMs = timed(() => execFileSync('zip', ['-q', '-r', '-y', path.join(dir, 'output.zip'), '.'], { cwd: unzipped }));
    return { stagedMs, plainMs: unzipMs + zipMs, sizeMb };
  } finally {
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
