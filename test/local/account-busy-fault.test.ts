import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runFault } from '../../local/fault-run';
import { faultNamed } from '../../local/faults';
import { accountBusyFigures, BUSY_BUILDS, BUSY_SHARE, graceful } from '../../local/faults-scale';
import { runJob } from '../../local/job';
import { expectFaultKept } from './fleet-fault-checks';

/**
 * account-busy (#16): builds start while another client of the account uses most of EC2's DescribeInstances budget.
 * Its scenario runs the same builds in a quiet account first, then in the busy one, in the same cloud.
 */
const HELLO = path.join(__dirname, '../../examples/hello');
const fault = faultNamed('account-busy')!;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start();
  // Warm, as a deployed stack's functions are (as many at once as the fault runs): the quiet builds' dispatch is then
  // not their functions' cold starts.
  await Promise.all(Array.from({ length: BUSY_BUILDS }, () => runJob(cloud, { source: HELLO, command: 'bash build.sh' })));
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

it('account-busy: every build succeeds with one result and its instance released, dispatched within the graceful bound, while the other client takes its share', async () => {
  // WHEN builds start while the other client spends most of DescribeInstances' budget
  const run = await runFault(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
  // THEN the promises hold for all of them (quiet and busy), and the fault's own checks passed
  expect(run.summaries).toHaveLength(2 * BUSY_BUILDS);
  expectFaultKept(run, fault);
  expect(cloud.functionErrors).toEqual([]);
  // AND the account was busy: the stack's functions had at most their 15% of DescribeInstances' refill (3 a real second)
  const figures = accountBusyFigures[accountBusyFigures.length - 1];
  expect(figures.otherClientShare).toBeGreaterThanOrEqual(BUSY_SHARE);
  expect(figures.ownTokensPerSecond).toBeLessThanOrEqual((1 - BUSY_SHARE) * 20 + 0.01);
  // AND the builds slowed down gracefully
  expect(graceful(figures.quietDispatchSeconds, figures.busyDispatchSeconds)).toBe(true);
  process.stderr.write(`account-busy figures: ${JSON.stringify(figures)}\n`);
}, 240_000);
