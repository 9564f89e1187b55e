import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseFleets } from '../../lambdas/shared/fleets';
import { oldestQueued, slotHolders } from '../../lambdas/shared/pool-queue';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { runJob, type JobOptions, type JobSummary } from '../../local/job';
import { FLEET_TAKE_OVER_STATEMENT } from './fleet-statements';

/**
 * Fleets end to end in the local cloud (IAM enforced, the real functions, table and state machine): a job claims a
 * hot or a stopped pool member and the pool is refilled; a fleet capped at one build runs its jobs one at a time, in
 * the order they came; an unknown fleet is a ConfigurationError before anything is launched.
 */
const IMAGE = 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const fleets = parseFleets(
  {
    hot: { imageId: IMAGE, instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 5 },
    stopped: { imageId: IMAGE, instanceTypes: ['m7i.large'], market: 'on-demand', hotPool: 0, stoppedPool: 1, maxConcurrent: 4, maxQueueMinutes: 5 },
    single: { imageId: IMAGE, instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 1, maxQueueMinutes: 5 },
  },
  'fleets',
);

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { fleets });
  await cloud.fillPools();
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

const job = (fleet: string, command = 'echo built'): JobOptions => ({ source: path.join(__dirname, '../../examples/hello'), command, properties: { Fleet: fleet } });

function expectWhole(s: JobSummary): void {
  expect(s.jobResults).toBe(1);
  expect(s.instancesReleased).toBe(s.instancesLaunched);
}

describe('fleets in the local cloud', () => {
  it('builds on the hot pool member, terminates it after, and refills the pool', async () => {
    const member = [...cloud.ec2.instances.values()].find((i) => i.tags['ec2-build-action:fleet'] === 'hot' && i.state === 'running')!;
    const s = await runJob(cloud, job('hot'));
    expect(s.status).toBe('Succeeded');
    expect(s.capacitySource).toBe('hot-pool');
    expect(s.timeline.instances.map((i) => i.instanceId)).toEqual([member.instanceId]);
    expect(s.successSummary).toMatch(/\(c7i\.large, hot-pool\)/);
    expectWhole(s);
    expect(member.state === 'terminated' || member.state === 'shutting-down').toBe(true);
    // Refill The Fleet started the refill; the pool is whole again with another instance.
    await cloud.fillPools();
    expect(cloud.poolCounts('hot').hot).toBe(1);
  }, 60_000);

  it('starts the stopped pool member for the job', async () => {
    const s = await runJob(cloud, job('stopped'));
    expect(s.status).toBe('Succeeded');
    expect(s.capacitySource).toBe('stopped-pool');
    expectWhole(s);
    // The launcher started it through its own right on the stack's instances (IAM enforced)
    const takeOver = cloud.authorizer.allStatements().filter((st) => FLEET_TAKE_OVER_STATEMENT.test(st));
    expect(takeOver).toHaveLength(1);
    expect(cloud.authorizer.usedStatements.has(takeOver[0])).toBe(true);
  }, 60_000);

  it('runs the jobs of a fleet capped at one build one at a time, first come first served, each on its own instance', async () => {
    // The executions that took the fleet's slot or a place in its line, as the slot function's table records them: a
    // job is sent only once the one before it got there, so "the order they came" is defined however loaded the machine.
    const slots = cloud.functionAt('Fleets/Slots');
    const table = { client: new DynamoDBClient({ credentials: credentialsFor(slots.roleLogicalId) }), tableName: slots.lambda.spec.env.POOL_TABLE_NAME };
    const arrived = new Set<string>();
    const seen = async () => {
      for (const name of [...(await slotHolders(table, 'single')), ...(await oldestQueued(table, 'single', 10)).map((e) => e.executionName)]) arrived.add(name);
      return arrived.size;
    };
    const results: Promise<JobSummary>[] = [];
    for (const n of [0, 1, 2]) {
      for (const until = Date.now() + 60_000; (await seen()) < n; await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > until) throw new Error(`job ${n - 1} never took the slot or a place in the line`);
      }
      results.push(runJob(cloud, job('single', 'sleep 1; echo built')));
    }
    const summaries = await Promise.all(results);
    for (const s of summaries) {
      expect(s.status).toBe('Succeeded');
      expect(s.capacitySource).toBe('launched');
      expectWhole(s);
    }
    // In the order the jobs came (summaries are in that order), and never two builds at once.
    // A build's span: its first command's start to its last command's end (the slot is freed after the release).
    const spans = summaries.map((s) => ({ from: Math.min(...s.timeline.commands.map((c) => c.startedAt!)), to: Math.max(...s.timeline.commands.map((c) => c.endedAt!)) }));
    expect(spans.map((x) => x.from)).toEqual([...spans.map((x) => x.from)].sort((a, b) => a - b));
    for (let i = 1; i < spans.length; i++) expect(spans[i].from).toBeGreaterThanOrEqual(spans[i - 1].to);
    // The ones that waited say so.
    expect(summaries.filter((s) => /Waited \d+s in fleet "single"'s line\./.test(s.successSummary ?? '')).length).toBeGreaterThanOrEqual(1);
    expect(new Set(summaries.flatMap((s) => s.timeline.instances.map((i) => i.instanceId))).size).toBe(3);
    // The waiting jobs were resumed by the slot function when a build freed its slot (through IAM, with its own rights).
    const resume = cloud.authorizer.allStatements().filter((st) => /^FleetsSlotsRole\w+ \w+\/ResumeWaitingTasks$/.test(st));
    expect(resume).toHaveLength(1);
    expect(cloud.authorizer.usedStatements.has(resume[0])).toBe(true);
  }, 120_000);

  it('refuses an unknown fleet before launching anything, naming the fleets there are', async () => {
    const s = await runJob(cloud, job('Hot'));
    expect(s.status).toBe('Failed');
    expect(s.failureType).toBe('ConfigurationError');
    expect(s.failureMessage).toMatch(/Fleet must be one of this stack's fleets \(hot, stopped, single\), got "Hot"/);
    expect(s.instancesLaunched).toBe(0);
  }, 60_000);
});
