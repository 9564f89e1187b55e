import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runFault } from '../../local/fault-run';
import { faultNamed } from '../../local/faults';
import { expectFaultKept } from './fleet-fault-checks';

/** queue-timeout shortens every job's renewal interval (so the line gives up within seconds): a cloud of its own. */
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
  // WHEN a 12-second build holds the fleet's only slot and another job waits in line (bounded by 4 s here)
  const run = await runFault(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
  // THEN
  expect(run.summaries).toHaveLength(2);
  expectFaultKept(run, fault);
  expect(run.summaries[0]).toMatchObject({ status: 'Succeeded', instancesLaunched: 1 });
  expect(cloud.functionErrors).toEqual([]);
}, 180_000);
