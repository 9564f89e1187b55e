import { CodePipelineClient, InvalidJobStateException, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { MissingConfigError } from '../../lambdas/shared/config';
import { instanceMinutes, measureCapacity, measureJobResult, measureLine, startLatencyMs } from '../../lambdas/shared/job-metrics';
import { METRICS_STACK_VARIABLE } from '../../lambdas/shared/metric-names';
import { createMetrics } from '../../lambdas/shared/metrics';
import type { CompletionInput, ExecutionState, JobFleet, LaunchedInstance } from '../../lambdas/shared/types';
import { buildJob, JOB_ID } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';
import { printed } from '../fixtures/metric-lines';

// Metric lines on for this file (test/setup/quiet-logs.ts turns them off): Powertools reads the setting when a
// function starts, and a breakdown's instance starts at its first value.
const disabledBefore = process.env.POWERTOOLS_METRICS_DISABLED;
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = disabledBefore;
});

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:Build:job';
const ok = { commandId: 'c1', status: 'Success', exitCode: 0, outputTail: 'done', errorTail: '' };
const instance: LaunchedInstance = { instanceId: 'i-0abc', instanceType: 't3.medium', subnetId: null, launchedAt: '2026-11-22T10:00:20Z', capacitySource: 'launched', market: 'on-demand' };
// The fixture's job was polled at 10:00:00 (renewBy 10:45:00, renewalSeconds 2700).
const input = (state: Partial<ExecutionState>): CompletionInput => ({
  state: { jobId: JOB_ID, pipeline: { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2' }, nonce: 'n', job: buildJob({ output: null }), rejection: null, ...state },
  executionArn: ARN,
  executionStartTime: '2026-11-22T10:00:01Z',
});
const fleet = { name: 'linux' } as JobFleet;

describe('what the functions measure', () => {
  it('times the start from the job\'s poll to the instance ready, and not for a job never ready or rerun on on-demand', () => {
    expect(startLatencyMs(input({ ready: { readyAt: '2026-11-22T10:00:42.500Z', buildWaitSeconds: 60 } }))).toBe(42_500);
    expect(startLatencyMs(input({}))).toBeNull();
    expect(startLatencyMs(input({ ready: { readyAt: '2026-11-22T10:00:42Z', buildWaitSeconds: 60 }, rerun: { interruptedInstanceId: 'i-1' } }))).toBeNull();
  });

  it('emits each phase the job got to as a duration, and none for a phase it never reached', async () => {
    const m = createMetrics('completion', { [METRICS_STACK_VARIABLE]: 'Builds' });
    const phases = { queuedMs: 5000, readyMs: 40000, stagingInMs: 3000, buildMs: 70000, stagingOutMs: null, releaseMs: null };
    const lines = await printed(() => {
      measureJobResult(m, input({ instance, build: ok }), { status: 'Failed', failureType: 'JobFailed', message: 'm' }, phases);
      m.publish();
    });
    const total = lines.find((l) => l._aws.CloudWatchMetrics[0].Dimensions[0].length === 1)!;
    expect([total.PhaseQueued, total.PhaseInstanceReady, total.PhaseStagingIn, total.PhaseBuild]).toEqual([5000, 40000, 3000, 70000]);
    expect(total).not.toHaveProperty('PhaseStagingOut');
    expect(total).not.toHaveProperty('PhaseRelease');
    expect(total._aws.CloudWatchMetrics[0].Metrics).toEqual(expect.arrayContaining([{ Name: 'PhaseBuild', Unit: 'Milliseconds' }]));
  });

  it('counts a succeeded job, a failed one by its failure type, and a wait in line past its bound by fleet', async () => {
    const m = createMetrics('completion', { [METRICS_STACK_VARIABLE]: 'Builds' });
    const lines = await printed(() => {
      measureJobResult(m, input({ instance, ready: { readyAt: '2026-11-22T10:00:30Z', buildWaitSeconds: 60 }, build: ok }), { status: 'Succeeded', summary: 'Built' });
      measureJobResult(m, input({ job: buildJob({ fleet: { ...fleet } }), errors: { takeFleetSlot: { Error: 'LineWaitExceeded', Cause: '{}' } } }), { status: 'Failed', failureType: 'SystemUnavailable', message: 'm' });
      m.publish();
    });
    const byDimensions = Object.fromEntries(lines.map((l) => [JSON.stringify(l._aws.CloudWatchMetrics[0].Dimensions), l]));
    expect(Object.keys(byDimensions).sort()).toEqual(['[["Stack","FailureType"]]', '[["Stack","Fleet"]]', '[["Stack"]]']);
    expect(byDimensions['[["Stack"]]']).toMatchObject({ Stack: 'Builds', JobsSucceeded: [1, 0], JobsFailed: [0, 1], StartLatency: 30_000, LineWaitExceeded: 1 });
    expect(byDimensions['[["Stack","FailureType"]]']).toMatchObject({ Stack: 'Builds', FailureType: 'SystemUnavailable', JobsFailed: 1 });
    expect(byDimensions['[["Stack","Fleet"]]']).toMatchObject({ Stack: 'Builds', Fleet: 'linux', LineWaitExceeded: 1 });
    // No service or job dimension: the stack's metrics are read by stack.
    for (const l of lines) expect(l).not.toHaveProperty('service');
    // Cleared by the flush: a second one prints nothing.
    expect(await printed(() => m.publish())).toEqual([]);
  });

  it('counts a pool hit or a cold launch, and the jobs in a fleet\'s line', async () => {
    const m = createMetrics('launcher', { [METRICS_STACK_VARIABLE]: 'Builds' });
    const lines = await printed(() => {
      measureCapacity(m, buildJob({ fleet }), { ...instance, capacitySource: 'hot-pool' });
      measureCapacity(m, buildJob(), instance);
      measureLine(m, 'linux', { granted: false, position: 3 });
      measureLine(m, 'linux', { granted: true, position: 0 });
      m.publish();
    });
    expect(lines[0]).toMatchObject({ PoolHits: 1, ColdLaunches: 1, JobsWaiting: [3, 0] });
    expect(lines[1]).toMatchObject({ Fleet: 'linux', PoolHits: 1, JobsWaiting: [3, 0] });
    expect(lines[1]).not.toHaveProperty('ColdLaunches');
  });

  it('sums the minutes from launch to termination of the instances the sweeper terminated', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const listed = [
      { instanceId: 'i-1', launchTime: new Date('2026-11-22T11:30:00Z') },
      { instanceId: 'i-2', launchTime: new Date('2026-11-22T10:00:00Z') },
      { instanceId: 'i-3', launchTime: new Date('2026-11-22T11:00:00Z') },
    ];
    expect(instanceMinutes([{ instanceId: 'i-1' }, { instanceId: 'i-2' }], listed, now)).toBe(150);
    expect(instanceMinutes([], listed, now)).toBe(0);
  });

  it('refuses to start without the stack\'s name, naming the variable', () => {
    expect(() => createMetrics('x', {})).toThrow(MissingConfigError);
    expect(() => createMetrics('x', {})).toThrow(METRICS_STACK_VARIABLE);
  });
});

describe('the completion function\'s metrics', () => {
  const cp = mockClient(CodePipelineClient);
  afterEach(() => cp.reset());
  // Loaded here, with metric lines on.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/completion/handler') as typeof import('../../lambdas/completion/handler');

  it('counts the job it reported, once: a retried call that finds the result standing counts nothing', async () => {
    cp.on(PutJobSuccessResultCommand).resolves({});
    const first = await printed(() => invoke(handler, input({ instance, build: ok })));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ JobsSucceeded: 1, JobsFailed: 0 });
    cp.on(PutJobFailureResultCommand).rejects(new InvalidJobStateException({ message: 'already', $metadata: {} }));
    expect(await printed(() => invoke(handler, input({ instance, build: { ...ok, status: 'Failed', exitCode: 1 } })))).toEqual([]);
  });
});
