import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runFault } from '../../local/fault-run';
import { faultNamed } from '../../local/faults';
import { expectFaultKept } from './fleet-fault-checks';

/** queue-timeout shortens every job's renewal interval and the line's minutes (so it gives up within seconds): a cloud of its own. */
const HELLO = path.join(__dirname, '../../examples/hello');
const fault = faultNamed('queue-timeout')!;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets: fault.fleets, jobs: fault.jobs });
}, 300_000);
afterAll(async () => {
  await cloud?.stop();
});

it('queue-timeout: the waiting job fails as SystemUnavailable naming the fleet and maxQueueMinutes, nothing launched for it; the build holding the slot succeeds', async () => {
  // WHEN a 12-second build holds the fleet's only slot and another job waits in line (bounded by 8 s here)
  const run = await runFault(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
  // THEN
  expect(run.summaries).toHaveLength(2);
  expectFaultKept(run, fault);
  expect(run.summaries[0]).toMatchObject({ status: 'Succeeded', instancesLaunched: 1 });
  // While it waited, the action's summary gave its place (after the first round of 3 s, then at each 3 s refresh
  // while the 8 s bound lasts: once or twice, as the handovers take), and the result came on the latest continuation job.
  const waiting = run.summaries[1];
  const shown = cloud.codepipeline.progressSummaries(waiting.jobId);
  expect(shown.length).toBeGreaterThanOrEqual(1);
  expect(waiting.continuations).toBe(shown.length);
  for (const line of shown) expect(line).toMatch(/^Waiting for a build slot of fleet "fault-queue": 1st in line; all 1 \(maxConcurrent\) are in use\. Waited \d+s so far; gives up after 1 min \(maxQueueMinutes\)\.$/);
  expect(waiting.jobResults).toBe(1);
  expect(cloud.functionErrors).toEqual([]);
  // The renew function read the waiting job's place in line, and took its entry out when it gave up.
  const place = cloud.authorizer.allStatements().filter((st) => /^TasksRenewRole\w+ \w+\/ReadPlaceInLine$/.test(st));
  expect(place).toHaveLength(1);
  expect(cloud.authorizer.usedStatements.has(place[0])).toBe(true);
}, 180_000);
