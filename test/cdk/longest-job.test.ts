import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambdas/shared/env';
import { MAX_TIMEOUT_MINUTES } from '../../lambdas/shared/properties';
import { CHECK_TIMEOUT_SECONDS } from '../../lib/build-functions';
import { DEFINITION_FILE } from '../../lib/build-workflow';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { longestExecutionSeconds, longestJobMinutes, longestJobPhases, readDefinition, TIMEOUT_PATHS, type StateMachineDefinition } from '../../lib/longest-job';
import { WAIT_MARGIN_SECONDS } from '../../lambdas/poller/job';
import { MAX_INSTANCE_MINUTES } from '../../lib/safety-nets';

type Definition = { States: Record<string, { TimeoutSeconds?: number; TimeoutSecondsPath?: string; Retry?: { ErrorEquals: string[]; MaxAttempts: number; IntervalSeconds: number }[] }> };
const limits = { watchSeconds: CHECK_TIMEOUT_SECONDS, timeoutPaths: TIMEOUT_PATHS };
const asl = (): Definition => structuredClone(readDefinition(DEFINITION_FILE)) as unknown as Definition;

/** The job's phases after launch, read plainly off the ASL: what the sweeper must never cut. */
function plainSum(d: Definition): number {
  const ready = d.States['Is Instance Ready?'];
  const registration = ready.Retry!.find((r) => r.ErrorEquals.includes('ReadinessRegistrationFailed'))!;
  return (
    ready.TimeoutSeconds! + registration.MaxAttempts * (CHECK_TIMEOUT_SECONDS + registration.IntervalSeconds) + // readiness budget
    MAX_TIMEOUT_MINUTES * 60 + // the longest build
    d.States['Get Output Upload URL'].TimeoutSeconds! +
    d.States['Upload Output Artifact'].TimeoutSeconds! +
    d.States['Release Instance'].TimeoutSeconds!
  );
}

describe("the sweeper's age limit", () => {
  it('covers readiness, the longest build, the output URL, the upload and the release', () => {
    expect(MAX_INSTANCE_MINUTES * 60).toBeGreaterThanOrEqual(plainSum(asl()));
  });

  it('follows a longer upload timeout in the ASL', () => {
    const longer = asl();
    longer.States['Upload Output Artifact'].TimeoutSeconds! += 4 * 3600;
    const minutes = longestJobMinutes(longer as unknown as StateMachineDefinition, limits);
    expect(minutes * 60).toBeGreaterThanOrEqual(plainSum(longer));
    expect(minutes - MAX_INSTANCE_MINUTES).toBeGreaterThanOrEqual(4 * 60);
  });

  it('follows a longer readiness wait, more registration retries and a build timeout taken from the job', () => {
    const changed = asl();
    changed.States['Is Instance Ready?'].TimeoutSeconds! += 3600;
    changed.States['Is Instance Ready?'].Retry!.find((r) => r.ErrorEquals.includes('ReadinessRegistrationFailed'))!.MaxAttempts += 100;
    delete changed.States['Run Build'].TimeoutSeconds;
    changed.States['Run Build'].TimeoutSecondsPath = '$.job.waitTimeoutSeconds';
    const minutes = longestJobMinutes(changed as unknown as StateMachineDefinition, limits);
    expect(minutes * 60).toBeGreaterThanOrEqual(plainSum(changed));
  });

  it('bounds the wait for a build that renews its job by the build\'s own wait and one late renewal, not by the sum of its rounds', () => {
    const d = asl();
    const phases = longestJobPhases(d as unknown as StateMachineDefinition, limits);
    const longestWait = MAX_TIMEOUT_MINUTES * 60 + WAIT_MARGIN_SECONDS;
    // A renewal started just before the deadline still waits for its continuation job.
    expect(phases.build).toBeGreaterThanOrEqual(longestWait + d.States['Renew Job'].TimeoutSeconds!);
    // 45-minute rounds over a 24-hour build would add up to far more than the build's own bound.
    expect(phases.build).toBeLessThan(longestWait + 2 * 3600);
    // ...and it follows the ASL: a longer wait for the continuation job raises it.
    d.States['Renew Job'].TimeoutSeconds! += 3600;
    expect(longestJobPhases(d as unknown as StateMachineDefinition, limits).build - phases.build).toBeGreaterThanOrEqual(3600);
  });

  it("is within the execution's own TimeoutSeconds, which covers its longest path (acknowledge and launch to report)", () => {
    const d = readDefinition(DEFINITION_FILE);
    expect(d.TimeoutSeconds).toBeGreaterThanOrEqual(longestExecutionSeconds(d, limits));
    expect(d.TimeoutSeconds).toBeGreaterThanOrEqual(MAX_INSTANCE_MINUTES * 60);
  });

  it('refuses a task whose timeout it cannot bound, naming the state', () => {
    const unbounded = asl();
    delete unbounded.States['Upload Output Artifact'].TimeoutSeconds;
    expect(() => longestJobMinutes(unbounded as unknown as StateMachineDefinition, limits)).toThrow(/"Upload Output Artifact" has no TimeoutSeconds/);
    unbounded.States['Upload Output Artifact'].TimeoutSecondsPath = '$.job.somethingElse';
    expect(() => longestJobMinutes(unbounded as unknown as StateMachineDefinition, limits)).toThrow(/TimeoutSecondsPath \$\.job\.somethingElse/);
  });

  it('is what the deployed sweeper is told', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Ec2BuildActionStack(app, 'Ec2BuildAction', {});
    const sweeper = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((f) => f.Properties.Environment?.Variables?.[ENV.maxJobMinutes]);
    expect(Number(sweeper?.Properties.Environment.Variables[ENV.maxJobMinutes]) * 60).toBeGreaterThanOrEqual(plainSum(asl()));
  });
});
