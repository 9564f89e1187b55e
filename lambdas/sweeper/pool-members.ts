import type { TaggedInstance } from '../shared/ec2';
import { POOL_TAGS, TAGS } from '../shared/env';
import type { Fleet } from '../shared/fleets';
import { listMembers, type PoolMember, type PoolTable } from '../shared/pool-table';

/**
 * How long a pool instance may go without a table item, or stay claimed without its job's tags, before the sweeper
 * takes it for a leftover. The refill launches first and records the instance right after (lambdas/pool-refill/pass.ts
 * launchMembers: one PutItem per launched instance, in the same run), and a claim tags the instance in the same
 * launcher invocation; both take seconds. DescribeInstances may list an instance before or after that (EC2 is
 * eventually consistent: https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html). Ten minutes is
 * far beyond a refill run (90 s timeout) and a launcher's retries, and short against the sweep's 15-minute rate: a
 * leaked instance costs at most a sweep or two.
 */
export const POOL_GRACE_MS = 10 * 60_000;

/** The table's items for the pool instances among `instances`: one Query per fleet their tags name. */
export async function poolMembersOf(table: PoolTable, instances: readonly TaggedInstance[]): Promise<Map<string, PoolMember>> {
  const fleets = new Set(instances.map((i) => i.tags[POOL_TAGS.fleet]).filter((f): f is string => !!f));
  const members = new Map<string, PoolMember>();
  for (const fleet of fleets) for (const m of await listMembers(table, fleet)) members.set(m.instanceId, m);
  return members;
}

/** What the sweeper does with an idle pool instance (a fleet tag, no execution tag). */
export type PoolVerdict = { readonly keep: true } | { readonly keep: false; readonly reason: string; readonly retireFrom?: PoolMember['state'] };

const minutes = (ms: number) => Math.round(ms / 60000);

/**
 * An idle pool member is kept while the table knows it in any state but 'claimed': the refill owns its life (warming,
 * ready, stopping, stopped, retiring; it replaces stale, old and dead members). It is a leftover when the table does
 * not know it past the grace (a refill that died between launch and record, an item removed while EC2 lagged), when
 * it was claimed past the grace but never got its job's tags (a launcher that died in between), when its fleet is not
 * one of the stack's any more (nothing refills or claims it), or when it outlived its fleet's maxAgeMinutes by the
 * grace (the refill should have replaced it: it is taken out of the pool by a conditional move first, so a job that
 * claims it at that moment keeps it).
 */
export function poolVerdict(instance: TaggedInstance, member: PoolMember | undefined, fleets: Readonly<Record<string, Fleet>>, now: Date): PoolVerdict {
  const fleetName = instance.tags[POOL_TAGS.fleet];
  const fleet = fleets[fleetName];
  if (!fleet) return { keep: false, reason: `its fleet ${JSON.stringify(fleetName)} is not one of the stack's fleets` };
  const launchedMs = now.getTime() - instance.launchTime.getTime();
  if (!member) {
    if (launchedMs <= POOL_GRACE_MS) return { keep: true };
    return { keep: false, reason: `a pool instance of fleet ${fleetName} that the pool table does not know, launched ${minutes(launchedMs)} minutes ago` };
  }
  if (member.state === 'claimed') {
    const claimedMs = now.getTime() - Date.parse(member.claimedAt ?? member.updatedAt);
    if (!(claimedMs > POOL_GRACE_MS)) return { keep: true };
    return { keep: false, reason: `claimed by ${member.claimedBy ?? 'an execution'} ${minutes(claimedMs)} minutes ago but never tagged for its job` };
  }
  if (member.state !== 'retiring' && launchedMs > fleet.maxAgeMinutes * 60000 + POOL_GRACE_MS) {
    return { keep: false, reason: `older than its fleet's maxAgeMinutes (${fleet.maxAgeMinutes}) and not replaced by the refill`, retireFrom: member.state };
  }
  return { keep: true };
}

/**
 * When a build on a pool instance began: its claim, when the table holds the claim by this execution; else its launch.
 * A pool instance may idle up to its fleet's maxAgeMinutes before a job claims it, so its launch time says nothing of
 * how long the build has run.
 */
export function buildStart(instance: TaggedInstance, member: PoolMember | undefined): Date {
  const claimed = member?.state === 'claimed' && member.claimedBy === instance.tags[TAGS.execution] && member.claimedAt ? new Date(member.claimedAt) : null;
  return claimed && !Number.isNaN(claimed.getTime()) ? claimed : instance.launchTime;
}
