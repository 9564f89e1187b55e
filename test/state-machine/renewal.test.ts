import { buildJob } from '../fixtures/job';
import { definition, execute, named, never, ok } from './execute';

/** A job whose build outlives its job's horizon: Run Build's first wait is one second. */
const input = { jobId: 'job-1', nonce: 'n-1', job: buildJob({ jobId: 'job-1' }), rejection: null };
// "Is Instance Ready?" waits for its task token: its result is what the watcher sends, with no Payload around it.
const horizonSoon = () => ({ readyAt: '2026-11-22T10:01:00Z', buildWaitSeconds: 1 });
const handover = (n: number, renewAfterSeconds = 2700) => ({ jobId: `job-${n}`, nonce: `n-${n}`, renewAfterSeconds });
const payloadsOf = (inputs: { name: string; input: Record<string, unknown> }[], name: string) =>
  inputs.filter((i) => i.name === name).map((i) => (i.input as { Payload: Record<string, unknown> }).Payload);

describe('build-job.asl.json: a build that outlives its job (renewals)', () => {
  it('renews the job once, acknowledges the continuation job, waits for the build and reports on the newest job', async () => {
    // GIVEN a build still running at the horizon, and a continuation job handed over by the poller
    const { calls, inputs, reported } = await execute({ 'Is Instance Ready?': horizonSoon, 'Run Build': never, 'Renew Job': () => handover(2) }, input);
    // THEN the first job is renewed, the second acknowledged with its nonce, and the build's result reported on it
    expect(calls).toEqual([
      'Acknowledge Job', 'Launch Instance', 'Get Input Artifact URL', 'Is Instance Ready?', 'Run Build',
      'Renew Job', 'Acknowledge Continuation Job', 'Wait For Build',
      'Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Report Result',
    ]);
    expect(payloadsOf(inputs, 'Renew Job')).toEqual([
      { taskToken: 'token', jobId: 'job-1', executionArn: 'arn:exec', executionName: 'job', readyAt: '2026-11-22T10:01:00Z', waitTimeoutSeconds: 4200, renewalSeconds: 2700 },
    ]);
    expect(payloadsOf(inputs, 'Acknowledge Continuation Job')).toEqual([{ jobId: 'job-2', nonce: 'n-2' }]);
    expect(payloadsOf(inputs, 'Wait For Build')).toEqual([{ taskToken: 'token', instanceId: 'i-1', executionName: 'job', readyAt: '2026-11-22T10:01:00Z', waitTimeoutSeconds: 4200 }]);
    // The output URL is signed with the newest job's credentials, and the result goes to it
    expect((payloadsOf(inputs, 'Get Output Upload URL')[0].job as { jobId: string }).jobId).toBe('job-2');
    expect(reported).toMatchObject({ jobId: 'job-2', job: { jobId: 'job-2' }, build: ok, upload: ok });
    expect(reported).not.toHaveProperty('errors');
  });

  it('renews twice when the build outlives the continuation job too, each time the newest job', async () => {
    let waits = 0;
    let handovers = 1;
    const { calls, inputs, reported } = await execute(
      {
        'Is Instance Ready?': horizonSoon,
        'Run Build': never,
        'Renew Job': () => handover(++handovers, 1),
        'Wait For Build': () => (++waits === 1 ? never() : ok),
      },
      input,
    );
    expect(calls.filter((c) => c === 'Renew Job')).toHaveLength(2);
    expect(payloadsOf(inputs, 'Renew Job').map((p) => p.jobId)).toEqual(['job-1', 'job-2']);
    expect(payloadsOf(inputs, 'Acknowledge Continuation Job').map((p) => p.jobId)).toEqual(['job-2', 'job-3']);
    expect(reported).toMatchObject({ jobId: 'job-3', job: { jobId: 'job-3' }, build: ok });
  });

  it('releases the instance and reports when the continuation job never comes', async () => {
    // GIVEN a Renew Job whose wait for the continuation job is one second (900 in the ASL)
    const asl = JSON.parse(JSON.stringify(definition)); // not structuredClone: its objects come from another realm, whose Parameters the interpreter does not evaluate
    asl.States['Renew Job'].TimeoutSeconds = 1;
    const { calls, reported } = await execute({ 'Is Instance Ready?': horizonSoon, 'Run Build': never, 'Renew Job': never }, input, asl);
    expect(calls.slice(-3)).toEqual(['Renew Job', 'Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ jobId: 'job-1', errors: { runBuild: { Error: 'States.Timeout' } } });
  });

  it('stops waiting once the build\'s own time is over (Renew Job refuses to renew), releases and reports on the current job', async () => {
    const { calls, reported } = await execute(
      { 'Is Instance Ready?': horizonSoon, 'Run Build': never, 'Renew Job': () => { throw named('BuildWaitExceeded', 'no status came back'); } },
      input,
    );
    expect(calls.slice(-3)).toEqual(['Renew Job', 'Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ jobId: 'job-1', errors: { runBuild: { Error: 'BuildWaitExceeded' } } });
  });

  it('waits for the next handover when the continuation job was offered again meanwhile (stale nonce), without renewing twice', async () => {
    let acks = 0;
    const { calls, reported } = await execute(
      {
        'Is Instance Ready?': horizonSoon,
        'Run Build': never,
        'Acknowledge Continuation Job': () => ({ Payload: { status: ++acks === 1 ? 'NotOurs' : 'InProgress' } }),
      },
      input,
    );
    expect(calls.filter((c) => c === 'Renew Job')).toHaveLength(2);
    expect(reported).toMatchObject({ jobId: 'job-2', build: ok });
  });

  it('releases the instance when the action is over (the continuation job is no longer in progress: execution gone from CodePipeline\'s view)', async () => {
    const { calls, reported } = await execute(
      { 'Is Instance Ready?': horizonSoon, 'Run Build': never, 'Acknowledge Continuation Job': () => ({ Payload: { status: 'TimedOut' } }) },
      input,
    );
    expect(calls.slice(-4)).toEqual(['Renew Job', 'Acknowledge Continuation Job', 'Release Instance', 'Report Result']);
    expect(calls).not.toContain('Wait For Build');
    expect(reported).toMatchObject({ jobId: 'job-1' });
  });

  it('passes a failed build after a renewal through Release Instance, skipping the upload', async () => {
    const failed = { ...ok, status: 'Failed', exitCode: 2 };
    const { calls, reported } = await execute({ 'Is Instance Ready?': horizonSoon, 'Run Build': never, 'Wait For Build': () => failed }, input);
    expect(calls).not.toContain('Upload Output Artifact');
    expect(calls.slice(-2)).toEqual(['Release Instance', 'Report Result']);
    expect(reported).toMatchObject({ jobId: 'job-2', build: failed });
  });
});
