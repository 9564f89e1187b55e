import { buildJob } from '../fixtures/job';
import { definition, execute as run, named, never, type Tasks } from './execute';

/** The fleet's states in the real ASL: a fleet job takes a slot before its instance and gives it back after. */
const fleet = { name: 'linux', imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['c7i.large'], market: 'on-demand', maxConcurrent: 2, maxQueueMinutes: 1, queueTimeoutSeconds: 60, lineRefreshSeconds: 1, lineFirstReportSeconds: 1, pools: [] };
const fleetInput = { jobId: 'job', nonce: 'n', job: buildJob({ fleet: fleet as never }), rejection: null };
const coldInput = { jobId: 'job', nonce: 'n', job: buildJob(), rejection: null };
const execute = (overrides: Partial<Tasks>, input: Record<string, unknown> = fleetInput) => run(overrides, input);

describe('build-job.asl.json with fleets', () => {
  it('takes a fleet slot in Launch Instance (no state of its own) and frees it after the release, before reporting', async () => {
    const { calls, inputs, reported } = await execute({});
    expect(calls).toEqual([
      'Acknowledge Job', 'Launch Instance', 'Refill The Fleet', 'Get Input Artifact URL', 'Is Instance Ready?', 'Run Build',
      'Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Free Fleet Slot', 'Report Result',
    ]);
    const free = inputs.find((i) => i.name === 'Free Fleet Slot')!.input as { Payload: Record<string, unknown> };
    expect(free.Payload).toEqual({ action: 'free', fleet, jobId: 'job', executionName: 'job' });
    // The refill is started, not awaited (InvocationType Event), right after the instance was claimed or launched.
    const refill = inputs.find((i) => i.name === 'Refill The Fleet')!.input;
    expect(refill).toMatchObject({ InvocationType: 'Event', Payload: { fleet: 'linux', jobId: 'job' } });
    expect(reported.slot).toBeUndefined();
    expect((reported.instance as Record<string, unknown>).capacitySource).toBe('launched');
  });

  it('takes no slot and refills nothing for a job without a fleet, nor for a rejected one', async () => {
    const cold = (await execute({}, coldInput)).calls;
    for (const state of ['Take Fleet Slot', 'Refill The Fleet', 'Free Fleet Slot']) expect(cold).not.toContain(state);
    const rejected = await execute({}, { jobId: 'job', nonce: 'n', job: null, rejection: 'ImageId bad' });
    expect(rejected.calls).toEqual(['Acknowledge Job', 'Report Result']);
  });

  /** Launch Instance finds every slot taken the first time, and launches after. */
  const full = () => {
    let calls = 0;
    return () => {
      if (++calls === 1) throw named('NoFreeFleetSlot', 'every one of fleet "linux"\'s 2 slots (maxConcurrent) is taken');
      return { Payload: { instanceId: 'i-1', instanceType: 't3.medium', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'on-demand' } };
    };
  };
  const inLine = () => ({ Payload: { granted: false, queued: true, waitedMs: 0, position: 3, line: { sk: 'QUEUE#2026-12-01T10:00:00.000Z#job', enqueuedAt: '2026-12-01T10:00:00.000Z' } } });
  const grant = { granted: true, queued: true, waitedMs: 4000, position: 0, line: null };

  it('lets a job in line wait for a slot a short first round without reporting anything, then build', async () => {
    const { calls, inputs, reported } = await execute({ 'Launch Instance': full(), 'Take Fleet Slot': inLine });
    expect(calls.slice(0, 5)).toEqual(['Acknowledge Job', 'Launch Instance', 'Take Fleet Slot', 'Wait For Fleet Slot', 'Launch Instance']);
    // The slot function gets the fleet and the execution's name (the slot's holder) and ARN.
    const take = inputs.find((i) => i.name === 'Take Fleet Slot')!.input as { Payload: Record<string, unknown> };
    expect(take.Payload).toEqual({ action: 'take', fleet, jobId: 'job', executionName: 'job', executionArn: 'arn:exec' });
    // The full launch leaves no error behind (its catch writes $.slot, which Take Fleet Slot replaces).
    expect(reported.errors).toBeUndefined();
    // The wait stores its token against the job's entry; its first round is the fleet's lineFirstReportSeconds.
    const wait = inputs.find((i) => i.name === 'Wait For Fleet Slot')!.input as { Payload: Record<string, unknown> };
    expect(wait.Payload).toEqual({ action: 'wait', taskToken: 'token', line: { sk: 'QUEUE#2026-12-01T10:00:00.000Z#job', enqueuedAt: '2026-12-01T10:00:00.000Z' }, fleet, jobId: 'job', executionName: 'job', executionArn: 'arn:exec' });
    expect(definition.States['Wait For Fleet Slot'].TimeoutSecondsPath).toBe('$.continuation.renewAfterSeconds');
    expect(definition.States['Start Waiting In Line'].Parameters).toEqual({ 'renewAfterSeconds.$': '$.job.fleet.lineFirstReportSeconds' });
    expect(reported.jobId).toBe('job');
    expect(reported.slot).toEqual(grant);
  });

  it('reports the place of a job still in line after a round (a renewal), waits on the continuation job, and builds on it', async () => {
    let waits = 0;
    const { calls, inputs, reported } = await execute({ 'Launch Instance': full(), 'Take Fleet Slot': inLine, 'Wait For Fleet Slot': () => (++waits === 1 ? never() : grant) });
    expect(calls.slice(0, 8)).toEqual(['Acknowledge Job', 'Launch Instance', 'Take Fleet Slot', 'Wait For Fleet Slot', 'Report Place In Line', 'Acknowledge Queued Continuation Job', 'Wait For Fleet Slot', 'Launch Instance']);
    // The report renews the job (the renew function) with the line's bound and refresh, and the job's entry.
    const report = inputs.find((i) => i.name === 'Report Place In Line')!.input as { FunctionName: string; Payload: Record<string, unknown> };
    expect(report.FunctionName).toBe('local-RenewFunctionArn');
    expect(report.Payload).toEqual({
      taskToken: 'token', jobId: 'job', executionArn: 'arn:exec', executionName: 'job',
      readyAt: '2026-12-01T10:00:00.000Z', waitTimeoutSeconds: 60, renewalSeconds: 1, line: { fleet, sk: 'QUEUE#2026-12-01T10:00:00.000Z#job' },
    });
    // The next wait carries the continuation job's id; everything after reports on, and signs with, that job.
    const second = inputs.filter((i) => i.name === 'Wait For Fleet Slot')[1].input as { Payload: Record<string, unknown> };
    expect(second.Payload).toMatchObject({ jobId: 'job-q' });
    expect(reported.jobId).toBe('job-q');
    expect((reported.job as { jobId: string }).jobId).toBe('job-q');
    expect(reported.slot).toEqual(grant);
  });

  it('reports the place again at each round until a slot comes', async () => {
    let waits = 0;
    const { calls } = await execute({
      'Launch Instance': full(),
      'Take Fleet Slot': inLine,
      'Report Place In Line': () => ({ jobId: 'job-q', nonce: 'n-q', renewAfterSeconds: 1 }),
      'Wait For Fleet Slot': () => (++waits < 4 ? never() : grant),
    });
    expect(calls.filter((c) => c === 'Report Place In Line')).toHaveLength(3);
    expect(calls.filter((c) => c === 'Wait For Fleet Slot')).toHaveLength(4);
    expect(calls).toContain('Run Build');
  }, 20_000);

  it('gives up when the line wait is over (LineWaitExceeded), launches nothing and frees the slot', async () => {
    const { calls, inputs, reported } = await execute({ 'Launch Instance': full(), 'Take Fleet Slot': inLine, 'Wait For Fleet Slot': never, 'Report Place In Line': () => { throw named('LineWaitExceeded', 'the job waited 1m00s in line for fleet "linux"'); } });
    expect(calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Take Fleet Slot', 'Wait For Fleet Slot', 'Report Place In Line', "Leave The Fleet's Line", 'Report Result']);
    expect((reported.errors as Record<string, { Error: string }>).takeFleetSlot.Error).toBe('LineWaitExceeded');
    // It leaves the line with its place, so no freed slot is kept for it.
    const leave = inputs.find((i) => i.name === "Leave The Fleet's Line")!.input as { Payload: Record<string, unknown> };
    expect(leave.Payload).toEqual({ action: 'free', fleet, jobId: 'job', executionName: 'job', line: { sk: 'QUEUE#2026-12-01T10:00:00.000Z#job', enqueuedAt: '2026-12-01T10:00:00.000Z' } });
  });

  it('waits for the next handover when the continuation job was offered again (stale nonce), and ends when it is not the action\'s any more', async () => {
    let acks = 0;
    let waits = 0;
    const stale = await execute({
      'Launch Instance': full(),
      'Take Fleet Slot': inLine,
      'Wait For Fleet Slot': () => (++waits === 1 ? never() : grant),
      'Acknowledge Queued Continuation Job': () => ({ Payload: { status: ++acks === 1 ? 'NotOurs' : 'InProgress' } }),
    });
    expect(stale.calls.slice(4, 9)).toEqual(['Report Place In Line', 'Acknowledge Queued Continuation Job', 'Report Place In Line', 'Acknowledge Queued Continuation Job', 'Wait For Fleet Slot']);
    const over = await execute({ 'Launch Instance': full(), 'Take Fleet Slot': inLine, 'Wait For Fleet Slot': never, 'Acknowledge Queued Continuation Job': () => ({ Payload: { status: 'Failed' } }) });
    expect(over.calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Take Fleet Slot', 'Wait For Fleet Slot', 'Report Place In Line', 'Acknowledge Queued Continuation Job', "Leave The Fleet's Line", 'Report Result']);
  });

  it('reports a full fleet without a line (FleetFull) without launching', async () => {
    const { calls, reported } = await execute({ 'Launch Instance': full(), 'Take Fleet Slot': () => { throw named('FleetFull', 'fleet "linux" is running its 2 builds'); } });
    expect(definition.States['Take Fleet Slot'].Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Take Fleet Slot', 'Free Fleet Slot', 'Report Result']);
    expect((reported.errors as Record<string, { Error: string }>).takeFleetSlot.Error).toBe('FleetFull');
  });

  it('frees the slot when the launch fails, and when the release fails', async () => {
    const launch = await execute({ 'Launch Instance': () => { throw named('JobConfigurationError', 'bad image'); } });
    expect(launch.calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Free Fleet Slot', 'Report Result']);
    const release = await execute({ 'Release Instance': () => { throw named('Ec2.InternalError'); } });
    expect(release.calls.slice(-3)).toEqual(['Release Instance', 'Free Fleet Slot', 'Report Result']);
  });

  it('builds on when the refill cannot be started (its schedule refills later)', async () => {
    const { calls } = await execute({ 'Refill The Fleet': () => { throw named('Lambda.TooManyRequestsException'); } });
    expect(calls.slice(1, 4)).toEqual(['Launch Instance', 'Refill The Fleet', 'Get Input Artifact URL']);
    expect(calls).toContain('Run Build');
  });

  it('still reports when freeing the slot fails (the sweeper frees it later), with the state as it was', async () => {
    const { calls, reported } = await execute({ 'Free Fleet Slot': () => { throw named('States.TaskFailed', 'table gone'); } });
    expect(calls.slice(-2)).toEqual(['Free Fleet Slot', 'Report Result']);
    expect(reported.errors).toBeUndefined();
  });
});

describe('build-job.asl.json: a Spot build runs again on on-demand, once', () => {
  const spotFleet = { ...fleet, market: 'spot' };
  const spotInput = { jobId: 'job', nonce: 'n', job: buildJob({ fleet: spotFleet as never }), rejection: null };
  const onSpot = () => ({ Payload: { instanceId: 'i-spot', instanceType: 'c7i.large', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'spot' } });
  const onDemand = () => ({ Payload: { instanceId: 'i-od', instanceType: 'c7i.large', subnetId: null, launchedAt: 'now', capacitySource: 'launched', market: 'on-demand' } });

  it('releases the interrupted instance, switches the job to on-demand, clears the interruption and launches again', async () => {
    let launches = 0;
    let builds = 0;
    const { calls, inputs, reported } = await execute(
      {
        'Launch Instance': () => (++launches === 1 ? onSpot() : onDemand()),
        'Run Build': () => {
          if (++builds === 1) throw named('SpotInterrupted', 'EC2 interrupts Spot instance i-spot');
          return { commandId: 'c', status: 'Success', exitCode: 0, outputTail: '', errorTail: '' };
        },
        'Release Interrupted Instance': () => ({ TerminatingInstances: [{ InstanceId: 'i-spot', CurrentState: { Name: 'shutting-down' } }] }),
      },
      spotInput,
    );
    expect(calls.filter((c) => c === 'Launch Instance')).toHaveLength(2);
    expect(calls.slice(calls.indexOf('Release Interrupted Instance'), calls.indexOf('Release Interrupted Instance') + 2)).toEqual(['Release Interrupted Instance', 'Launch Instance']);
    // The second launch asks for on-demand, and the report sees the rerun and no error.
    const second = inputs.filter((i) => i.name === 'Launch Instance')[1].input as { Payload: { job: { fleet: { market: string } } } };
    expect(second.Payload.job.fleet.market).toBe('on-demand');
    expect(reported.rerun).toEqual({ interruptedInstanceId: 'i-spot' });
    expect(reported.errors).toEqual({});
    expect((reported.instance as { instanceId: string }).instanceId).toBe('i-od');
  });

  it('reruns a Spot build whose command SSM could not deliver (the instance was lost without a warning)', async () => {
    let launches = 0;
    let builds = 0;
    const { calls } = await execute(
      {
        'Launch Instance': () => (++launches === 1 ? onSpot() : onDemand()),
        'Run Build': () => (++builds === 1 ? { commandId: 'c', status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1, outputTail: '', errorTail: '' } : { commandId: 'c', status: 'Success', exitCode: 0, outputTail: '', errorTail: '' }),
        'Release Interrupted Instance': () => ({ TerminatingInstances: [{ InstanceId: 'i-spot' }] }),
      },
      spotInput,
    );
    expect(calls.filter((c) => c === 'Run Build')).toHaveLength(2);
  });

  it('does not rerun an on-demand build that lost its instance, nor a build that already ran again', async () => {
    const lost = { commandId: 'c', status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1, outputTail: '', errorTail: '' };
    const onDemandRun = await execute({ 'Launch Instance': onDemand, 'Run Build': () => lost }, spotInput);
    expect(onDemandRun.calls).not.toContain('Release Interrupted Instance');
    let launches = 0;
    const twice = await execute(
      {
        // A second Spot instance (should not happen: the rerun is on-demand) is still not rerun a second time.
        'Launch Instance': () => (++launches, onSpot()),
        'Run Build': () => { throw named('SpotInterrupted', 'again'); },
        'Release Interrupted Instance': () => ({ TerminatingInstances: [{ InstanceId: 'i-spot' }] }),
      },
      spotInput,
    );
    expect(launches).toBe(2);
    expect(twice.calls.filter((c) => c === 'Release Interrupted Instance')).toHaveLength(1);
    expect((twice.reported.errors as Record<string, { Error: string }>).runBuild.Error).toBe('SpotInterrupted');
    expect(twice.calls.slice(-3)).toEqual(['Release Instance', 'Free Fleet Slot', 'Report Result']);
  });

  it('reruns a Spot instance lost while booting (InstanceLost)', async () => {
    let launches = 0;
    let checks = 0;
    const { calls } = await execute(
      {
        'Launch Instance': () => (++launches === 1 ? onSpot() : onDemand()),
        'Is Instance Ready?': () => {
          if (++checks === 1) throw named('InstanceLost', 'instance i-spot is terminated');
          return { readyAt: '2026-11-22T10:01:00Z', buildWaitSeconds: 2700 };
        },
        'Release Interrupted Instance': () => ({ TerminatingInstances: [{ InstanceId: 'i-spot' }] }),
      },
      spotInput,
    );
    expect(launches).toBe(2);
    expect(calls).toContain('Run Build');
  });
});
