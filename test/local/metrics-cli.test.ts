import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRICS, METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { currentTemplate } from '../../local/synthesized';
import { EMF_LIMITS, emfProblems, type EmfDocument } from '../../local/services/metrics';
import { dashboardMetrics } from '../cdk/dashboard-metrics';

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

/** Runs that between them go through every fact the functions measure: a pool hit, a Spot interruption, a line timeout, a leak. */
const RUNS: Record<string, { args: string[]; fact: string }> = {
  'pool-hit': { args: ['--fleets', 'FLEETS', '--property', 'Fleet=warm', '--command', 'echo built'], fact: METRICS.poolHits.name },
  'spot-interruption': { args: ['--fault', 'spot-interruption'], fact: METRICS.spotInterruptions.name },
  'queue-timeout': { args: ['--fault', 'queue-timeout'], fact: METRICS.lineWaitExceeded.name },
  'release-fails-always': { args: ['--fault', 'release-fails-always'], fact: METRICS.sweeperTerminations.name },
};

describe('the local runner\'s --metrics', () => {
  const files: Record<string, string> = {};
  beforeAll(async () => {
    const fleets = path.join(DIR, 'fleets.json');
    fs.writeFileSync(fleets, JSON.stringify({ warm: { imageId: IMAGE, instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5 } }));
    // The four runs at once: each is a local cloud of its own, mostly waiting on simulated time.
    const runs = await Promise.all(
      Object.entries(RUNS).map(async ([name, { args }]) => {
        files[name] = path.join(DIR, `${name}.jsonl`);
        return local(...args.map((a) => (a === 'FLEETS' ? fleets : a)), '--metrics', files[name]);
      }),
    );
    for (const [i, name] of Object.keys(RUNS).entries()) {
      // A line CloudWatch would drop is said on standard error, never written to the file.
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

  it('emits, in each run, the metric of the fact the run goes through', () => {
    const namesOf = (name: string) => new Set(linesOf(name).flatMap((l) => (JSON.parse(l) as EmfDocument)._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name))));
    expect(Object.fromEntries(Object.entries(RUNS).map(([name, { fact }]) => [name, namesOf(name).has(fact)]))).toEqual(Object.fromEntries(Object.keys(RUNS).map((name) => [name, true])));
  });

  it('emits every metric the stack\'s dashboard and alarms read, by the names the metrics module defines', async () => {
    const emitted = new Set<string>();
    for (const name of Object.keys(RUNS)) {
      for (const line of linesOf(name)) for (const d of (JSON.parse(line) as EmfDocument)._aws.CloudWatchMetrics) for (const m of d.Metrics) emitted.add(m.Name);
    }
    const template = JSON.parse(fs.readFileSync(await currentTemplate(), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const read = new Set(dashboardMetrics(template.Resources).filter((r) => r.namespace === METRICS_NAMESPACE).map((r) => r.name));
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((n) => !emitted.has(n))).toEqual([]);
    expect(read).toEqual(new Set(Object.values(METRICS).map((m) => m.name)));
  });
});
