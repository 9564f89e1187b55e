import '../polyfills';
import { cacheRestore } from './cache';
import { fleetLatencies } from './fleets';
import { buildOfMinutes, concurrency, latencies, REAL_TIME_NO_AWS_LATENCY, staging } from './jobs';
import { scale, SCALE_DEFAULTS } from './scale';

/** A positive number from the environment (a trial of the scale phase at another pace), or the default. */
const fromEnv = (name: string, fallback: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);

/**
 * One benchmark phase in its own process (a local cloud per process: the handlers keep the
 * endpoints of the first cloud they meet). Prints its figures as one JSON line.
 */
const PHASES: Record<string, (arg: string) => Promise<unknown>> = {
  build: (arg) => buildOfMinutes(Number(arg), new Set(process.env.BENCH_LAMBDA_STATES?.split('|') ?? [])),
  latencies: (arg) => latencies(Number(arg)),
  'latencies-own': (arg) => latencies(Number(arg), REAL_TIME_NO_AWS_LATENCY),
  concurrency: (arg) => concurrency(Number(arg)),
  staging: (arg) => staging(Number(arg)),
  cache: (arg) => cacheRestore(Number(arg), fromEnv('BENCH_CACHE_RUNS', 5)),
  fleets: (arg) => fleetLatencies(Number(arg)),
  'fleets-own': (arg) => fleetLatencies(Number(arg), 5, REAL_TIME_NO_AWS_LATENCY),
  scale: (arg) =>
    scale({
      ...SCALE_DEFAULTS,
      jobs: Number(arg),
      msPerSecond: fromEnv('BENCH_SCALE_MS_PER_SECOND', SCALE_DEFAULTS.msPerSecond),
      startsPerMinute: fromEnv('BENCH_SCALE_STARTS_PER_MINUTE', SCALE_DEFAULTS.startsPerMinute),
      buildMinutes: fromEnv('BENCH_SCALE_BUILD_MINUTES', SCALE_DEFAULTS.buildMinutes),
      environmentsPerFunction: fromEnv('BENCH_SCALE_ENVIRONMENTS', SCALE_DEFAULTS.environmentsPerFunction),
      maxWallMs: fromEnv('BENCH_SCALE_MAX_WALL_MS', SCALE_DEFAULTS.maxWallMs),
      log: (line) => process.stderr.write(`${line}\n`),
    }),
};

const [name, arg] = process.argv.slice(2);
const phase = PHASES[name];
if (!phase) {
  process.stderr.write(`unknown phase ${JSON.stringify(name)}; one of ${Object.keys(PHASES).join(', ')}\n`);
  process.exit(2);
}
phase(arg).then(
  (figures) => {
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
