import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFleets, type FleetProps } from '../../lambdas/shared/fleets';
import { FAULTS } from '../../local/faults';
import { drawFaults, runSoak, seededRandom } from '../../local/soak';
import { drawTargets, fitsFleets, isWindowsFleet, KeyedLock } from '../../local/soak-fleets';

/** The soak on fleets (`npm run soak -- --fleets FILE`): where jobs run, which faults go there, and a small soak. */
const EXAMPLE = parseFleets(JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/fleets.json'), 'utf8')), 'examples/fleets.json');

describe('soak on fleets: the draw', () => {
  it('tells Windows fleets (whose image parameter resolves to a Windows image) from Linux ones', () => {
    expect(Object.keys(EXAMPLE).filter((n) => isWindowsFleet(EXAMPLE[n]))).toEqual(['windows']);
    const byId = parseFleets({ w: { ...(EXAMPLE.windows as FleetProps), imageId: 'ami-0d1e2f3a4b5c6d7e8' } }, 'x');
    expect(isWindowsFleet(byId.w)).toBe(true);
  });

  it('sends to fleets only the faults whose outcome a pool member does not change', () => {
    const fits = FAULTS.filter(fitsFleets).map((f) => f.name);
    // A pool member is already running with its agent online; a fleet picks the image and type; a Spot fleet reruns a lost build.
    for (const name of ['capacity-exhausted', 'never-running', 'agent-never-registers', 'capacity-fallback-type', 'terminated-mid-build', 'pool-empty']) expect(fits).not.toContain(name);
    for (const name of ['command-fails', 'release-fails-always', 'execution-aborted', 'input-missing', 'duplicate-events']) expect(fits).toContain(name);
  });

  it('draws fleet faults only with fleets, the 50-job race rarely, and the same targets for the same seed', () => {
    expect(drawFaults(500, 1, 0.3).some((f) => f?.fleets)).toBe(false);
    const withFleets = drawFaults(2000, 1, 0.3, true);
    const count = (name: string) => withFleets.filter((f) => f?.name === name).length;
    expect(count('pool-empty')).toBeGreaterThan(0);
    expect(count('pool-claim-race')).toBeLessThan(count('pool-empty') / 2);
    expect(withFleets.some((f) => f?.jobs)).toBe(false);
    const targets = (seed: number) => drawTargets(withFleets, ['linux-office', 'arm-spot'], seededRandom(seed));
    expect(targets(2)).toEqual(targets(2));
    const t = targets(2);
    withFleets.forEach((f, i) => {
      if (f && !fitsFleets(f)) expect(t[i]).toBeNull();
    });
    expect(new Set(t)).toEqual(new Set([null, 'linux-office', 'arm-spot']));
  });

  it('runs one task at a time per key, and keys apart at once', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
    };
    await Promise.all([lock.run('a', task('a1', 30)), lock.run('a', task('a2', 1)), lock.run('b', task('b1', 1))]);
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1-')).toBeLessThan(log.indexOf('a1-'));
    await expect(lock.run('a', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(lock.run('a', async () => 1)).resolves.toBe(1);
  });
});

describe('soak on fleets: a small run', () => {
  it('keeps every promise over 24 jobs on examples/fleets.json\'s Linux fleets, cold, and three fleet faults', async () => {
    // GIVEN seed 19, which draws at least three fleet faults among 24 jobs
    const drawn = drawFaults(24, 19, 0.3, true).filter((f) => f?.fleets).map((f) => f!.name);
    expect(drawn.length).toBeGreaterThanOrEqual(3);
    // WHEN
    // The fleets without their schedules: linux-office's office hours (a hot pool of 4 from 08:00 in Berlin) would
    // otherwise decide, by the hour the tests run at, whether its jobs ever reach its stopped pool.
    const unscheduled = Object.fromEntries(Object.entries(EXAMPLE).map(([name, f]) => [name, { ...f, schedules: [] }]));
    const report = await runSoak({ jobs: 24, seed: 19, concurrency: 8, cleanShare: 0.3, fleets: unscheduled });
    // THEN nothing is lost and no instance built twice
    expect(report.violations).toEqual([]);
    expect(report.withoutExactlyOneResult).toBe(0);
    expect(report.instancesLeftRunning).toBe(0);
    expect(report.executionsLeftRunning).toBe(0);
    // AND jobs ran on the Linux fleets and cold, the Windows fleet's pools were only kept
    expect(Object.keys(report.byTarget)).toEqual(expect.arrayContaining(['linux-office', 'arm-spot', 'cold']));
    expect(report.fleetsNotBuiltOn).toEqual(['windows']);
    expect(report.byCapacitySource['stopped-pool'] ?? 0).toBeGreaterThan(0);
    expect(Object.keys(report.byFault)).toEqual(expect.arrayContaining([...new Set(drawn)]));
  }, 600_000);
});
