import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAULT_TABLE } from '../../local/fault-table';
import { LocalCloud } from '../../local/cloud';
import { FAULTS, sweptAsExpected } from '../../local/faults';
import { runJob } from '../../local/job';
import { FLEET_STATEMENTS } from './fleet-statements';
import { CACHE_STATEMENTS, ENVIRONMENT_STATEMENTS } from './environment-statements';
import { HOLD_STATEMENTS } from './hold-statements';

/**
 * Statements only a build that outlives its job needs: test/local/job-renewal.test.ts checks them
 * (FailOrphanContinuationJob, for a continuation job whose build is gone, and ResumeOwnTask, for a build
 * that finished during a renewal: races no run reaches, simulated in test/cdk/iam-simulation.test.ts).
 */
export const RENEWAL_STATEMENTS = /^(TasksRenewRole\w+ |TasksWaitForBuildRole\w+ |PollerFunctionRole\w+ \w+\/(FindRenewingBuild|HandOverContinuationJob|FailOrphanContinuationJob)$)/;

/** The launcher's read of the stock image aliases' parameters: no fault uses an alias (test/local/image-aliases.test.ts checks it). */
const ALIAS_STATEMENTS = /^TasksLaunchRole\w+ \w+\/ReadStockImageParameters$/;

const HELLO = path.join(__dirname, '../../examples/hello');
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start();
});
afterAll(async () => {
  await cloud.stop();
});

describe('injected faults: every job ends with exactly one result and every instance released', () => {
  // Faults that shorten every job's timeout run in a cloud of their own: test/local/job-renewal.test.ts; fleet faults
  // in one started with their fleets: test/local/fleet-faults.test.ts and fleet-queue-fault.test.ts; a fault that runs
  // its own jobs (a scenario: account-busy) in its own test, test/local/account-busy-fault.test.ts. They run a few at a
  // time (jest's maxConcurrency), as the soak runs them: each job's fault is its own, and most of a job is waiting.
  it.concurrent.each(FAULTS.filter((f) => !f.jobs && !f.fleets && !f.scenario).map((f) => [f.name, f] as const))('%s', async (_name, fault) => {
    // WHEN
    const summary = await runJob(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
    // THEN the promises hold
    expect(summary.jobResults).toBe(1);
    expect(summary.instancesReleased).toBe(summary.instancesLaunched);
    expect([summary.instancesSwept, sweptAsExpected(summary.instancesSwept, fault.expect.swept)]).toEqual([summary.instancesSwept, true]);
    // AND the user is told what happened
    expect(summary.status).toBe(fault.expect.status);
    if (fault.expect.failureType) expect(summary.failureType).toBe(fault.expect.failureType);
    if (fault.expect.message) expect(summary.failureMessage).toMatch(fault.expect.message);
    if (fault.expect.summary) expect(summary.successSummary).toMatch(fault.expect.summary);
  });

  it('every fault is in the fault table (docs/faults.md, npm run fault-table)', () => {
    const table = fs.readFileSync(FAULT_TABLE, 'utf8');
    for (const f of FAULTS) expect(table).toContain(`| \`${f.name}\` |`);
  });

  it('every fault says what happens, for the fault table', () => {
    for (const f of FAULTS) {
      expect(f.description.length).toBeGreaterThan(10);
      expect(f.handling.length).toBeGreaterThan(10);
    }
    expect(new Set(FAULTS.map((f) => f.name)).size).toBe(FAULTS.length);
  });

  it('every statement of every role allowed a request these runs made: none is there for nothing', () => {
    // With IAM enforced, a statement that allowed a call the run needed is one whose removal fails a fault's run.
    const unused = cloud.authorizer.allStatements().filter((s) => !cloud.authorizer.usedStatements.has(s) && !RENEWAL_STATEMENTS.test(s) && !FLEET_STATEMENTS.test(s) && !ALIAS_STATEMENTS.test(s) && !ENVIRONMENT_STATEMENTS.test(s) && !CACHE_STATEMENTS.test(s) && !HOLD_STATEMENTS.test(s) && !s.startsWith('LocalUser '));
    expect(unused).toEqual([]);
  });
});

