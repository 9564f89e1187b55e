import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { FAULTS } from '../../local/faults';
import { runJob } from '../../local/job';

const HELLO = path.join(__dirname, '../../examples/hello');
/** Faults that shorten every job's renewal and timeout: each gets a local cloud of its own (one per test file). Fleet faults have their own tests (fleet-queue-fault.test.ts). */
const ownCloud = FAULTS.filter((f) => f.jobs && !f.fleets);

describe('a build that outlives its CodePipeline job (job renewals), end to end', () => {
  let cloud: LocalCloud | undefined;
  afterAll(async () => {
    await cloud?.stop();
  });

  it.each(ownCloud.map((f) => [f.name, f] as const))('%s: one instance, one result on every job, the real one on the last', async (_name, fault) => {
    // GIVEN CodePipeline's job timeout at 24 s and renewals every 3 s (21 s for each renewal to reach CodePipeline: a
    // fresh-clone CI on a busy machine once missed 12 s, and twice 13 s, with 3 test workers), and a 50-second build
    cloud = await LocalCloud.start(undefined, { jobs: fault.jobs });
    const timeouts: string[] = [];
    const listener = cloud.codepipeline.onJobEnd;
    cloud.codepipeline.onJobEnd = (jobId, actionExecutionId, end) => {
      if (end.kind === 'timedOut') timeouts.push(jobId);
      listener?.(jobId, actionExecutionId, end);
    };
    // WHEN
    const summary = await runJob(cloud, { source: HELLO, command: 'bash build.sh' }, fault);
    // THEN the build succeeded (its failure message, if not, says why first), outlived several job timeouts, on one instance
    expect([summary.status, summary.failureMessage]).toEqual(['Succeeded', null]);
    expect(summary.durationMs).toBeGreaterThan(2 * fault.jobs!.timeoutMs);
    expect(summary.successSummary).toMatch(/^Built in/);
    expect(summary.instancesLaunched).toBe(1);
    expect(summary.instancesReleased).toBe(1);
    // AND every job had exactly one result: the renewed ones a success with a continuation token, the last the build's
    expect(summary.continuations).toBeGreaterThanOrEqual(fault.continuations!);
    expect(summary.jobResults).toBe(1);
    expect(timeouts).toEqual([]);
    expect(cloud.functionErrors).toEqual([]);
    // AND, with IAM enforced, the statements only renewals need each allowed a call (ResumeOwnTask only
    // when the build finished during a renewal: simulated in test/cdk/iam-simulation.test.ts)
    const renewal = cloud.authorizer.allStatements().filter((st) => /^(TasksRenewRole|TasksWaitForBuildRole|PollerFunctionRole\w+ \w+\/(FindRenewingBuild|HandOverContinuationJob)$)/.test(st) && !st.endsWith('/ResumeOwnTask') && !st.endsWith('/ReadPlaceInLine'));
    expect(renewal.length).toBeGreaterThanOrEqual(5);
    expect(renewal.filter((st) => !cloud!.authorizer.usedStatements.has(st))).toEqual([]);
  });
});
