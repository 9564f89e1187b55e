import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runFault } from '../../local/fault-run';
import { FAULTS } from '../../local/faults';
import { cloudKey } from '../../local/faults-fleet';
import { FLEET_LINE_STATEMENTS, FLEET_SAFETY_NET_STATEMENTS, FLEET_STATEMENTS, FLEET_TAKE_OVER_STATEMENT } from './fleet-statements';
import { expectFaultKept } from './fleet-fault-checks';

/**
 * The fleet faults that share one local cloud (their fleets, no shortened renewals): one cloud for all of them,
 * started with their fleets. queue-timeout, which also shortens renewals, has test/local/fleet-queue-fault.test.ts.
 */
const HELLO = path.join(__dirname, '../../examples/hello');
const shared = FAULTS.filter((f) => f.fleets && !f.jobs);
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets: shared[0].fleets });
}, 300_000);
afterAll(async () => {
  await cloud?.stop();
});

describe('fleet faults: one result per job, instances released = launched, no instance built twice', () => {
  it('they share one cloud: the same fleets, no shortened renewals', () => {
    expect(shared.map((f) => f.name)).toEqual(expect.arrayContaining(['pool-empty', 'pool-claim-race', 'pool-instance-dead', 'fleet-image-changed']));
    expect(new Set(shared.map(cloudKey)).size).toBe(1);
  });

  it.each(shared.map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    // WHEN the fault's scenario runs on its fleet
    const run = await runFault(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
    // THEN
    expect(run.summaries).toHaveLength(fault.jobCount ?? 1);
    expectFaultKept(run, fault);
    expect(cloud.functionErrors).toEqual([]);
  }, 180_000);

  it('used every statement of the fleets\' launcher, slot and refill rights: none is there for nothing', () => {
    const unused = cloud.authorizer.allStatements().filter((s) => FLEET_STATEMENTS.test(s) && !FLEET_SAFETY_NET_STATEMENTS.test(s) && !FLEET_LINE_STATEMENTS.test(s) && !FLEET_TAKE_OVER_STATEMENT.test(s) && !cloud.authorizer.usedStatements.has(s));
    expect(unused).toEqual([]);
  });
});
