import { ENV, POOL_TAGS, TAGS } from '../lambdas/shared/env';
import { poolSizesAt } from '../lambdas/shared/fleet-sizes';
import { keyOf, pkOf, SK } from '../lambdas/shared/pool-store';
import type { LocalCloud } from './cloud';
import type { JobSummary } from './job';
import type { SimInstance } from './services/ec2';

/**
 * What the fleet faults and the soak look at beyond one job's summary: a fleet's pools, the pool table as
 * the functions left it, and the promise that no instance ever runs two builds.
 */

/**
 * Refills one fleet until its pools are at their sizes, as its schedule would within a few minutes: EC2 and Systems
 * Manager see the members running with their agent online (or stopped), and the pool table offers them (ready,
 * stopped), which only the refill's next look records. False when they never got there within `timeoutMs` of real
 * time (a bound in time, not in refills: on a loaded machine a boot spans many refills).
 */
export async function fillFleet(cloud: LocalCloud, fleet: string, timeoutMs = 60_000): Promise<boolean> {
  const settings = cloud.fleets[fleet];
  if (!settings) throw new Error(`the local cloud has no fleet ${fleet} (it has ${Object.keys(cloud.fleets).join(', ') || 'none'})`);
  const full = async () => {
    const wanted = poolSizesAt(settings, new Date());
    const counts = cloud.poolCounts(fleet);
    const members = await poolTableMembers(cloud, fleet);
    const offered = (state: string) => members.filter((m) => m.state === state).length;
    return counts.hot >= wanted.hotPool && counts.stopped >= wanted.stoppedPool && offered('ready') >= wanted.hotPool && offered('stopped') >= wanted.stoppedPool;
  };
  // Members on their way (booting, or stopping after their first boot): while there are any, waiting can still fill the pools.
  const onTheirWay = async () => (await poolTableMembers(cloud, fleet)).some((m) => m.state === 'warming' || m.state === 'stopping');
  const until = Date.now() + timeoutMs;
  let idleLooks = 0;
  while (!(await full())) {
    // Out of time, or three refills in a row left nothing on its way (it cannot launch: no capacity, a bad image).
    if (Date.now() > until || idleLooks >= 3) return false;
    // A refill started by a claim or the schedule may hold the fleet's lease: this run then does nothing, and the next looks again.
    await cloud.refillFleets(fleet);
    idleLooks = (await onTheirWay()) ? 0 : idleLooks + 1;
    if (!(await full())) await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** The instance the job's build ran on (its first command's), as EC2 knows it. */
export function builderOf(cloud: LocalCloud, summary: JobSummary): SimInstance | undefined {
  const first = [...summary.timeline.commands].sort((a, b) => (a.startedAt ?? Infinity) - (b.startedAt ?? Infinity))[0];
  return first ? cloud.ec2.instances.get(first.instanceId) : undefined;
}

/** A fleet's instances that no job has claimed (running, stopped or on their way), as EC2 knows them. */
export function idlePoolInstances(cloud: LocalCloud, fleet?: string): SimInstance[] {
  return [...cloud.ec2.instances.values()].filter((i) => i.tags[POOL_TAGS.fleet] !== undefined && (fleet === undefined || i.tags[POOL_TAGS.fleet] === fleet) && !i.tags[TAGS.jobId]);
}

/** Instances that ran the build step more than once: the one promise a pool must never break. */
export function instancesBuiltTwice(cloud: LocalCloud, instanceIds: Iterable<string> = cloud.ec2.instances.keys()): string[] {
  const out: string[] = [];
  for (const id of instanceIds) {
    const builds = cloud.ssm.commandsOn(id).filter((c) => c.phase === 'build').length;
    if (builds > 1) out.push(`instance ${id} ran ${builds} builds`);
  }
  return out;
}

/** A pool table item of a fleet, as the functions wrote it (read behind their backs, as an operator's console would). */
export interface PoolItem {
  readonly sk: string;
  readonly instanceId?: string;
  readonly state?: string;
  readonly imageId?: string;
}

const poolTable = (cloud: LocalCloud) => cloud.functionAt('Fleets/Refill').lambda.spec.env[ENV.poolTableName];

/**
 * Holds the fleet's refill lease (lambdas/shared/pool-breaker.ts takeRefillLease), as a long refill run would: until
 * the returned function gives it back, every refill skips the fleet, so its pools are what they were.
 */
export async function holdRefill(cloud: LocalCloud, fleet: string, holder: string): Promise<() => Promise<void>> {
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  await cloud.dynamodb.call('PutItem', { TableName: poolTable(cloud), Item: { ...keyOf(fleet, SK.refill), holder: { S: holder }, expiresAt: { N: String(expiresAt) } } });
  return async () => {
    await cloud.dynamodb.call('DeleteItem', {
      TableName: poolTable(cloud),
      Key: keyOf(fleet, SK.refill),
      ConditionExpression: '#holder = :holder',
      ExpressionAttributeNames: { '#holder': 'holder' },
      ExpressionAttributeValues: { ':holder': { S: holder } },
    });
  };
}

/**
 * Closes the fleet's Spot circuit breaker (deletes its item): a fault that interrupts a Spot build expects a Spot
 * launch, which the breaker of earlier runs of the same fault in the same cloud (a soak) would have turned on-demand.
 */
export async function closeBreaker(cloud: LocalCloud, fleet: string): Promise<void> {
  await cloud.dynamodb.call('DeleteItem', { TableName: poolTable(cloud), Key: keyOf(fleet, SK.breaker) });
}

/** The fleet's pool members in the table (sort keys INSTANCE#…). */
export async function poolTableMembers(cloud: LocalCloud, fleet: string): Promise<PoolItem[]> {
  const out = (await cloud.dynamodb.call('Query', {
    TableName: poolTable(cloud),
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :members)',
    ExpressionAttributeValues: { ':pk': { S: pkOf(fleet) }, ':members': { S: SK.instancePrefix } },
  })) as { Items?: Record<string, { S?: string }>[] };
  return (out.Items ?? []).map((item) => ({ sk: item.sk?.S ?? '', instanceId: item.instanceId?.S, state: item.state?.S, imageId: item.imageId?.S }));
}
