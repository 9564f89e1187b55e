import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { peakOverlap, scale } from '../../local/bench/scale';
import { putScaleKeys } from '../../local/bench/scale-keys';

/** The bench's scale phase (#16), small: 10 builds started as 100 a simulated minute, all running at once for a while. */

describe('the scale phase', () => {
  it('takes the most intervals that overlap at one moment, an end before a start at the same time', () => {
    expect(peakOverlap([])).toBe(0);
    expect(peakOverlap([[0, 10], [5, 15], [10, 20]])).toBe(2);
    expect(peakOverlap([[0, 10], [1, 9], [2, 8]])).toBe(3);
  });

  it('runs every build at once, checks each job, and meters every operation per job and per second', async () => {
    // GIVEN a place for the budget table
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-'));
    const budgetFile = path.join(dir, 'scale-budget.json');
    try {
      // WHEN 10 builds of two simulated minutes start within 6 simulated seconds (two minutes, 12 real seconds: a loaded
      // fresh-clone CI started the last of them more than the 6 real seconds a one-minute build left after the first)
      const f = await scale({ jobs: 10, startsPerMinute: 100, buildMinutes: 2, msPerSecond: 100, environmentsPerFunction: 4, maxWallMs: 90_000, budgetFile });
      // THEN each ended with one result and its instance released, and all 10 ran together
      expect(f.violations).toEqual([]);
      expect(f.ok).toBe(true);
      expect(f.peakConcurrentBuilds).toBe(10);
      // AND every job's launch, readiness look and invocations were counted
      const calls = (op: string) => f.budget.find((b) => b.operation === op)?.calls ?? 0;
      expect(calls('EC2:RunInstances')).toBeGreaterThanOrEqual(10);
      expect(calls('EC2:TerminateInstances')).toBeGreaterThanOrEqual(10);
      expect(calls('SSM:SendCommand')).toBeGreaterThanOrEqual(10);
      expect(calls('CodePipeline:PutJobSuccessResult')).toBe(10);
      expect(calls('Lambda:Invoke')).toBeGreaterThanOrEqual(10 * 5);
      expect(f.peakLambdaConcurrency).toBeGreaterThanOrEqual(1);
      expect(f.peakTpsSsmDescribe).toBeGreaterThanOrEqual(1);
      const total = f.budget.reduce((n, b) => n + b.calls, 0);
      expect(f.apiCallsPerJob).toBeCloseTo(total / 10, 1);
      // AND the table is written for the README, and the bench names its keys by the count run
      expect(JSON.parse(fs.readFileSync(budgetFile, 'utf8'))).toEqual(expect.objectContaining({ jobs: 10, ok: true, budget: f.budget }));
      const keys: string[] = [];
      putScaleKeys((key) => keys.push(key), f);
      expect(keys).toEqual(['concurrent_10_ok', 'peak_tps_ec2_describe_10', 'peak_tps_ssm_describe_10', 'peak_lambda_concurrency_10', 'api_calls_per_job']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
