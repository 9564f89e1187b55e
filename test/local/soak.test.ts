import { faultNamed } from '../../local/faults';
import type { JobSummary } from '../../local/job';
import { drawFaults, functionErrorViolations, runSoak, violationsOf } from '../../local/soak';

const ok: JobSummary = {
  status: 'Succeeded',
  jobId: 'job-1',
  failureType: null,
  failureMessage: null,
  successSummary: 'Built in 1s',
  outputVariables: {},
  jobResults: 1,
  continuations: 0,
  instancesLaunched: 1,
  instancesReleased: 1,
  stateTransitions: 12,
  outputArtifact: null,
  outputArtifacts: [],
  durationMs: 1,
  executionStatus: 'SUCCEEDED',
  instancesSwept: 0,
  fault: null,
  stateRetries: 0,
  capacitySource: 'launched',
  market: 'on-demand',
  startLatencyMs: 900,
  phases: { queuedMs: 100, readyMs: 800, stagingInMs: 50, buildMs: 1000, stagingOutMs: 60, releaseMs: 40 },
  logUrl: null,
  cache: 'none',
  timeline: { startedEvent: 0, commands: [], instances: [], result: 1 },
};

describe('soak', () => {
  it('draws the same faults for the same seed, and others for another', () => {
    const names = (seed: number) => drawFaults(200, seed, 0.3).map((f) => f?.name ?? 'none');
    expect(names(42)).toEqual(names(42));
    expect(names(42)).not.toEqual(names(43));
    expect(new Set(names(42)).size).toBeGreaterThan(15);
  });

  it('flags every broken promise', () => {
    const fails = faultNamed('command-fails')!;
    expect(violationsOf(ok, null)).toEqual([]);
    expect(violationsOf({ ...ok, jobResults: 2 }, null)).toEqual(['job-1 (no fault): 2 job results']);
    expect(violationsOf({ ...ok, jobResults: 0 }, null)[0]).toContain('0 job results');
    expect(violationsOf({ ...ok, instancesReleased: 0 }, null)).toEqual(['job-1 (no fault): 1 launched, 0 released']);
    expect(violationsOf({ ...ok, instancesSwept: 1 }, null)).toEqual(['job-1 (no fault): 1 instances terminated by the sweeper, expected 0']);
    const releaseFails = faultNamed('release-fails-always')!;
    const noted = { ...ok, successSummary: releaseFails.expect.summary ? 'Built. Note: instance i-1 could not be terminated (UnauthorizedOperation); the stack\'s sweeper will terminate it.' : '' };
    expect(violationsOf({ ...noted, instancesSwept: 1 }, releaseFails)).toEqual([]);
    expect(violationsOf({ ...noted, instancesSwept: 0 }, releaseFails)[0]).toContain('0 instances terminated by the sweeper, expected 1');
    expect(violationsOf(ok, fails)[0]).toContain('Succeeded, expected Failed');
    expect(violationsOf({ ...ok, status: 'Failed', failureType: 'SystemUnavailable', failureMessage: 'x' }, fails)[0]).toContain('failure type SystemUnavailable, expected JobFailed');
    expect(violationsOf({ ...ok, status: 'Failed', failureType: 'JobFailed', failureMessage: 'it broke' }, fails)[0]).toContain('does not match');
  });

  it('flags a scheduled or event-driven function that failed every attempt', () => {
    const sweeperCrash = { functionName: 'Ec2BuildAction-SafetyNetsSweeperD9B881FE', source: 'Ec2BuildAction-SafetyNetsSweepA5680C06', errorType: 'TypeError', errorMessage: 'now.getTime is not a function', trace: [] };
    expect(functionErrorViolations([])).toEqual([]);
    expect(functionErrorViolations([sweeperCrash])).toEqual(['Ec2BuildAction-SafetyNetsSweeperD9B881FE (rule Ec2BuildAction-SafetyNetsSweepA5680C06) failed every attempt: TypeError: now.getTime is not a function']);
  });

  it('keeps every promise over 100 concurrent jobs with random faults', async () => {
    // WHEN 100 jobs run at once, 70% of them under a fault drawn with seed 7
    const report = await runSoak({ jobs: 100, seed: 7, concurrency: 100, cleanShare: 0.3 });
    // THEN nothing is lost
    expect(report.violations).toEqual([]);
    expect(report.withoutExactlyOneResult).toBe(0);
    expect(report.instancesLeftRunning).toBe(0);
    expect(report.executionsLeftRunning).toBe(0);
    expect(report.succeeded + report.failed).toBe(100);
    // AND the draw really mixed faults in
    expect(Object.keys(report.byFault).length).toBeGreaterThan(15);
    expect(report.failed).toBeGreaterThan(20);
  }, 600_000);
});
