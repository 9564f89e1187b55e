import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FleetValueError, parseFleets, type Fleet } from '../lambdas/shared/fleets';
import { runSoak } from './soak';

const USAGE = `usage: npm run soak -- [--jobs N] [--seed S] [--concurrency C] [--clean-share F] [--fleets FILE] [--json]
  --jobs N          jobs to draw (default 100; a fault of several jobs, as pool-claim-race's 50, runs them all)
  --fleets FILE     fleets as the stack takes them: jobs run on their Linux fleets and cold, and the fleet faults join the draw
  --seed S          seed of the fault draw; the same seed draws the same faults (default 1)
  --concurrency C   jobs in flight at once (default 25)
  --clean-share F   share of jobs with no fault, 0 to 1 (default 0.3)
  --json            print the report as one JSON line on standard output`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A --fleets file, checked as the stack checks its fleets. */
function readFleets(file: string): Record<string, Fleet> {
  try {
    return parseFleets(JSON.parse(fs.readFileSync(file, 'utf8')), path.basename(file));
  } catch (err) {
    if (err instanceof FleetValueError || err instanceof SyntaxError || (err as NodeJS.ErrnoException).code) usage(`--fleets: ${(err as Error).message}`);
    throw err;
  }
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { jobs: { type: 'string' }, seed: { type: 'string' }, concurrency: { type: 'string' }, 'clean-share': { type: 'string' }, fleets: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const cleanShare = values['clean-share'] === undefined ? 0.3 : Number(values['clean-share']);
  if (!(cleanShare >= 0 && cleanShare <= 1)) usage(`--clean-share must be between 0 and 1, got ${JSON.stringify(values['clean-share'])}`);
  const jobs = positiveInt('jobs', values.jobs as string | undefined, 100);
  const report = await runSoak({
    jobs,
    seed: positiveInt('seed', values.seed as string | undefined, 1),
    concurrency: positiveInt('concurrency', values.concurrency as string | undefined, 25),
    cleanShare,
    fleets: values.fleets === undefined ? undefined : readFleets(path.resolve(String(values.fleets))),
    onJobDone: (done) => {
      if (done % 25 === 0) process.stderr.write(`  ${done} jobs done\n`);
    },
  });
  const w = (s: string) => process.stderr.write(`${s}\n`);
  w(`\nsoak: ${report.jobs} jobs, seed ${report.seed}, ${(report.wallMs / 1000).toFixed(1)} s`);
  w(`  succeeded ${report.succeeded}, failed ${report.failed} (as their faults predict unless listed below)`);
  w(`  jobs without exactly one result: ${report.withoutExactlyOneResult}`);
  w(`  instances launched ${report.instancesLaunched}, left running ${report.instancesLeftRunning}, terminated by the sweeper ${report.instancesSwept}${
    report.instancesSwept > 0 ? ` (${Object.entries(report.sweptByFault).sort().map(([k, v]) => `${k} ${v}`).join(', ')})` : ''
  }`);
  w(`  executions left running: ${report.executionsLeftRunning}`);
  w(`  faults drawn: ${Object.entries(report.byFault).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const list = (o: Record<string, number>) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  if (values.fleets !== undefined) {
    w(`  jobs by where they ran: ${list(report.byTarget)}; builds by capacity source: ${list(report.byCapacitySource)}`);
    w(`  idle pool instances at the end (kept by the pools): ${report.idlePoolInstances}`);
    if (report.fleetsNotBuiltOn.length) w(`  not built on: ${report.fleetsNotBuiltOn.join(', ')} (Windows: the local agent runs the document's Linux step only; their pools were filled and refilled)`);
  }
  w(report.violations.length ? `  ✘ ${report.violations.length} violation(s):\n    ${report.violations.join('\n    ')}` : '  ✔ every promise kept');
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(report.violations.length ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
