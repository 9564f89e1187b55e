import { DELIVERY_TIMEOUT_SECONDS } from '../../lambdas/poller/job';
import aslValidator from 'asl-validator';
import { TAGS } from '../../lambdas/shared/env';
import { buildJob } from '../fixtures/job';
import { definition, execute as run, named, never, ok, raw, type Tasks } from './execute';

const execute = (overrides: Partial<Tasks>, input: Record<string, unknown> = { jobId: 'job', nonce: 'n', job: buildJob(), rejection: null }) => run(overrides, input);

describe('build-job.asl.json', () => {
  it('is valid Amazon States Language, with a comment on every state and no JSONata', () => {
    const { isValid, errors } = aslValidator(JSON.parse(raw));
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    for (const [name, state] of Object.entries(definition.States as Record<string, { Comment?: string; QueryLanguage?: string }>)) {
      expect([name, typeof state.Comment]).toEqual([name, 'string']);
      expect(state.QueryLanguage).toBeUndefined();
    }
    expect(definition.QueryLanguage).toBeUndefined();
  });

  it('waits for the build at most until the job\'s horizon ($.ready.buildWaitSeconds, from the state\'s input), then renews the job', async () => {
    // GIVEN a wait of one second before the horizon, and a build whose status never comes back
    const start = Date.now();
    const { calls } = await execute({
      'Is Instance Ready?': () => ({ readyAt: '2026-11-22T10:01:00Z', buildWaitSeconds: 1 }),
      'Run Build': never,
    });
    // THEN Run Build times out after about a second (well under the 600 s its own timeout would take, however loaded
    // the machine) and the job is renewed
    expect(Date.now() - start).toBeLessThan(30_000);
    expect(calls.slice(calls.indexOf('Run Build'), calls.indexOf('Run Build') + 2)).toEqual(['Run Build', 'Renew Job']);
  });

  it('takes Run Build\'s timeout from the readiness check (the job\'s horizon), and the poller\'s margin covers the command\'s delivery timeout', () => {
    const runBuild = definition.States['Run Build'];
    expect(runBuild.TimeoutSeconds).toBeUndefined();
    expect(runBuild.TimeoutSecondsPath).toBe('$.ready.buildWaitSeconds');
    expect(runBuild.Parameters.TimeoutSeconds).toBe(DELIVERY_TIMEOUT_SECONDS);
    expect(runBuild.Parameters.Parameters['ExecutionName.$']).toBe('States.Array($$.Execution.Name)');
  });

  it('signs the input URL again when the instance became ready after the URL\'s refresh time, and only then', async () => {
    // GIVEN a slow boot: the instance is ready at 10:07, two minutes after the first URL's refresh time
    const urls = [
      { url: 'http://in-1', expiresAt: '2026-11-22T10:30:00Z', refreshAfter: '2026-11-22T10:05:00Z', secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' },
      { url: 'http://in-2', expiresAt: '2026-11-22T10:37:00Z', refreshAfter: '2026-11-22T10:12:00Z', secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' },
    ];
    const readyAt = ['2026-11-22T10:07:00Z', '2026-11-22T10:07:01Z'];
    let signed = 0;
    let looked = 0;
    let sentUrl: unknown;
    const { calls } = await execute({
      'Get Input Artifact URL': () => ({ Payload: urls[signed++] }),
      'Is Instance Ready?': () => ({ readyAt: readyAt[looked++], buildWaitSeconds: 2700 }),
      'Run Build': (input) => ((sentUrl = (input as { Parameters: Record<string, unknown> }).Parameters.InputUrl), ok),
    });
    // THEN it is signed again, the (already ready) instance looked at once more, and the build gets the new URL
    expect(calls.slice(1, 6)).toEqual(['Launch Instance', 'Get Input Artifact URL', 'Is Instance Ready?', 'Get Input Artifact URL', 'Is Instance Ready?']);
    expect(calls[6]).toBe('Run Build');
    expect(sentUrl).toEqual(['http://in-2']);
  });

  it('uses the URL as signed when the action has no input artifact (no refresh time)', async () => {
    const { calls } = await execute({
      'Get Input Artifact URL': () => ({ Payload: { url: '', expiresAt: null, refreshAfter: null, secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' } }),
      'Is Instance Ready?': () => ({ readyAt: '2030-01-01T00:00:00Z', buildWaitSeconds: 2700 }),
    });
    expect(calls.filter((c) => c === 'Get Input Artifact URL')).toHaveLength(1);
    expect(calls).toContain('Run Build');
  });

  it('runs the happy path: launch, wait, build, upload, release, report', async () => {
    const { calls, reported } = await execute({});
    expect(calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Get Input Artifact URL', 'Is Instance Ready?', 'Run Build', 'Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ build: ok, upload: ok, instance: { instanceId: 'i-1' } });
  });

  it('keeps when Release Instance was entered for the release phase, and the job\'s phases in the execution\'s output', async () => {
    const before = Date.now();
    const phases = { queuedMs: 1, readyMs: 2, stagingInMs: 3, buildMs: 4, stagingOutMs: 5, releaseMs: 6 };
    const logUrl = 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home';
    const { reported, output } = await execute({ 'Report Result': () => ({ Payload: { status: 'reported', phases, logUrl } }) });
    const enteredAt = (reported.release as { enteredAt: string }).enteredAt;
    expect(Date.parse(enteredAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(output.result).toEqual({ status: 'reported', phases, logUrl });
  });

  it('holds the instance of a failed build whose job asks for it: reports first, tags it with the hold\'s end, waits, then releases', async () => {
    const job = buildJob({ holdMinutes: 30 });
    const { calls, inputs, reported } = await execute({ 'Run Build': () => ({ ...ok, status: 'Failed', exitCode: 2 }) }, { jobId: 'job', nonce: 'n', job, rejection: null });
    expect(calls.slice(-5)).toEqual(['Run Build', 'Report Failure And Hold', 'Hold The Instance', 'Release Instance', 'Report Result']);
    expect((inputs.find((i) => i.name === 'Report Failure And Hold')!.input.Payload as { hold: boolean }).hold).toBe(true);
    // The tag the sweeper reads, with the end the report computed.
    expect(inputs.find((i) => i.name === 'Hold The Instance')!.input).toEqual({ Resources: ['i-1'], Tags: [{ Key: TAGS.holdUntil, Value: '2020-01-01T00:00:00.000Z' }] });
    // Report Result then sees the failure reported (and reports nothing: the completion's part).
    expect(reported).toMatchObject({ held: { status: 'Failed', holdUntil: '2020-01-01T00:00:00.000Z' } });
  });

  it('holds nothing for a build that succeeded, a job without a hold, or an instance Systems Manager lost', async () => {
    const job = buildJob({ holdMinutes: 30 });
    const input = { jobId: 'job', nonce: 'n', job, rejection: null };
    expect((await execute({}, input)).calls).not.toContain('Report Failure And Hold');
    expect((await execute({ 'Run Build': () => ({ ...ok, status: 'Failed', exitCode: 2 }) })).calls).not.toContain('Report Failure And Hold');
    const lost = await execute({ 'Run Build': () => ({ ...ok, status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1 }) }, input);
    expect(lost.calls).not.toContain('Report Failure And Hold');
  });

  it('releases at once when the instance cannot be held', async () => {
    const job = buildJob({ holdMinutes: 30 });
    const { calls, reported } = await execute(
      { 'Run Build': () => ({ ...ok, status: 'Failed', exitCode: 2 }), 'Hold The Instance': () => { throw named('Ec2.UnauthorizedOperation', 'denied'); } },
      { jobId: 'job', nonce: 'n', job, rejection: null },
    );
    expect(calls.slice(-2)).toEqual(['Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ errors: { holdInstance: { Error: 'Ec2.UnauthorizedOperation' } } });
  });

  it('still releases the instance when the command fails, and skips the upload', async () => {
    const { calls, reported } = await execute({ 'Run Build': () => ({ ...ok, status: 'Failed', exitCode: 2 }) });
    expect(calls).not.toContain('Upload Output Artifact');
    expect(calls.slice(-2)).toEqual(['Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ build: { status: 'Failed', exitCode: 2 } });
  });

  it('gives up when the watcher says the agent never came online (once: it is the watcher that waited), releases and reports why', async () => {
    let checks = 0;
    const { calls, reported } = await execute({
      'Is Instance Ready?': () => {
        checks += 1;
        throw named('AgentNotOnline', 'the SSM agent on i-1 did not come online within 22 minutes');
      },
    });
    expect(checks).toBe(1);
    expect(calls.slice(-2)).toEqual(['Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ errors: { waitForInstance: { Error: 'AgentNotOnline' } } });
    expect(calls).not.toContain('Run Build');
  });

  it('registers with its task token and execution name, and retries a registration that failed (4 times) before it releases', async () => {
    let checks = 0;
    const { calls, inputs, reported } = await execute({
      'Is Instance Ready?': () => {
        checks += 1;
        throw named('ReadinessRegistrationFailed', 'could not register instance i-1 with the readiness watcher: ProvisionedThroughputExceededException');
      },
    });
    expect(checks).toBe(5);
    const payload = (inputs.find((i) => i.name === 'Is Instance Ready?')!.input as { Payload: Record<string, unknown> }).Payload;
    // capacitySource as Launch Instance gave it: a just-launched instance is not looked at (lambdas/instance-check/register.ts).
    expect(payload).toMatchObject({ instanceId: expect.any(String), capacitySource: 'launched', launchedAt: 'now', taskToken: expect.any(String), executionName: expect.any(String) });
    expect(calls.slice(-2)).toEqual(['Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ errors: { waitForInstance: { Error: 'ReadinessRegistrationFailed' } } });
  });

  it("retries a function whose invocation hit one of Lambda's transient service errors, ClientExecutionTimeoutException among them", async () => {
    // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html: invoking Lambda can fail
    // with ClientExecutionTimeoutException, ServiceException, AWSLambdaException or SdkClientException (HTTP 500).
    let attempts = 0;
    const { calls } = await execute({
      'Launch Instance': () => {
        attempts += 1;
        if (attempts === 1) throw named('Lambda.ClientExecutionTimeoutException', 'Client execution did not complete before the specified timeout configuration');
        return { Payload: { instanceId: 'i-1', instanceType: 't3.medium', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'on-demand' } };
      },
    });
    expect(attempts).toBe(2);
    expect(calls).toContain('Run Build');
  });

  it("every function a Task invokes and waits for is retried on each of Lambda's transient service errors", () => {
    const transient = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
    const states = Object.entries(definition.States as Record<string, { Type: string; Resource?: string; Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[] }[] }>);
    const lambdaTasks = states.filter(([, s]) => s.Type === 'Task' && s.Resource?.startsWith('arn:aws:states:::lambda:invoke'));
    expect(lambdaTasks.length).toBeGreaterThan(10);
    // A task without retries is best effort by design (Refill The Fleet: the schedule refills later): it catches everything.
    const unretried = lambdaTasks.filter(([, s]) => !s.Retry).map(([name, s]) => [name, s.Catch?.some((c) => c.ErrorEquals.includes('States.ALL'))]);
    expect(unretried).toEqual([['Refill The Fleet', true]]);
    const missing = lambdaTasks.filter(([, s]) => s.Retry).flatMap(([name, s]) => transient.filter((e) => !s.Retry!.some((r) => r.ErrorEquals.includes(e))).map((e) => `${name}: ${e}`));
    expect(missing).toEqual([]);
  });

  it('reports a failed launch without trying to release anything', async () => {
    const { calls, reported } = await execute({ 'Launch Instance': () => { throw named('JobConfigurationError', 'ImageId bad'); } });
    expect(calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Report Result']);
    expect(reported).toMatchObject({ errors: { launchInstance: { Error: 'JobConfigurationError' } } });
  });

  it('retries a failed release, then reports normally', async () => {
    let attempts = 0;
    const { calls, reported } = await execute({
      'Release Instance': () => {
        attempts += 1;
        if (attempts === 1) throw named('Ec2.Ec2Exception', 'RequestLimitExceeded');
        return { TerminatingInstances: [{ CurrentState: { Name: 'shutting-down' } }] };
      },
    });
    expect(attempts).toBe(2);
    expect(calls.filter((c) => c === 'Release Instance')).toHaveLength(2);
    expect(reported).toMatchObject({ release: { state: 'shutting-down' } });
    expect((reported.errors as object | undefined) ?? {}).not.toHaveProperty('releaseInstance');
  });

  it.each([
    ['Run Build', 'Ssm.ThrottlingException'],
    ['Run Build', 'Ssm.SsmException'],
    ['Upload Output Artifact', 'Ssm.ThrottlingException'],
  ])('retries %s when Systems Manager throttles its SendCommand (%s: either name Step Functions may give it), then builds', async (state, error) => {
    // GIVEN a SendCommand refused once for the account's rate, as 1,000 builds ready together may be
    let attempts = 0;
    const { calls, reported } = await execute({
      [state]: () => {
        attempts += 1;
        if (attempts === 1) throw named(error, 'Rate exceeded (Service: Ssm, Error Code: ThrottlingException)');
        return ok;
      },
    });
    // THEN the state is retried and the job reports its build, not the refusal
    expect(calls.filter((c) => c === state)).toHaveLength(2);
    expect(calls[calls.length - 1]).toBe('Report Result');
    expect(reported).not.toHaveProperty('errors');
  });

  it('reports a release that keeps failing instead of leaving the job hanging', async () => {
    const { calls, reported } = await execute({ 'Release Instance': () => { throw named('Ec2.Ec2Exception', 'broken'); } });
    expect(calls.filter((c) => c === 'Release Instance')).toHaveLength(6);
    expect(calls[calls.length - 1]).toBe('Report Result');
    expect(reported).toMatchObject({ errors: { releaseInstance: { Error: 'Ec2.Ec2Exception' } } });
  });

  it('retries a launch that found no capacity, then succeeds', async () => {
    let attempts = 0;
    const { calls } = await execute({
      'Launch Instance': () => {
        attempts += 1;
        if (attempts < 3) throw named('CapacityError');
        return { Payload: { instanceId: 'i-2', instanceType: 't3.medium', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'on-demand' } };
      },
    });
    expect(attempts).toBe(3);
    expect(calls).toContain('Run Build');
  });

  it('acknowledges first, and ends quietly without launching when another worker owns the job', async () => {
    const { calls } = await execute({ 'Acknowledge Job': () => ({ Payload: { status: 'NotOurs' } }) });
    expect(calls).toEqual(['Acknowledge Job']);
  });

  it('reports a rejected configuration without launching anything', async () => {
    const { calls, reported } = await execute({}, { jobId: 'job', nonce: 'n', job: null, rejection: 'ImageId must be an AMI ID' });
    expect(calls).toEqual(['Acknowledge Job', 'Report Result']);
    expect(reported).toMatchObject({ rejection: 'ImageId must be an AMI ID' });
  });

  describe('a job with environment variables', () => {
    const job = buildJob({ properties: { ...buildJob().properties, environmentVariables: [{ name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' }] } });
    const input = { jobId: 'job', nonce: 'n', job, rejection: null };

    it('acknowledges with the nonce alone, then stores the environment with the job and the execution\'s name, then launches', async () => {
      const { calls, inputs } = await execute({}, input);
      expect(calls.slice(0, 3)).toEqual(['Acknowledge Job', 'Store Build Environment', 'Launch Instance']);
      expect(inputs.find((i) => i.name === 'Acknowledge Job')?.input.Payload).toEqual({ jobId: 'job', nonce: 'n' });
      expect(inputs.find((i) => i.name === 'Store Build Environment')?.input.Payload).toEqual({ job, executionName: expect.any(String) });
    });

    it('stores nothing for a job it does not own (NotOurs), nor for a job without variables', async () => {
      expect((await execute({ 'Acknowledge Job': () => ({ Payload: { status: 'NotOurs' } }) }, input)).calls).toEqual(['Acknowledge Job']);
      // The poller leaves the key out of a job without variables (lambdas/poller/job.ts)
      const { environmentVariables: _none, ...withoutKey } = buildJob().properties;
      const plain = await execute({}, { ...input, job: buildJob({ properties: withoutKey }) });
      expect(plain.calls).not.toContain('Store Build Environment');
      expect(plain.calls).toContain('Launch Instance');
    });

    it('reports a parameter it cannot read without launching anything (Store Build Environment\'s rejection)', async () => {
      const rejection = 'EnvironmentVariables: variable "TOKEN" names parameter /builds/token, which does not exist';
      const { calls, reported } = await execute({ 'Store Build Environment': () => ({ Payload: { rejection } }) }, input);
      expect(calls).toEqual(['Acknowledge Job', 'Store Build Environment', 'Report Result']);
      expect(reported).toMatchObject({ rejection: null, environment: { rejection } });
    });

    it('retries a failed store without acknowledging again, and reports one that keeps failing without launching anything', async () => {
      let attempts = 0;
      const throttled = () => {
        attempts += 1;
        throw named('ThrottlingException', 'Rate exceeded');
      };
      const { calls, reported } = await execute({ 'Store Build Environment': throttled }, input);
      expect(attempts).toBe(6);
      expect(calls.filter((c) => c === 'Acknowledge Job')).toHaveLength(1);
      expect(calls.filter((c) => c !== 'Store Build Environment')).toEqual(['Acknowledge Job', 'Report Result']);
      expect(reported).toMatchObject({ errors: { storeEnvironment: { Error: 'ThrottlingException' } } });
    });
  });

  it('passes every error after launch through Release Instance (the waits for the build renew the job at their timeout first)', () => {
    // Before the launch and after the release: the fleet's slot states (test/state-machine/fleet-slots.test.ts).
    // "Refill The Fleet" goes on to the build either way: the refill is the pool's, not the job's.
    const line = ['Take Fleet Slot', 'Report Place In Line', 'Acknowledge Queued Continuation Job', 'Wait For Fleet Slot'];
    // Store Build Environment runs before the launch and the line, with nothing to give back: its errors are reported at once.
    expect(definition.States['Store Build Environment'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.errors.storeEnvironment', Next: 'Report Result' }]);
    const beforeOrAfter = [...line, 'Store Build Environment', 'Launch Instance', 'Refill The Fleet', 'Release Interrupted Instance', 'Release Instance', 'Free Fleet Slot', "Leave The Fleet's Line", 'Report Result'];
    // Before the launch, every error of the line gives the slot back (if the job got one) and reports.
    for (const name of line) {
      const catches = (definition.States[name] as { Catch: { ErrorEquals: string[]; Next: string }[] }).Catch;
      const last = catches[catches.length - 1];
      expect([name, last.ErrorEquals, last.Next]).toEqual([name, ['States.ALL'], 'Did The Job Hold A Fleet Slot?']);
    }
    const afterLaunch = Object.entries(definition.States as Record<string, { Catch?: { ErrorEquals: string[]; Next: string }[] }>).filter(([n]) => !beforeOrAfter.includes(n));
    expect(definition.States['Can The Build Rerun On Demand?'].Default).toBe('Release Instance');
    for (const [name, state] of afterLaunch) {
      for (const c of state.Catch ?? []) {
        const renews = ['Run Build', 'Wait For Build'].includes(name) && c.ErrorEquals.join() === 'States.Timeout';
        // A lost or interrupted instance goes through the Spot rerun's choice, whose default is Release Instance.
        const mayRerun = ['SpotInterrupted', 'InstanceLost'].includes(c.ErrorEquals.join());
        expect([name, c.Next]).toEqual([name, renews ? 'Renew Job' : mayRerun ? 'Can The Build Rerun On Demand?' : 'Release Instance']);
      }
      if (state.Catch) expect([name, state.Catch[state.Catch.length - 1].ErrorEquals]).toEqual([name, ['States.ALL']]);
    }
  });
});
