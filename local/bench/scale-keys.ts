import { WATCH_TICK_MS } from '../../lib/readiness';
import type { ScaleFigures } from './scale';

/** The scale keys of `npm run bench` (#16): many builds at once, the API budget and Lambda's concurrency. */

/** Builds the scale phase runs at once (the 1,000); the keys name the count actually run. */
export const SCALE_JOBS = 1000;

/** Goals of issue #16 for `n` builds (the SSM figure's goal is half the quota the README cites: none is published here). */
export function scaleGoals(n: number): Record<string, { readonly max?: number; readonly equals?: number }> {
  return {
    [`concurrent_${n}_ok`]: { equals: 1 },
    [`peak_tps_ec2_describe_${n}`]: { max: 10 },
    [`peak_lambda_concurrency_${n}`]: { max: 250 },
  };
}

type Put = (key: string, value: number, unit: string) => void;

const closestMs = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? 'n/a' : `${Math.round(seconds * 1000)} ms`);

/** Writes the keys; returns the detail lines. */
export function putScaleKeys(put: Put, f: ScaleFigures): string[] {
  const n = f.jobs;
  put(`concurrent_${n}_ok`, f.ok ? 1 : 0, 'boolean');
  put(`peak_tps_ec2_describe_${n}`, f.peakTpsEc2Describe, 'DescribeInstances calls per simulated second, peak');
  put(`peak_tps_ssm_describe_${n}`, f.peakTpsSsmDescribe, 'DescribeInstanceInformation calls per simulated second, peak');
  put(`peak_lambda_concurrency_${n}`, f.peakLambdaConcurrency, 'concurrent Lambda executions, account-wide, peak');
  put('api_calls_per_job', f.apiCallsPerJob, 'API calls and Lambda invocations per job, all services');
  const t = f.timing;
  const per = (op: string) => f.budget.find((b) => b.operation === op);
  const lines = [
    `scale: ${n} builds, ${t.startsPerMinute} starting each simulated minute, ${t.buildMinutes} simulated minutes of build each, ${t.msPerSecond} ms a simulated second; ` +
      `${f.peakConcurrentBuilds} ran at once; ${(f.wallMs / 1000).toFixed(0)} s real, latest start ${f.maxStartLagMs} ms behind its plan`,
    `         Lambda: ${f.lambdaThrottled} synchronous invocations throttled; the per-operation budget is in bench/scale-budget.json`,
    `         per real second (the functions' own pauses between looks run in real ms): DescribeInstances peak ${per('EC2:DescribeInstances')?.peakPerRealSecond ?? 0}, DescribeInstanceInformation peak ${per('SSM:DescribeInstanceInformation')?.peakPerRealSecond ?? 0}`,
    `         closest two DescribeInstanceInformation calls in a row, every caller's: ${closestMs(per('SSM:DescribeInstanceInformation')?.closestSeconds)} simulated (the readiness watcher's tick: ${WATCH_TICK_MS} ms from the last answer)`,
  ];
  for (const v of f.violations.slice(0, 10)) lines.push(`         ✘ ${v}`);
  return lines;
}
