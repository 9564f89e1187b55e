import type { LocalCloud } from '../../local/cloud';
import { jobPromises } from '../../local/fault-run';
import { faultNamed } from '../../local/faults';
import { instancesBuiltTwice } from '../../local/fleet-checks';
import type { JobSummary } from '../../local/job';
import { violationsOf } from '../../local/soak';

/** The checks the fleet faults and the soak add: no instance built twice, where a build ran, nothing launched for a waiting job. */
const command = (phase: string) => ({ phase, status: 'Success', startedAt: 1, endedAt: 2 });
const fakeCloud = (commands: Record<string, { phase: string }[]>) =>
  ({ ec2: { instances: new Map(Object.keys(commands).map((id) => [id, {}])) }, ssm: { commandsOn: (id: string) => commands[id] ?? [] } }) as unknown as LocalCloud;

const ok = { status: 'Succeeded', jobId: 'job-1', failureType: null, failureMessage: null, jobResults: 1, instancesLaunched: 1, instancesReleased: 1, instancesSwept: 0, capacitySource: 'launched' } as unknown as JobSummary;

describe('fleet checks', () => {
  it('flags an instance that ran the build step twice, not one that built and uploaded', () => {
    const cloud = fakeCloud({ 'i-1': [command('build'), command('upload')], 'i-2': [command('build'), command('build')], 'i-3': [] });
    expect(instancesBuiltTwice(cloud)).toEqual(['instance i-2 ran 2 builds']);
    expect(instancesBuiltTwice(cloud, ['i-1', 'i-3'])).toEqual([]);
  });

  it('holds a job to where its fault says it builds, and to nothing launched when it never left the line', () => {
    const empty = faultNamed('pool-empty')!;
    expect(violationsOf(ok, empty)).toEqual([]);
    expect(violationsOf({ ...ok, capacitySource: 'hot-pool' }, empty)).toEqual(['job-1 (pool-empty): built on hot-pool, expected launched']);
    const queue = faultNamed('queue-timeout')!;
    const timedOut = { ...ok, status: 'Failed', failureType: 'SystemUnavailable', failureMessage: 'the job waited 4s in line for fleet "fault-queue", ... (maxQueueMinutes 1).', instancesLaunched: 0, instancesReleased: 0, capacitySource: null } as JobSummary;
    expect(violationsOf(timedOut, queue)).toEqual([]);
    expect(violationsOf({ ...timedOut, instancesLaunched: 1, instancesReleased: 1 }, queue)).toEqual(['job-1 (queue-timeout): 1 instances launched, expected 0']);
  });

  it('holds every other job of a scenario to one result, its instances released and none swept', () => {
    expect(jobPromises(ok, 'x')).toEqual([]);
    expect(jobPromises({ ...ok, jobResults: 2, instancesReleased: 0, instancesSwept: 1 }, 'x')).toEqual(['job-1 (x): 2 job results', 'job-1 (x): 1 launched, 0 released', 'job-1 (x): 1 instances terminated by the sweeper']);
  });
});
