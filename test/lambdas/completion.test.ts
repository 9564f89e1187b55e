import { CodePipelineClient, InvalidJobStateException, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { decideOutcome, fitFailureMessage } from '../../lambdas/completion/outcome';
import { jobPhases } from '../../lambdas/shared/phases';
import type { CommandResult, CompletionInput, ExecutionState } from '../../lambdas/shared/types';
import { buildJob, JOB_ID } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/completion/handler') as typeof import('../../lambdas/completion/handler');

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:Build:job';
const instance = { instanceId: 'i-0abc', instanceType: 'c7i.large', subnetId: null, launchedAt: '2026-01-01T00:00:00Z', capacitySource: 'launched', market: 'on-demand' } as const;
const ok: CommandResult = { commandId: 'c1', status: 'Success', exitCode: 0, outputTail: 'done', errorTail: '' };
const input = (state: Partial<ExecutionState>): CompletionInput => ({
  state: { jobId: JOB_ID, pipeline: { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2' }, nonce: 'n', job: buildJob(), rejection: null, ...state },
  executionArn: ARN,
  executionStartTime: '2026-01-01T00:00:00Z',
});
const lambdaError = (Error: string, message: string) => ({ Error, Cause: JSON.stringify({ errorType: Error, errorMessage: message }) });

describe('outcome', () => {
  it('succeeds with the duration, instance id and type', () => {
    const out = decideOutcome(input({ instance, build: ok, upload: ok }), new Date('2026-01-01T00:03:12Z'));
    expect(out).toEqual({ status: 'Succeeded', summary: 'Built in 3m12s on i-0abc (c7i.large).' });
  });

  describe('the link to the build\'s whole output', () => {
    const GROUP = '/ec2-build-action/builds';
    const url = (commandId: string) =>
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fec2-build-action$252Fbuilds$3FlogStreamNameFilter$3D${commandId}$252Fi-0abc$252F`;

    it('is in every failure message of a build that ran, right after the cause, and the message still ends with the end of the log', () => {
      const build = { ...ok, commandId: 'cmd-1', status: 'Failed', exitCode: 2, errorTail: 'make: *** Error 2' };
      const out = decideOutcome(input({ instance, build, slot: { queued: true, waitedMs: 5000 } }), new Date(), GROUP);
      expect(out.status === 'Failed' && out.message).toBe(
        `Step "Run Build" failed: the build command exited with code 2. Full log: ${url('cmd-1')} Waited 5s in fleet ""'s line.\nLast lines of its output:\nmake: *** Error 2`,
      );
    });

    it('names the upload\'s output when the upload failed, and is absent when no command ran', () => {
      const upload = { ...ok, commandId: 'cmd-up', status: 'Failed', exitCode: 1, errorTail: 'ec2-build-action-error OutputUploadFailed: refused' };
      const failedUpload = decideOutcome(input({ instance, build: { ...ok, commandId: 'cmd-1' }, upload }), new Date(), GROUP);
      expect(failedUpload.status === 'Failed' && failedUpload.message).toContain(url('cmd-up'));
      const launchFailed = decideOutcome(input({ errors: { launchInstance: lambdaError('JobConfigurationError', 'bad AMI') } }), new Date(), GROUP);
      expect(launchFailed.status === 'Failed' && launchFailed.message).not.toContain('Full log');
    });

    it('is never cut from a message past CodePipeline\'s 5000 characters: the beginning of the last lines goes', () => {
      const long = Array.from({ length: 400 }, (_, i) => `line ${i} of a very chatty build`).join('\n');
      const build = { ...ok, commandId: 'cmd-1', status: 'Failed', exitCode: 2, errorTail: `${long}\nthe very end` };
      const message = fitFailureMessage(`${(decideOutcome(input({ instance, build }), new Date(), GROUP) as { message: string }).message}`.replace('Last lines', `${'x'.repeat(1500)}\nLast lines`));
      expect(message.length).toBeLessThanOrEqual(5000);
      expect(message).toContain(url('cmd-1'));
      expect(message.endsWith('the very end')).toBe(true);
    });

    it('is in the summary of a succeeded build, before anything that may be cut', () => {
      const out = decideOutcome(input({ instance, build: { ...ok, commandId: 'cmd-1' }, upload: ok }), new Date('2026-01-01T00:03:12Z'), GROUP);
      expect(out.status === 'Succeeded' && out.summary).toBe(`Built in 3m12s on i-0abc (c7i.large). Log: ${url('cmd-1')}`);
    });
  });

  it('gives the job\'s phases in the summary, each from what the execution recorded', () => {
    // Polled at 10:00:00 (renewBy less the renewal interval), launched 10:00:05, ready 10:00:45, the build command ran
    // 10:00:46 to 10:02:00 (staging in 2 s, the build 70 s, packaging 1 s), the upload ended 10:02:04, released 10:02:05.
    const job = buildJob({ renewBy: '2026-11-22T10:45:00.000Z', renewalSeconds: 2700 });
    const state: Partial<ExecutionState> = {
      job,
      instance: { ...instance, launchedAt: '2026-11-22T10:00:05.000Z' },
      ready: { readyAt: '2026-11-22T10:00:45.000Z', buildWaitSeconds: 2700 },
      build: { ...ok, startedAt: '2026-11-22T10:00:46.000Z', endedAt: '2026-11-22T10:02:00.000Z', marks: { stagingIn: 2000, build: 70000, stagingOut: 1000 } },
      upload: { ...ok, endedAt: '2026-11-22T10:02:04.000Z' },
      release: { state: 'shutting-down', enteredAt: '2026-11-22T10:02:05.000Z' },
    };
    const reportedAt = new Date('2026-11-22T10:02:06.000Z');
    expect(jobPhases({ ...input(state), executionStartTime: '2026-11-22T10:00:01.000Z' }, reportedAt)).toEqual({ queuedMs: 5000, readyMs: 40000, stagingInMs: 3000, buildMs: 70000, stagingOutMs: 5000, releaseMs: 1000 });
    const out = decideOutcome({ ...input(state), executionStartTime: '2026-11-22T10:00:01.000Z' }, reportedAt);
    expect(out.status === 'Succeeded' && out.summary).toBe('Built in 2m05s on i-0abc (c7i.large). Phases: queued 5s, instance ready 40s, input staged 3s, build 1m10s, output staged 5s, released 1s.');
  });

  it('leaves out the phases a failed job never got to, and keeps the document\'s phase lines out of the failure message', () => {
    const build = { ...ok, status: 'Failed', exitCode: 2, errorTail: 'ec2-build-action-phase stagingIn 2000\nec2-build-action-phase build 9000\nmake: *** Error 2', marks: { stagingIn: 2000, build: 9000 } };
    const state: Partial<ExecutionState> = { instance, ready: { readyAt: '2026-01-01T00:01:00Z', buildWaitSeconds: 2700 }, build };
    expect(jobPhases(input(state), new Date('2026-01-01T00:02:00Z'))).toMatchObject({ stagingInMs: 2000, buildMs: 9000, stagingOutMs: null, releaseMs: null });
    const out = decideOutcome(input(state));
    expect(out.status === 'Failed' && out.message).toBe('Step "Run Build" failed: the build command exited with code 2.\nLast lines of its output:\nmake: *** Error 2');
  });

  it('reports a failed build as JobFailed with its exit code and last lines', () => {
    const out = decideOutcome(input({ instance, build: { ...ok, status: 'Failed', exitCode: 2, errorTail: 'make: *** [all] Error 2' } }));
    expect(out).toMatchObject({ status: 'Failed', failureType: 'JobFailed' });
    expect(out.status === 'Failed' && out.message).toBe('Step "Run Build" failed: the build command exited with code 2.\nLast lines of its output:\nmake: *** [all] Error 2');
  });

  it.each([
    ['DeliveryTimedOut', 'TimedOut'],
    ['Undeliverable', 'Failed'],
    ['Delivery Timed Out', 'TimedOut'],
  ])('reports a command whose instance or agent was lost (%s) as such, never as a build over its TimeoutMinutes', (statusDetails, status) => {
    const out = decideOutcome(input({ instance, build: { ...ok, status, statusDetails, exitCode: -1, outputTail: 'compiling' } }));
    expect(out).toMatchObject({ status: 'Failed', failureType: 'JobFailed', message: expect.stringMatching(/Run Build.*lost the instance or its SSM agent.*Spot interruption.*compiling/s) });
    expect(out.status === 'Failed' && out.message).not.toMatch(/ran longer than TimeoutMinutes/);
  });

  it('reports a build that outlived TimeoutMinutes (StatusDetails ExecutionTimedOut) as such', () => {
    const out = decideOutcome(input({ instance, build: { ...ok, status: 'TimedOut', statusDetails: 'ExecutionTimedOut', exitCode: -1 } }));
    expect(out).toMatchObject({ status: 'Failed', failureType: 'JobFailed', message: expect.stringContaining('ran longer than TimeoutMinutes (60)') });
  });

  it('reports a command Systems Manager cancelled (Terminated) as cancelled', () => {
    const out = decideOutcome(input({ instance, build: { ...ok, status: 'Cancelled', statusDetails: 'Terminated', exitCode: -1 } }));
    expect(out).toMatchObject({ status: 'Failed', message: expect.stringMatching(/cancelled before it finished \(Terminated/) });
  });

  it('keeps the message within CodePipeline\'s 5000 characters, keeping the end of the log', () => {
    const out = decideOutcome(input({ build: { ...ok, status: 'Failed', exitCode: 1, errorTail: `${'x'.repeat(9000)}THE END` } }));
    expect(out.status === 'Failed' && out.message.length).toBeLessThanOrEqual(5000);
    expect(out.status === 'Failed' && out.message).toMatch(/THE END$/);
  });

  it.each([
    ['OutputPathMissing', 'ConfigurationError'],
    ['InputArtifactMissing', 'ConfigurationError'],
    ['InputDownloadFailed', 'JobFailed'],
  ])('maps the document\'s %s marker to %s', (kind, type) => {
    const out = decideOutcome(input({ build: { ...ok, status: 'Failed', exitCode: 1, errorTail: `ec2-build-action-error ${kind}: what happened` } }));
    expect(out).toEqual({ status: 'Failed', failureType: type, message: 'Step "Run Build" failed: what happened' });
  });

  it.each([
    ['launchInstance', lambdaError('JobConfigurationError', 'ImageId bad'), 'ConfigurationError', /Launch Instance.*ImageId bad/],
    ['launchInstance', lambdaError('CapacityError', 'no capacity'), 'SystemUnavailable', /no capacity/],
    ['waitForInstance', lambdaError('AgentNotOnline', 'agent offline'), 'ConfigurationError', /SSM agent.*instance profile.*ssmmessages/],
    ['waitForInstance', lambdaError('InstanceLost', 'i-0abc is terminated'), 'JobFailed', /Spot interruption/],
    ['waitForInstance', lambdaError('InstanceNotReady', 'instance i-0abc is still pending'), 'SystemUnavailable', /Is Instance Ready.*did not reach "running" in time/],
    // Run Build's own timeout renews the job: a States.Timeout caught into runBuild is the renewal's (Renew Job waited 900 s)
    ['runBuild', { Error: 'States.Timeout', Cause: '' }, 'SystemUnavailable', /Run Build.*job renewal did not finish in time/],
    ['launchInstance', { Error: 'States.Timeout', Cause: '' }, 'SystemUnavailable', /Launch Instance.*did not finish within its time limit/],
    ['uploadOutput', { Error: 'Ssm.InvalidInstanceIdException', Cause: 'gone' }, 'SystemUnavailable', /Upload Output Artifact.*Ssm.InvalidInstanceIdException: gone/],
  ])('reports a caught %s error as the failure type that fits', (step, error, type, message) => {
    const out = decideOutcome(input({ instance, errors: { [step]: error } }));
    expect(out).toMatchObject({ status: 'Failed', failureType: type, message: expect.stringMatching(message) });
  });

  it('says when the instance could not be released, on success and failure alike', () => {
    const releaseNote = /i-0abc could not be terminated \(Ec2.Ec2Exception\); the stack's sweeper will terminate it/;
    const errors = { releaseInstance: { Error: 'Ec2.Ec2Exception', Cause: '' } };
    const good = decideOutcome(input({ instance, build: ok, upload: ok, errors }));
    expect(good.status === 'Succeeded' && good.summary).toMatch(releaseNote);
    const bad = decideOutcome(input({ instance, build: { ...ok, status: 'Failed', exitCode: 1 }, errors }));
    expect(bad.status === 'Failed' && bad.message).toMatch(releaseNote);
  });

  it('reports a job the poller rejected as a ConfigurationError with its reason', () => {
    expect(decideOutcome(input({ job: null, rejection: 'ImageId must be an AMI ID, got "x".' }))).toEqual({
      status: 'Failed',
      failureType: 'ConfigurationError',
      message: 'ImageId must be an AMI ID, got "x".',
    });
  });

  it('reports a job whose environment Store Build Environment could not resolve as a ConfigurationError with its reason', () => {
    const rejection = 'EnvironmentVariables: variable "TOKEN" names parameter /builds/token, which does not exist in this account and Region (ParameterNotFound).';
    expect(decideOutcome(input({ ack: { status: 'InProgress' }, environment: { rejection } }))).toEqual({ status: 'Failed', failureType: 'ConfigurationError', message: rejection });
    // A stored environment is no rejection: the job goes on to its build's outcome.
    expect(decideOutcome(input({ ack: { status: 'InProgress' }, environment: { rejection: null }, instance, build: ok, upload: ok }))).toMatchObject({ status: 'Succeeded' });
  });

  it('reports a job whose environment could not be stored (its task failed past its retries) as SystemUnavailable, naming the step and the cause', () => {
    const caught = { Error: 'ThrottlingException', Cause: JSON.stringify({ errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' }) };
    const outcome = decideOutcome(input({ ack: { status: 'InProgress' }, errors: { storeEnvironment: caught } }));
    expect(outcome).toMatchObject({ status: 'Failed', failureType: 'SystemUnavailable' });
    expect(outcome.status === 'Failed' && outcome.message).toMatch(/Store Build Environment.*ThrottlingException: Rate exceeded/);
  });

  it('never reports success when the declared output was not uploaded', () => {
    expect(decideOutcome(input({ instance, build: ok }))).toMatchObject({ status: 'Failed', failureType: 'SystemUnavailable', message: expect.stringContaining('never uploaded') });
  });

  it('never reports success without a build result', () => {
    expect(decideOutcome(input({ instance }))).toMatchObject({ status: 'Failed', failureType: 'SystemUnavailable' });
  });
});

describe('completion handler', () => {
  const codepipeline = mockClient(CodePipelineClient);
  afterEach(() => codepipeline.reset());

  it('reports success with the execution as external execution id', async () => {
    codepipeline.on(PutJobSuccessResultCommand).resolves({});
    await invoke(handler, input({ instance, build: ok, upload: ok }), 'completion');
    expect(codepipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      executionDetails: expect.objectContaining({ externalExecutionId: ARN, summary: expect.stringContaining('i-0abc') }),
    });
  });

  it('reports a failure with its type', async () => {
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    await invoke(handler, input({ build: { ...ok, status: 'Failed', exitCode: 3 } }), 'completion');
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { jobId: JOB_ID, failureDetails: expect.objectContaining({ type: 'JobFailed', externalExecutionId: ARN }) });
  });

  it('treats a second result for the same job as already reported (a retried call)', async () => {
    codepipeline.on(PutJobSuccessResultCommand).rejects(new InvalidJobStateException({ message: 'already', $metadata: {} }));
    await expect(invoke(handler, input({ build: ok, upload: ok }), 'completion')).resolves.toMatchObject({ reported: 'already-reported' });
  });

  it('reports a held build\'s failure when the hold begins, with how to reach the instance, and never again after it', async () => {
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    const failed = { ...ok, status: 'Failed', exitCode: 3, errorTail: 'make: *** Error 3' };
    const before = Date.now();
    const held = (await invoke(handler, { ...input({ job: buildJob({ holdMinutes: 30 }), instance, build: failed }), hold: true }, 'completion')) as { holdUntil: string };
    // Held until 30 minutes from now (test/setup leaves HOLD_MINUTE_SECONDS unset: 60 s a minute).
    expect(Date.parse(held.holdUntil) - before).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
    const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails!.message!;
    expect(message).toContain('kept for 30 minutes');
    expect(message).toContain('aws ssm start-session --target i-0abc --region eu-west-1');
    expect(message).toContain('https://eu-west-1.console.aws.amazon.com/systems-manager/session-manager/i-0abc?region=eu-west-1');
    // The message still ends with the end of the log.
    expect(message.endsWith('\nLast lines of its output:\nmake: *** Error 3')).toBe(true);
    // After the hold, Report Result finds it reported: no second call.
    const after = await invoke(handler, input({ job: buildJob({ holdMinutes: 30 }), instance, build: failed, held: { status: 'Failed', holdUntil: held.holdUntil } }), 'completion');
    expect(after).toMatchObject({ status: 'Failed', reported: 'reported-before-hold' });
    expect(codepipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(1);
  });

  it('fails (so the state machine retries) on any other error', async () => {
    codepipeline.on(PutJobSuccessResultCommand).rejects(new Error('network down'));
    await expect(invoke(handler, input({ build: ok, upload: ok }), 'completion')).rejects.toThrow('network down');
  });
});
