import type { LaunchConfig } from '../shared/config';
import type { PoolSizes } from '../shared/fleet-sizes';
import type { Fleet, Market } from '../shared/fleets';
import { agentsOnline, describeFleetInstances, instanceStatesById, launchPoolInstances, stopPoolInstance, terminateInstances, type FleetInstance } from '../shared/pool-ec2';
import { listMembers, putMember, removeMember, transition, type PoolMember, type PoolName, type PoolState, type PoolTable } from '../shared/pool-table';

/** What one fleet's refill works with, fixed for the run. */
export interface FleetContext {
  readonly table: PoolTable;
  readonly name: string;
  readonly fleet: Fleet;
  readonly sizes: PoolSizes;
  /** The fleet's image now, resolved to an AMI ID: members launched from another are stale. */
  readonly imageId: string;
  /** The fleet's market, or on-demand while its Spot circuit breaker is open. */
  readonly market: Market;
  readonly launch: LaunchConfig;
  readonly rootVolume: { deviceName: string; sizeGiB: number } | null;
}

/** What a run did to one fleet, counted over its passes. */
export interface FleetCounts {
  launched: number;
  ready: number;
  stopped: number;
  retired: number;
  removed: number;
  /** Where EC2 had no room, when the pools could not be filled. */
  refusals: string[];
}

/**
 * How long a member may be missing from DescribeInstances before it counts as gone: EC2 is eventually
 * consistent and may not list an instance launched a moment ago (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 * Only for an instance EC2 does not know at all; one it calls terminated is gone at once.
 */
const UNLISTED_GRACE_MS = 5 * 60_000;
/**
 * How long a member may stay 'warming' (its agent not online) before it counts as dead. An agent registers
 * within seconds of boot on an AMI that has it; one that has not after this long probably never will.
 */
export const WARMING_LIMIT_MS = 15 * 60_000;

const POOLS: readonly PoolName[] = ['hot', 'stopped'];
const MINUTE_MS = 60_000;

const ageMs = (m: PoolMember, now: Date) => now.getTime() - Date.parse(m.launchedAt);

/** Why a member must be replaced whatever its state (too old, or launched from another image), or null. */
function staleness(ctx: FleetContext, m: PoolMember, now: Date): string | null {
  if (m.imageId !== ctx.imageId) return `launched from ${m.imageId}, the fleet's image is ${ctx.imageId}`;
  if (ageMs(m, now) > ctx.fleet.maxAgeMinutes * MINUTE_MS) return `older than maxAgeMinutes (${ctx.fleet.maxAgeMinutes})`;
  return null;
}

/**
 * Takes a member out of the pool: a conditional move to 'retiring' from the state it was seen in (so a
 * member a job claimed meanwhile is never touched), then terminate and forget it. A run that dies between
 * the steps leaves a 'retiring' member, which the next run finishes. False when the move lost a race.
 */
async function retire(ctx: FleetContext, m: PoolMember, now: Date, counts: FleetCounts): Promise<boolean> {
  if (m.state !== 'retiring' && !(await transition(ctx.table, ctx.name, m.instanceId, m.state, 'retiring', now))) return false;
  await terminateInstances([m.instanceId]);
  await removeMember(ctx.table, ctx.name, m.instanceId);
  counts.retired++;
  return true;
}

/**
 * Whether a member EC2 did not list is gone: terminated, or unknown to EC2 for longer than its listings can lag.
 * `unlisted` holds what EC2 says of the members the fleet's listing left out, asked for all of them at once (refillPass).
 */
function isGone(m: PoolMember, now: Date, unlisted: ReadonlyMap<string, string>): boolean {
  const state = unlisted.get(m.instanceId);
  if (state === undefined) return ageMs(m, now) > UNLISTED_GRACE_MS;
  return state === 'terminated' || state === 'shutting-down';
}

