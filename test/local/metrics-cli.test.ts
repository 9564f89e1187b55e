import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRICS, METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { currentTemplate } from '../../local/synthesized';
import { EMF_LIMITS, emfProblems, type EmfDocument } from '../../local/services/metrics';
import { alarmMetrics, dashboardMetrics } from '../cdk/dashboard-metrics';

/**
 * `npm run local -- --metrics FILE` (CONTRACTS): the metric lines the functions print, each a valid document of
 * CloudWatch's embedded metric format
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * and together every metric the stack's dashboard reads.
 */
const ROOT = path.join(__dirname, '..', '..');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
/** `npm run local -- --quiet ARGS`, in a process of its own; resolves with what it wrote to standard error, whatever its exit status. */
const local = (...args: string[]) =>
  new Promise<{ stderr: string }>((resolve) => {
    execFile(process.execPath, [require.resolve('tsx/cli'), path.join(ROOT, 'local', 'cli.ts'), '--quiet', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' }, maxBuffer: 64 * 1024 * 1024 }, (_err, _stdout, stderr) =>
      resolve({ stderr }),
    );
  });

const IMAGE = 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

/**
 * Runs that between them go through every fact the functions measure: a pool hit, a Spot interruption, a line timeout,
 * a leak, an unexpected function error. Each names what its fact must add up to, by metric, in the [Stack] series.
 */
const RUNS: Record<string, { args: string[]; facts: Record<string, (sum: number) => boolean> }> = {
  'pool-hit': { args: ['--fleets', 'FLEETS', '--property', 'Fleet=warm', '--command', 'echo built'], facts: { [METRICS.poolHits.name]: (n) => n >= 1 } },
  'spot-interruption': { args: ['--fault', 'spot-interruption'], facts: { [METRICS.spotInterruptions.name]: (n) => n >= 1 } },
  'queue-timeout': { args: ['--fault', 'queue-timeout'], facts: { [METRICS.lineWaitExceeded.name]: (n) => n === 1 } },
  // The sweeper terminates the instance Release Instance could not: a count, and minutes since its launch.
  'release-fails-always': { args: ['--fault', 'release-fails-always'], facts: { [METRICS.sweeperTerminations.name]: (n) => n >= 1, [METRICS.leakedInstanceMinutes.name]: (n) => n > 0 } },
  'report-throttled': { args: ['--fault', 'report-throttled'], facts: { [METRICS.unexpectedErrors.name]: (n) => n >= 1 } },
};

describe('the local runner\'s --metrics', () => {
  const files: Record<string, string> = {};
  /** What each run said on standard error: its outcome, for a fact that did not add up. */
  const said: Record<string, string> = {};
  beforeAll(async () => {
    const fleets = path.join(DIR, 'fleets.json');
    fs.writeFileSync(fleets, JSON.stringify({ warm: { imageId: IMAGE, instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5 } }));
    // The runs at once: each is a local cloud of its own, mostly waiting on simulated time.
    const runs = await Promise.all(
      Object.entries(RUNS).map(async ([name, { args }]) => {
        files[name] = path.join(DIR, `${name}.jsonl`);
        return local(...args.map((a) => (a === 'FLEETS' ? fleets : a)), '--metrics', files[name]);
      }),
    );
    for (const [i, name] of Object.keys(RUNS).entries()) {
      // A line CloudWatch would drop is said on standard error, never written to the file.
      said[name] = runs[i].stderr;
      expect(runs[i].stderr).not.toContain('printed a metric line CloudWatch would drop');
      expect(fs.existsSync(files[name])).toBe(true);
    }
  }, 900_000);

  const linesOf = (name: string) => fs.readFileSync(files[name], 'utf8').split('\n').filter(Boolean);

  it('writes one embedded-metric-format document a line, each valid under the specification', () => {
    for (const name of Object.keys(RUNS)) {
      const lines = linesOf(name);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(emfProblems(line)).toEqual([]);
        const doc = JSON.parse(line) as EmfDocument;
        // The specification's figures, checked here too rather than only through emfProblems.
        expect(Number.isInteger(doc._aws.Timestamp)).toBe(true);
        for (const d of doc._aws.CloudWatchMetrics) {
          expect(d.Namespace).toBe(METRICS_NAMESPACE);
          expect(d.Metrics.length).toBeLessThanOrEqual(EMF_LIMITS.metricsPerDirective);
          for (const set of d.Dimensions) {
            expect(set.length).toBeLessThanOrEqual(30);
            for (const key of set) expect(typeof doc[key]).toBe('string');
          }
          for (const m of d.Metrics) {
            expect(['Count', 'Milliseconds', 'None']).toContain(m.Unit);
            expect(doc[m.Name]).toEqual(expect.anything());
          }
          // Never a job's or an instance's id as a dimension: few metrics, whatever the number of builds.
          expect(d.Dimensions.flat().every((k) => ['Stack', 'Fleet', 'FailureType', 'FunctionName'].includes(k))).toBe(true);
        }
      }
    }
  });

  it('adds up, in each run, the values of the facts the run goes through', () => {
    const sums = (name: string) => {
      const total: Record<string, number> = {};
      for (const line of linesOf(name)) {
        const doc = JSON.parse(line) as EmfDocument;
        for (const d of doc._aws.CloudWatchMetrics) {
          // The [Stack] series only: a breakdown's line repeats the same values.
          if (JSON.stringify(d.Dimensions) !== '[["Stack"]]') continue;
          for (const m of d.Metrics) total[m.Name] = (total[m.Name] ?? 0) + [doc[m.Name]].flat().reduce((a: number, v) => a + Number(v), 0);
        }
      }
      return total;
    };
    const verdicts = Object.entries(RUNS).flatMap(([name, { facts }]) => {
      const total = sums(name);
      const outcome = said[name].split('\n').filter((l) => /^[✔✘⚠]/.test(l)).join(' / ');
      return Object.entries(facts).map(([metric, holds]) => (holds(total[metric] ?? NaN) ? `${name}: ${metric} holds` : `${name}: ${metric} = ${total[metric] ?? 'none'}: FAILS (the run: ${outcome || 'no outcome printed'})`));
    });
    expect(verdicts.filter((v) => v.includes(': FAILS'))).toEqual([]);
  });

  it('emits every metric the stack\'s dashboard and alarms read, with the dimension keys they read it by', async () => {
    // A metric is its name and its dimension set: JobsFailed by {Stack} and by {Stack, FailureType} are two series.
    const series = (name: string, keys: readonly string[]) => `${name}|${[...keys].sort().join(',')}`;
    const emitted = new Set<string>();
    for (const name of Object.keys(RUNS)) {
      for (const line of linesOf(name)) for (const d of (JSON.parse(line) as EmfDocument)._aws.CloudWatchMetrics) for (const m of d.Metrics) for (const set of d.Dimensions) emitted.add(series(m.Name, set));
    }
    const template = JSON.parse(fs.readFileSync(await currentTemplate(), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const refs = [...dashboardMetrics(template.Resources), ...alarmMetrics(template.Resources)].filter((r) => r.namespace === METRICS_NAMESPACE);
    const read = new Set(refs.map((r) => series(r.name, Object.keys(r.dimensions))));
    expect(alarmMetrics(template.Resources).filter((r) => r.namespace === METRICS_NAMESPACE).length).toBeGreaterThan(0);
    expect([...read].filter((s) => !emitted.has(s))).toEqual([]);
    expect(new Set(refs.map((r) => r.name))).toEqual(new Set(Object.values(METRICS).map((m) => m.name)));
  });
});
