import { buildJob } from '../fixtures/job';
import { definition, execute as run, named, never, type Tasks } from './execute';

/** The fleet's states in the real ASL: a fleet job takes a slot before its instance and gives it back after. */
const fleet = { name: 'linux', imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['c7i.large'], market: 'on-demand', maxConcurrent: 2, maxQueueMinutes: 1, queueTimeoutSeconds: 1 };
const fleetInput = { jobId: 'job', nonce: 'n', job: buildJob({ fleet: fleet as never }), rejection: null };
const coldInput = { jobId: 'job', nonce: 'n', job: buildJob(), rejection: null };
const execute = (overrides: Partial<Tasks>, input: Record<string, unknown> = fleetInput) => run(overrides, input);

describe('build-job.asl.json with fleets', () => {
  it('takes a fleet slot before launching and frees it after the release, before reporting', async () => {
    const { calls, inputs, reported } = await execute({});
    expect(calls).toEqual([
      'Acknowledge Job', 'Take Fleet Slot', 'Launch Instance', 'Refill The Fleet', 'Get Input Artifact URL', 'Is Instance Ready?', 'Run Build',
      'Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Free Fleet Slot', 'Report Result',
    ]);
    // The slot function gets its task token, the fleet and the execution's name (the slot's holder).
    const take = inputs.find((i) => i.name === 'Take Fleet Slot')!.input as { Payload: Record<string, unknown> };
    expect(take.Payload).toEqual({ action: 'take', taskToken: 'token', fleet, jobId: 'job', executionName: 'job' });
    const free = inputs.find((i) => i.name === 'Free Fleet Slot')!.input as { Payload: Record<string, unknown> };
    expect(free.Payload).toEqual({ action: 'free', fleet, jobId: 'job', executionName: 'job' });
    // The refill is started, not awaited (InvocationType Event), right after the instance was claimed or launched.
    const refill = inputs.find((i) => i.name === 'Refill The Fleet')!.input as Record<string, unknown>;
    expect(refill).toMatchObject({ InvocationType: 'Event', Payload: { fleet: 'linux', jobId: 'job' } });
    expect(reported.slot).toEqual({ queued: false, waitedMs: 0, position: 0 });
    expect((reported.instance as Record<string, unknown>).capacitySource).toBe('launched');
  });

  it('takes no slot and refills nothing for a job without a fleet, nor for a rejected one', async () => {
    const cold = (await execute({}, coldInput)).calls;
    for (const state of ['Take Fleet Slot', 'Refill The Fleet', 'Free Fleet Slot']) expect(cold).not.toContain(state);
    const rejected = await execute({}, { jobId: 'job', nonce: 'n', job: null, rejection: 'ImageId bad' });
    expect(rejected.calls).toEqual(['Acknowledge Job', 'Report Result']);
  });

  it('gives up waiting in line after the fleet\'s queue timeout ($.job.fleet.queueTimeoutSeconds), launches nothing and frees the slot', async () => {
    const start = Date.now();
    const { calls, reported } = await execute({ 'Take Fleet Slot': never });
    expect(Date.now() - start).toBeLessThan(5000);
    expect(calls).toEqual(['Acknowledge Job', 'Take Fleet Slot', 'Free Fleet Slot', 'Report Result']);
    expect((reported.errors as Record<string, { Error: string }>).takeFleetSlot.Error).toBe('States.Timeout');
    expect(definition.States['Take Fleet Slot'].TimeoutSecondsPath).toBe('$.job.fleet.queueTimeoutSeconds');
  });

  it('reports a full fleet without a line (FleetFull) without launching', async () => {
    const { calls, reported } = await execute({ 'Take Fleet Slot': () => { throw named('FleetFull', 'fleet "linux" is running its 2 builds'); } });
    expect(calls).toEqual(['Acknowledge Job', 'Take Fleet Slot', 'Free Fleet Slot', 'Report Result']);
    expect((reported.errors as Record<string, { Error: string }>).takeFleetSlot.Error).toBe('FleetFull');
  });

  it('frees the slot when the launch fails, and when the release fails', async () => {
    const launch = await execute({ 'Launch Instance': () => { throw named('JobConfigurationError', 'bad image'); } });
    expect(launch.calls).toEqual(['Acknowledge Job', 'Take Fleet Slot', 'Launch Instance', 'Free Fleet Slot', 'Report Result']);
    const release = await execute({ 'Release Instance': () => { throw named('Ec2.InternalError'); } });
    expect(release.calls.slice(-3)).toEqual(['Release Instance', 'Free Fleet Slot', 'Report Result']);
  });

  it('builds on when the refill cannot be started (its schedule refills later)', async () => {
    const { calls } = await execute({ 'Refill The Fleet': () => { throw named('Lambda.TooManyRequestsException'); } });
    expect(calls.slice(2, 5)).toEqual(['Launch Instance', 'Refill The Fleet', 'Get Input Artifact URL']);
    expect(calls).toContain('Run Build');
  });

  it('still reports when freeing the slot fails (the sweeper frees it later), with the state as it was', async () => {
    const { calls, reported } = await execute({ 'Free Fleet Slot': () => { throw named('States.TaskFailed', 'table gone'); } });
    expect(calls.slice(-2)).toEqual(['Free Fleet Slot', 'Report Result']);
    expect(reported.errors).toBeUndefined();
  });
});