/** Moves a member on, and returns it as it now stands; null when it left the pool (or a claim took it first). */
async function settle(ctx: FleetContext, m: PoolMember, instance: FleetInstance | undefined, online: boolean, unlisted: ReadonlyMap<string, string>, now: Date, counts: FleetCounts): Promise<PoolMember | null> {
  if (m.state === 'retiring') return (await retire(ctx, m, now, counts), null);
  if (instance === undefined || instance.state === 'shutting-down') {
    if (instance === undefined && !isGone(m, now, unlisted)) return m;
    // Gone behind the table's back (terminated by hand, a Spot interruption): forget it, conditionally.
    if (await transition(ctx.table, ctx.name, m.instanceId, m.state, 'retiring', now)) {
      await removeMember(ctx.table, ctx.name, m.instanceId);
      counts.removed++;
    }
    return null;
  }
  if (staleness(ctx, m, now) !== null) return (await retire(ctx, m, now, counts), null);
  // Hibernate only what was launched for it (a fleet may have turned hibernate on since): whether EC2 refuses
  // Hibernate for an instance not enabled at launch or shuts it down normally, the docs differ; either way this works.
  const hibernate = ctx.fleet.hibernate && instance.hibernationConfigured;
  const move = async (to: PoolState): Promise<PoolMember | null> => ((await transition(ctx.table, ctx.name, m.instanceId, m.state, to, now)) ? { ...m, state: to } : null);
  const running = instance.state === 'running';
  switch (m.state) {
    case 'warming': {
      if (running && online) {
        if (m.pool === 'hot') {
          const ready = await move('ready');
          if (ready) counts.ready++;
          return ready;
        }
        // Recorded before the stop, so a run that dies in between leaves 'stopping' on a running instance: stopped again below.
        const stopping = await move('stopping');
        if (stopping) await stopPoolInstance(m.instanceId, hibernate);
        return stopping;
      }
      const booting = instance.state === 'pending' || running;
      return booting && ageMs(m, now) <= WARMING_LIMIT_MS ? m : (await retire(ctx, m, now, counts), null);
    }
    case 'ready':
      // Dead: stopped, or its agent went offline. A job would wait for it in vain.
      return running && online ? m : (await retire(ctx, m, now, counts), null);
    case 'stopping':
      if (instance.state === 'stopped') {
        const stopped = await move('stopped');
        if (stopped) counts.stopped++;
        return stopped;
      }
      if (running) await stopPoolInstance(m.instanceId, hibernate);
      return running || instance.state === 'stopping' ? m : (await retire(ctx, m, now, counts), null);
    case 'stopped':
      // A stopped member that runs was started by nobody who claimed it (a claim moves it first): not what the pool holds.
      return instance.state === 'stopped' ? m : (await retire(ctx, m, now, counts), null);
    default:
      return null;
  }
}

/**
 * Launches `count` members of `pool` and records them as warming; returns how many and whether EC2 had room
 * for all. An instance that cannot be recorded is terminated at once.
 */
async function launchMembers(ctx: FleetContext, pool: PoolName, count: number, counts: FleetCounts): Promise<{ launched: number; all: boolean }> {
  const { launched, refusals } = await launchPoolInstances({
    fleetName: ctx.name,
    fleet: ctx.fleet,
    imageId: ctx.imageId,
    count,
    pool,
    market: ctx.market,
    launchTemplateId: ctx.launch.launchTemplateId,
    subnetIds: ctx.launch.subnetIds,
    stackTagValue: ctx.launch.stackTagValue,
    rootVolume: ctx.rootVolume,
  });
  for (const i of launched) {
    const at = new Date().toISOString();
    const member: PoolMember = { fleet: ctx.name, instanceId: i.instanceId, pool, state: 'warming', imageId: ctx.imageId, instanceType: i.instanceType, market: i.market, launchedAt: i.launchedAt, updatedAt: at };
    try {
      await putMember(ctx.table, member);
    } catch (err) {
      await terminateInstances([i.instanceId]);
      throw err;
    }
    counts.launched++;
  }
  counts.refusals.push(...refusals);
  return { launched: launched.length, all: refusals.length === 0 };
}

