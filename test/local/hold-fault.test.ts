import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runFault } from '../../local/fault-run';
import { faultNamed } from '../../local/faults';
import { HOLD_STATEMENTS } from './hold-statements';
import { expectFaultKept } from './fleet-fault-checks';

/**
 * hold-on-failure (#14 point 5): a failed build keeps its instance for its hold, with its failure reported when the
 * hold begins (one result); a sweep during the hold keeps it; when the hold runs out the execution releases it.
 */
const HELLO = path.join(__dirname, '../../examples/hello');
const fault = faultNamed('hold-on-failure')!;
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start();
});
afterAll(async () => {
  await cloud?.stop();
});

it('hold-on-failure: one result at the hold\'s start, the instance kept (a sweep too keeps it), then released by the execution', async () => {
  const run = await runFault(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
  expectFaultKept(run, fault);
  // The hold's own statements were what allowed it (the state machine's tag, the sweeper's question of the pipeline).
  const used = [...cloud.authorizer.usedStatements].filter((s) => HOLD_STATEMENTS.test(s));
  expect(used.length).toBeGreaterThan(0);
  expect(cloud.functionErrors).toEqual([]);
});
