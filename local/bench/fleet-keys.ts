import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFleets } from '../../lambdas/shared/fleets';
import { isWindowsFleet } from '../soak-fleets';
import type { FleetLatencyFigures } from './fleets';
import { idlePoolUsdPerHour } from './pool-prices';
import { SCALE_JOBS, scaleGoals } from './scale-keys';

/** The fleets keys of `npm run bench` (#12): start latencies by capacity source, the claim race, idle pools' cost. */

const EXAMPLE_FLEETS = path.join(__dirname, '..', '..', 'examples', 'fleets.json');

/** Goals of the keys that have one (issue #12), printed beside their values. */
export const GOALS: Readonly<Record<string, { readonly max?: number; readonly equals?: number }>> = {
  start_latency_ms_hot_pool: { max: 1000 },
  start_latency_ms_stopped_pool_overhead_ms: { max: 500 },
  start_latency_ms_cold_overhead_ms: { max: 500 },
  pool_claim_race_ok: { equals: 1 },
  cache_restore_ratio_500mb: { max: 1.3 },
  ...scaleGoals(SCALE_JOBS),
};

/** "goal ≤ 1000 ✔" for a key with a goal, '' otherwise. */
export function goalMark(key: string, value: number): string {
  const goal = GOALS[key];
  if (!goal) return '';
  if (goal.max !== undefined) return `goal ≤ ${goal.max} ${value <= goal.max ? '✔' : '✘'}`;
  return `goal = ${goal.equals} ${value === goal.equals ? '✔' : '✘'}`;
}

type Put = (key: string, value: number, unit: string) => void;
const round = (n: number) => Math.round(n);

/** Writes the keys; returns the detail lines (simulated times, samples, prices used). */
export function putFleetKeys(put: Put, f: FleetLatencyFigures): string[] {
  put('start_latency_ms_hot_pool', round(f.hotPoolMs), 'ms');
  put('start_latency_ms_stopped_pool', round(f.stoppedPoolMs), 'ms');
  put('start_latency_ms_stopped_pool_simulated_start_ms', f.simulated.startMs + f.simulated.registerMs, 'ms (simulated StartInstances to running, then agent registration)');
  put('start_latency_ms_stopped_pool_overhead_ms', round(f.stoppedOverheadMs), 'ms');
  put('start_latency_ms_cold', round(f.coldMs), 'ms');
  put('start_latency_ms_cold_simulated_boot_ms', f.simulated.bootMs + f.simulated.bootJitterMs / 2 + f.simulated.registerMs, `ms (simulated boot ${f.simulated.bootMs} to ${f.simulated.bootMs + f.simulated.bootJitterMs}, then registration ${f.simulated.registerMs}: the mean)`);
  put('start_latency_ms_cold_overhead_ms', round(f.coldOverheadMs), 'ms');
  put('pool_claim_race_ok', f.race.ok ? 1 : 0, 'boolean');
  const lines = [
    `fleets: start latency samples (ms), hot ${f.samples.hot.map(round).join(' ')}; stopped ${f.samples.stopped.map(round).join(' ')}; cold ${f.samples.cold.map(round).join(' ')}`,
    `        a hot job's latency, state by state (ms after the STARTED event, medians): ${Object.entries(f.hotBreakdown).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `        overhead = latency minus each job's simulated start (stopped: ${f.simulated.startMs} + ${f.simulated.registerMs} ms; cold: its instance's RunInstances to agent online)`,
    `        pool-claim race: ${f.race.fromPool} builds on the 10 pool instances, ${f.race.launched} cold launches, of 50${f.race.violations.length ? `; broken: ${f.race.violations.join('; ')}` : ''}`,
  ];
  const fleets = parseFleets(JSON.parse(fs.readFileSync(EXAMPLE_FLEETS, 'utf8')), 'examples/fleets.json');
  lines.push('idle pools of examples/fleets.json, us-east-1, at each fleet\'s largest sizes (prices: local/bench/pool-prices.ts):');
  for (const [name, fleet] of Object.entries(fleets)) {
    const cost = idlePoolUsdPerHour(fleet, isWindowsFleet(fleet));
    if (!cost) {
      lines.push(`  ${name}: no price for ${fleet.instanceTypes[0]} in the table: no figure`);
      continue;
    }
    put(`idle_pool_usd_per_hour_${name}`, Number(cost.usdPerHour.toFixed(4)), 'USD per hour');
    lines.push(`  ${name}: $${cost.usdPerHour.toFixed(4)}/h = ${cost.note}`);
  }
  return lines;
}
