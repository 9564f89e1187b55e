import * as path from 'node:path';
import { SPOT_BREAKER, parseFleets } from '../../lambdas/shared/fleets';
import { LocalCloud } from '../../local/cloud';
import type { Fault } from '../../local/faults';
import { runJob, type JobOptions, type JobSummary } from '../../local/job';
import { AwsError } from '../../local/services/aws-error';

/**
 * Spot, end to end in the local cloud (IAM enforced, the real functions and state machine): a build whose Spot
 * instance is interrupted runs again once on on-demand within the same job; a fleet interrupted SPOT_BREAKER.threshold
 * times within its window launches on-demand; a Spot launch without capacity falls back to on-demand.
 */
const fleets = parseFleets(
  {
    spot: { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['c7i.large'], market: 'spot', hotPool: 0, stoppedPool: 0, maxConcurrent: 10, maxQueueMinutes: 5 },
    mixed: { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['c7i.large', 'm7i.large'], market: 'spot-then-on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 10, maxQueueMinutes: 5 },
  },
  'fleets',
);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets });
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

const job = (fleet: string, command = 'sleep 2; echo built'): JobOptions => ({ source: path.join(__dirname, '../../examples/hello'), command, properties: { Fleet: fleet } });
const fault = (name: string, chaos: Fault['chaos']): Fault => ({ name, description: name, handling: '', expect: { status: 'Succeeded' }, chaos });

function expectWhole(s: JobSummary): void {
  expect(s.jobResults).toBe(1);
  expect(s.instancesReleased).toBe(s.instancesLaunched);
}

describe('Spot fleets in the local cloud', () => {
  it('runs the build again on on-demand when its Spot instance gets the interruption warning, and says so', async () => {
    // The interruption strikes the first build only: the warning, then the instance terminates two (simulated) minutes later.
    let struck = false;
    const s = await runJob(cloud, job('spot'), fault('interrupted', () => ({ commandRunning: (_j, phase) => (phase === 'build' && !struck ? ((struck = true), { interruptSpot: true }) : undefined) })));
    expect(s.status).toBe('Succeeded');
    expect(s.successSummary).toMatch(/Ran again on on-demand after Spot instance i-[0-9a-f]+ was interrupted\./);
    expect(s.instancesLaunched).toBe(2);
    expect(s.market).toBe('on-demand');
    expect(s.capacitySource).toBe('launched');
    expectWhole(s);
    const markets = [...cloud.ec2.instances.values()].filter((i) => s.timeline.instances.some((t) => t.instanceId === i.instanceId)).map((i) => i.launch.market).sort();
    expect(markets).toEqual(['on-demand', 'spot']);
  }, 60_000);

  it('gives the rerun its environment variables too: the first build read and deleted its own copy of them', async () => {
    let struck = false;
    const options: JobOptions = { ...job('spot', 'test "$STAGE" = prod; sleep 2; echo built'), properties: { Fleet: 'spot', EnvironmentVariables: JSON.stringify([{ name: 'STAGE', value: 'prod' }]) } };
    const s = await runJob(cloud, options, fault('interrupted', () => ({ commandRunning: (_j, phase) => (phase === 'build' && !struck ? ((struck = true), { interruptSpot: true }) : undefined) })));
    expect(s).toMatchObject({ status: 'Succeeded', instancesLaunched: 2, market: 'on-demand' });
    expect(s.successSummary).toMatch(/Ran again on on-demand after Spot instance/);
    expectWhole(s);
  }, 60_000);

  it('runs the build again on on-demand when its Spot instance is lost without a warning', async () => {
    let struck = false;
    const s = await runJob(cloud, job('spot'), fault('lost', () => ({ commandRunning: (_j, phase) => (phase === 'build' && !struck ? ((struck = true), { terminateInstance: true }) : undefined) })));
    expect(s.status).toBe('Succeeded');
    expect(s.successSummary).toMatch(/Ran again on on-demand/);
    expect(s.market).toBe('on-demand');
    expectWhole(s);
  }, 60_000);

  it('launches on-demand when EC2 has no Spot capacity for any type in any subnet (spot-then-on-demand)', async () => {
    const noSpot = fault('no-spot', () => ({ runInstances: (_j, _subnet, _type, market) => (market === 'spot' ? new AwsError('InsufficientInstanceCapacity', 'There is no Spot capacity available that matches your request.') : undefined) }));
    const s = await runJob(cloud, job('mixed', 'echo built'), noSpot);
    expect(s.status).toBe('Succeeded');
    expect(s.market).toBe('on-demand');
    expect(s.instancesLaunched).toBe(1);
    expectWhole(s);
  }, 60_000);

  it(`opens the fleet's circuit breaker after ${SPOT_BREAKER.threshold} interruptions: the next build launches on-demand`, async () => {
    // Two interruptions above, one more here (each job's first build only).
    let struck = false;
    const third = await runJob(cloud, job('spot'), fault('third', () => ({ commandRunning: (_j, phase) => (phase === 'build' && !struck ? ((struck = true), { interruptSpot: true }) : undefined) })));
    expect(third.status).toBe('Succeeded');
    // The warnings so far: the first test's and this one's (the second test's loss had none). One more opens it.
    let again = false;
    await runJob(cloud, job('spot'), fault('fourth', () => ({ commandRunning: (_j, phase) => (phase === 'build' && !again ? ((again = true), { interruptSpot: true }) : undefined) })));
    const next = await runJob(cloud, job('spot', 'echo built'));
    expect(next.status).toBe('Succeeded');
    expect(next.market).toBe('on-demand');
    expect(next.instancesLaunched).toBe(1);
    expect(next.successSummary).not.toMatch(/Ran again/);
  }, 120_000);
});
