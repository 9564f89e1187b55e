import { parseFleets } from '../../lambdas/shared/fleets';
import type { TaggedInstance } from '../../lambdas/shared/ec2';
import type { PoolMember } from '../../lambdas/shared/pool-table';
import { buildStart, POOL_GRACE_MS, poolVerdict } from '../../lambdas/sweeper/pool-members';

/** The sweeper's rules for pool instances, as pure decisions (the local cloud test runs them in the stack). */

const now = new Date('2026-12-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60000);
const fleets = parseFleets({ warm: { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5, maxAgeMinutes: 60 } }, 'fleets');

const instance = (launched: Date, tags: Record<string, string> = {}): TaggedInstance => ({
  instanceId: 'i-0pool',
  state: 'running',
  launchTime: launched,
  tags: { 'ec2-build-action:stack': 'Ec2BuildAction', 'ec2-build-action:fleet': 'warm', 'ec2-build-action:pool': 'hot', ...tags },
});
const member = (state: PoolMember['state'], more: Partial<PoolMember> = {}): PoolMember => ({
  fleet: 'warm',
  instanceId: 'i-0pool',
  pool: 'hot',
  state,
  imageId: 'ami-0a1b2c3d4e5f67890',
  instanceType: 't3.medium',
  market: 'on-demand',
  launchedAt: minutesAgo(30).toISOString(),
  updatedAt: minutesAgo(30).toISOString(),
  ...more,
});

describe('the sweeper and idle pool instances', () => {
  it('keeps a member the table knows in any state but claimed', () => {
    for (const state of ['warming', 'ready', 'stopping', 'stopped', 'retiring'] as const) {
      expect(poolVerdict(instance(minutesAgo(30)), member(state), fleets, now)).toEqual({ keep: true });
    }
  });

  it('terminates a pool instance of a fleet the stack no longer has', () => {
    expect(poolVerdict(instance(minutesAgo(1), { 'ec2-build-action:fleet': 'gone' }), undefined, fleets, now)).toEqual({ keep: false, reason: expect.stringContaining('"gone" is not one of the stack\'s fleets') });
  });

  it('retires, from the state it was seen in, a member that outlived its fleet\'s maxAgeMinutes by the grace', () => {
    expect(poolVerdict(instance(minutesAgo(60 + POOL_GRACE_MS / 60000 + 1)), member('ready'), fleets, now)).toEqual({ keep: false, reason: expect.stringContaining('maxAgeMinutes (60)'), retireFrom: 'ready' });
    // Within the grace the refill replaces it itself.
    expect(poolVerdict(instance(minutesAgo(65)), member('ready'), fleets, now)).toEqual({ keep: true });
  });

  it('keeps a claimed member that is waiting for its job\'s tags within the grace', () => {
    expect(poolVerdict(instance(minutesAgo(30)), member('claimed', { claimedBy: 'e1', claimedAt: minutesAgo(2).toISOString() }), fleets, now)).toEqual({ keep: true });
  });
});

describe('the age of a build on a pool instance', () => {
  it('counts from its claim, not from the launch of the instance that idled in the pool', () => {
    const claimedAt = minutesAgo(5);
    const tagged = instance(minutesAgo(1400), { 'ec2-build-action:execution': 'e1' });
    expect(buildStart(tagged, member('claimed', { claimedBy: 'e1', claimedAt: claimedAt.toISOString() }))).toEqual(claimedAt);
    // A claim by another execution, or none, says nothing of this build: its launch counts.
    expect(buildStart(tagged, member('claimed', { claimedBy: 'e2', claimedAt: claimedAt.toISOString() }))).toEqual(minutesAgo(1400));
    expect(buildStart(tagged, undefined)).toEqual(minutesAgo(1400));
  });
});
