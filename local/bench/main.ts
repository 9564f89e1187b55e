import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CacheFigures } from './cache';
import { goalMark, putFleetKeys } from './fleet-keys';
import type { FleetLatencyFigures } from './fleets';
import { measureLambdas } from './lambdas';
import type { ScaleFigures } from './scale';
import { putScaleKeys, SCALE_JOBS } from './scale-keys';
import { promisify } from 'node:util';
import { AWS_LATENCY, REAL_TIME, SCALED, type ConcurrencyFigures, type LatencyFigures, type StagingFigures, type TransitionFigures } from './jobs';
import { codeBuildJobUsd, COST_ASSUMPTIONS, ec2JobUsd, orchestrationUsd, PRICES_READ_ON } from './prices';

/**
 * `npm run bench`: every figure of the performance issue, measured side by side in one run on the
 * local runner, printed as a table and written to bench/results.json as { value, unit } each.
 */

type Results = Record<string, { value: number; unit: string }>;
const STATE_MACHINE = path.join(__dirname, '..', '..', 'state-machines', 'build-job.asl.json');
const RESULTS = path.join(__dirname, '..', '..', 'bench', 'results.json');

function lambdaStates(): Set<string> {
  const definition = JSON.parse(fs.readFileSync(STATE_MACHINE, 'utf8')) as { States: Record<string, { Type: string; Resource?: string }> };
  return new Set(Object.entries(definition.States).filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke').map(([n]) => n));
}

/** Runs one phase (local/bench/phase.ts) in a fresh process and returns its figures. */
async function phase<T>(name: string, arg: number, env: Record<string, string> = {}): Promise<T> {
  const tsx = require.resolve('tsx/cli');
  const { stdout } = await promisify(execFile)(process.execPath, [tsx, path.join(__dirname, 'phase.ts'), name, String(arg)], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as T;
}

/** Simulated boot and registration, which the instance checks spend watching (billed Lambda time). */
const WATCH_SECONDS = (SCALED.bootMs + SCALED.registerMs) / SCALED.msPerSecond;

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const started = Date.now();
  const results: Results = {};
  const put = (key: string, value: number, unit: string) => (results[key] = { value, unit });
  log(`simulated AWS: ${AWS_LATENCY.apiLatencyMs} ms per API call, ${AWS_LATENCY.eventDelayMs} ms EventBridge delivery, ${AWS_LATENCY.invokeMs} ms Lambda invoke`);
  log(`  transitions and concurrency: ${SCALED.msPerSecond} ms per simulated second, boot ${(SCALED.bootMs / SCALED.msPerSecond).toFixed(0)} s, agent registration ${(SCALED.registerMs / SCALED.msPerSecond).toFixed(0)} s (simulated)`);
  log(`  latencies: real time, boot ${REAL_TIME.bootMs} ms plus up to ${REAL_TIME.bootJitterMs} ms at random, agent registration ${REAL_TIME.registerMs} ms`);

  log('• transitions of a 1-minute and a 60-minute build');
  const states = { BENCH_LAMBDA_STATES: [...lambdaStates()].join('|') };
  const one = await phase<TransitionFigures>('build', 1, states);
  const sixty = await phase<TransitionFigures>('build', 60, states);
  put('transitions_1min_build', one.transitions, 'state transitions');
  put('transitions_60min_build', sixty.transitions, 'state transitions');

  log('• dispatch overhead and completion latency (15 real-time jobs, median)');
  const lat = await phase<LatencyFigures>('latencies', 15);
  put('completion_latency_ms', round(lat.completionLatencyMs), 'ms');
  put('dispatch_overhead_ms', round(lat.dispatchOverheadMs), 'ms');
  log('• the same with AWS\'s simulated latencies at zero: our own share of the dispatch overhead (15 real-time jobs, median)');
  const own = await phase<LatencyFigures>('latencies-own', 15);
  put('dispatch_overhead_ms_own', round(own.dispatchOverheadMs), 'ms');

  log('• Lambda bundles: size and cold module load (median of 20 fresh processes)');
  for (const f of await measureLambdas(20)) {
    put(`lambda_init_ms_${f.name}`, round(f.initMs, 1), 'ms');
    put(`lambda_bundle_bytes_${f.name}`, f.bundleBytes, 'bytes');
  }

  log('• 100 concurrent trivial jobs against 1');
  const c = await phase<ConcurrencyFigures>('concurrency', 100);
  put('concurrent_100_wall_ratio', round(c.hundredJobsMs / c.oneJobMs, 2), 'ratio');
  put('concurrent_100_ok', c.allCorrect ? 1 : 0, 'boolean');

  log('• staging a 500 MB artifact against plain unzip and zip');
  const st = await phase<StagingFigures>('staging', 500);
  put('staging_ratio_500mb', round(st.stagedMs / st.plainMs, 2), 'ratio');

  log('• caching a 500 MB directory (CachePaths: restore, archive, upload) against plain tar and untar through the same store, and on the local disk alone (median of 5 each)');
  const cache = await phase<CacheFigures>('cache', 500);
  put('cache_restore_ratio_500mb', round(cache.cachedMs / cache.plainMs, 2), 'ratio');
  put('cache_restore_ratio_500mb_local_tar', round(cache.cachedMs / cache.localTarMs, 2), 'ratio');

  log('• fleets: start latency from a hot pool (15 real-time jobs), a stopped pool and cold (5 each), and 50 jobs racing for 10 pool instances');
  const fleetDetails = putFleetKeys(put, await phase<FleetLatencyFigures>('fleets', 15));
  log('• fleets again with AWS\'s simulated latencies at zero: our own share of the stopped and cold starts\' overhead (5 jobs each)');
  const fleetsOwn = await phase<FleetLatencyFigures>('fleets-own', 5);
  put('start_latency_ms_stopped_pool_overhead_ms_own', Math.round(fleetsOwn.stoppedOverheadMs), 'ms');
  put('start_latency_ms_cold_overhead_ms_own', Math.round(fleetsOwn.coldOverheadMs), 'ms');

  log(`• scale: ${SCALE_JOBS} builds at once, 100 starting each simulated minute: API calls per operation and second, Lambda concurrency`);
  const scaleDetails = putScaleKeys(put, await phase<ScaleFigures>('scale', SCALE_JOBS));

  put('orchestration_usd_per_job_1min', round(orchestrationUsd(one.transitions, one.lambdaInvocations, WATCH_SECONDS), 6), 'USD');
  put('orchestration_usd_per_job_60min', round(orchestrationUsd(sixty.transitions, sixty.lambdaInvocations, WATCH_SECONDS), 6), 'USD');

  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  const width = Math.max(...Object.keys(results).map((k) => k.length));
  log('');
  for (const [k, v] of Object.entries(results)) log(`${k.padEnd(width)}  ${String(v.value).padStart(12)}  ${v.unit}${goalMark(k, v.value) ? `  ${goalMark(k, v.value)}` : ''}`);
  log('');
  log(`details: 1-minute build ${one.transitions} transitions / ${one.lambdaInvocations} Lambda invocations; 60-minute build ${sixty.transitions} / ${sixty.lambdaInvocations}`);
  log(`         dispatch overhead of the ${lat.samples} jobs, sorted (ms): ${lat.dispatchSamplesMs.map((ms) => round(ms)).join(' ')}`);
  log(`         without AWS's simulated latencies, sorted (ms): ${own.dispatchSamplesMs.map((ms) => round(ms)).join(' ')}; AWS's share, measured: ${round(lat.dispatchOverheadMs - own.dispatchOverheadMs)} ms`);
  log(`         of which, medians: STARTED event to RunInstances ${round(lat.beforeLaunchMs)} ms (${round(own.beforeLaunchMs)} without AWS's latencies), agent online to the build command ${round(lat.afterOnlineMs)} ms (${round(own.afterOnlineMs)})`);
  log(`         1 job ${c.oneJobMs} ms, 100 jobs ${c.hundredJobsMs} ms; staging ${round(st.stagedMs)} ms vs plain ${round(st.plainMs)} ms`);
  log(`         cache of ${cache.sizeMb} MB (${round(cache.archivedBytes / 1e6)} MB compressed): ${round(cache.cachedMs)} ms vs plain tar and untar through the store ${round(cache.plainMs)} ms, on the local disk ${round(cache.localTarMs)} ms (runs, cache/store/local: ${cache.samples.map((s) => `${s.cachedMs}/${round(s.plainMs)}/${round(s.localTarMs)}`).join(' ')})`);
  for (const line of fleetDetails) log(line);
  for (const line of scaleDetails) log(line);
  log(`cost per job (prices read ${PRICES_READ_ON}; Lambda billed ${COST_ASSUMPTIONS.lambdaBilledSeconds * 1000} ms per invocation plus ${WATCH_SECONDS} s of instance watching at ${COST_ASSUMPTIONS.lambdaMemoryGb * 1024} MB; EC2 +${COST_ASSUMPTIONS.ec2OverheadSeconds} s per job):`);
  for (const minutes of [1, 10, 60]) {
    const orchestration = orchestrationUsd(minutes === 60 ? sixty.transitions : one.transitions, minutes === 60 ? sixty.lambdaInvocations : one.lambdaInvocations, WATCH_SECONDS);
    log(`  ${String(minutes).padStart(2)} min: this action on c7i.xlarge $${ec2JobUsd(minutes, orchestration).toFixed(4)}, CodeBuild general1.medium $${codeBuildJobUsd(minutes).toFixed(4)}`);
  }
  log(`wrote ${path.relative(process.cwd(), RESULTS)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