/** The members to retire when a pool holds more than its size: those still warming first, then the oldest. */
function excess(members: PoolMember[], size: number): PoolMember[] {
  const order = (m: PoolMember) => (m.state === 'warming' ? 0 : 1);
  return [...members].sort((a, b) => order(a) - order(b) || a.launchedAt.localeCompare(b.launchedAt)).slice(0, Math.max(0, members.length - size));
}

export interface PassResult {
  /** Members still warming or stopping: the run keeps watching while there are any. */
  readonly busy: number;
  /** Whether every launch found room (a run launches no more once EC2 refused). */
  readonly launchedAll: boolean;
}

/**
 * A claimed member's item outlives its build: the state machine terminates the instance (Release Instance) and
 * nothing else deletes the item. Once EC2 lists the instance no more (the listing leaves terminated ones out) and the
 * claim is older than the listing can lag, the build is over: the item goes, conditionally on still being claimed.
 * No call per member: the fleet's listing is the one the pass reads anyway.
 */
async function forgetFinishedClaims(ctx: FleetContext, members: readonly PoolMember[], instances: ReadonlyMap<string, FleetInstance>, now: Date, counts: FleetCounts): Promise<void> {
  for (const m of members) {
    if (m.state !== 'claimed' || instances.has(m.instanceId)) continue;
    if (now.getTime() - Date.parse(m.claimedAt ?? m.updatedAt) <= UNLISTED_GRACE_MS) continue;
    if (await transition(ctx.table, ctx.name, m.instanceId, 'claimed', 'retiring', now)) {
      await removeMember(ctx.table, ctx.name, m.instanceId);
      counts.removed++;
    }
  }
}

/**
 * One look at a fleet: the table against EC2 and Systems Manager, each member moved on, the pools
 * trimmed to their sizes and filled up. Claimed members belong to their jobs and are left alone;
 * instances of the fleet that the table does not know are the sweeper's. Safe to repeat at any point.
 */
export async function refillPass(ctx: FleetContext, now: Date, mayLaunch: boolean, counts: FleetCounts): Promise<PassResult> {
  const all = await listMembers(ctx.table, ctx.name);
  const members = all.filter((m) => m.state !== 'claimed');
  const instances = new Map((await describeFleetInstances(ctx.launch.stackTagValue, ctx.name)).map((i) => [i.instanceId, i]));
  await forgetFinishedClaims(ctx, all, instances, now, counts);
  const asked = members.filter((m) => (m.state === 'warming' || m.state === 'ready') && instances.get(m.instanceId)?.state === 'running').map((m) => m.instanceId);
  const online = asked.length > 0 ? await agentsOnline(asked) : new Set<string>();
  // Members the listing left out (launched a moment ago, or gone): asked about together, not one call each.
  const unlistedIds = members.filter((m) => m.state !== 'retiring' && !instances.has(m.instanceId)).map((m) => m.instanceId);
  const unlisted = unlistedIds.length > 0 ? await instanceStatesById(unlistedIds) : new Map<string, string>();
  const live: PoolMember[] = [];
  for (const m of members) {
    const after = await settle(ctx, m, instances.get(m.instanceId), online.has(m.instanceId), unlisted, now, counts);
    if (after) live.push(after);
  }
  let launchedAll = true;
  let launchedNow = 0;
  const kept: PoolMember[] = [];
  for (const pool of POOLS) {
    const size = pool === 'hot' ? ctx.sizes.hotPool : ctx.sizes.stoppedPool;
    const inPool = live.filter((m) => m.pool === pool);
    const extra = new Set(excess(inPool, size));
    for (const m of extra) if (!(await retire(ctx, m, now, counts))) extra.delete(m);
    kept.push(...inPool.filter((m) => !extra.has(m)));
    const missing = size - inPool.length + extra.size;
    if (missing > 0 && mayLaunch && launchedAll) {
      const { launched, all } = await launchMembers(ctx, pool, missing, counts);
      launchedNow += launched;
      launchedAll = all;
    }
  }
  // Members launched now are warming too.
  const busy = kept.filter((m) => m.state === 'warming' || m.state === 'stopping').length + launchedNow;
  return { busy, launchedAll };
}
