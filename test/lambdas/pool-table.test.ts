import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  claim, dequeue, enqueue, freeSlot, leaveLine, listMembers, onDemandUntil, oldestQueued, placeInLine, poolTableFromEnv, POOL_TABLE_ENV, putMember, queuePosition, setWaitingTask,
  recordInterruption, releaseRefillLease, removeMember, slotHolders, takeRefillLease, takeSlot, transition,
  type PoolMember, type PoolTable,
} from '../../lambdas/shared/pool-table';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * The pool table's data layer against a real DynamoDB implementation (the local cloud's: dynalite
 * behind DynamoDB's published model; no IAM gate is installed in this process), with the table
 * laid out as the fleets' design says: pk (S) / sk (S), on demand.
 */
let stop: (() => Promise<void>) | undefined;
let t: PoolTable;
let fleetNo = 0;
/** Each test works on a fleet of its own: all its items live under its own partition key. */
const newFleet = () => `fleet-${++fleetNo}`;

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('pool-table-test'));
});
afterAll(() => stop?.());

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function member(fleet: string, n: number, over: Partial<PoolMember> = {}): PoolMember {
  return {
    fleet, instanceId: `i-${String(n).padStart(17, '0')}`, pool: 'hot', state: 'ready', imageId: 'ami-0123456789abcdef0',
    instanceType: 't3.micro', market: 'on-demand', launchedAt: at(n * 1000).toISOString(), updatedAt: T0.toISOString(), ...over,
  };
}

describe('pool instances', () => {
  it('lets 50 concurrent executions claim 10 ready instances: 10 distinct instances, 40 nulls, each item claimed by its winner', async () => {
    // GIVEN 10 ready members of the hot pool
    const fleet = newFleet();
    await Promise.all(Array.from({ length: 10 }, (_, i) => putMember(t, member(fleet, i))));
    // WHEN 50 executions claim at once
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(t, fleet, 'hot', `exec-${i}`, T0)));
    // THEN each instance went to exactly one execution, and the table says which
    const won = results.map((m, i) => ({ m, exec: `exec-${i}` })).filter((r) => r.m !== null);
    expect(won).toHaveLength(10);
    expect(new Set(won.map((r) => r.m!.instanceId)).size).toBe(10);
    expect(results.filter((m) => m === null)).toHaveLength(40);
    const stored = await listMembers(t, fleet);
    for (const { m, exec } of won) {
      expect(m).toMatchObject({ state: 'claimed', claimedBy: exec, claimedAt: T0.toISOString() });
      expect(stored.find((s) => s.instanceId === m!.instanceId)).toMatchObject({ state: 'claimed', claimedBy: exec });
    }
  });

  it('gives an execution that claims again the instance it claimed before, whatever pool it asks, never a second one', async () => {
    const fleet = newFleet();
    await putMember(t, member(fleet, 1, { pool: 'stopped', state: 'stopped' }));
    await putMember(t, member(fleet, 2));
    const first = await claim(t, fleet, 'stopped', 'exec-retried', T0);
    const again = await claim(t, fleet, 'hot', 'exec-retried', at(5000));
    expect(first?.instanceId).toBe(member(fleet, 1).instanceId);
    expect(again).toEqual(first);
    expect((await listMembers(t, fleet)).find((m) => m.instanceId === member(fleet, 2).instanceId)?.state).toBe('ready');
  });

  it('claims the oldest member in the pool\'s claimable state that accept allows, skipping other states, pools and refused members', async () => {
    // GIVEN members launched in the order of their numbers: the oldest ones each disqualified
    const fleet = newFleet();
    await putMember(t, member(fleet, 1, { state: 'warming' }));
    await putMember(t, member(fleet, 2, { pool: 'stopped', state: 'stopped' }));
    await putMember(t, member(fleet, 3, { imageId: 'ami-0stale0000000000' }));
    await putMember(t, member(fleet, 5));
    await putMember(t, member(fleet, 4, { state: 'retiring' }));
    await putMember(t, member(fleet, 6));
    // WHEN claims accept only the current image
    const accept = (m: PoolMember) => m.imageId === 'ami-0123456789abcdef0';
    const hot = await claim(t, fleet, 'hot', 'exec-a', T0, accept);
    const next = await claim(t, fleet, 'hot', 'exec-b', T0, accept);
    const none = await claim(t, fleet, 'hot', 'exec-c', T0, accept);
    const stopped = await claim(t, fleet, 'stopped', 'exec-d', T0);
    // THEN the oldest eligible first, then the next, then none; the stopped pool gives its stopped member
    expect([hot?.instanceId, next?.instanceId, none]).toEqual([member(fleet, 5).instanceId, member(fleet, 6).instanceId, null]);
    expect(stopped).toMatchObject({ instanceId: member(fleet, 2).instanceId, pool: 'stopped', state: 'claimed', claimedBy: 'exec-d' });
  });

  it('moves an instance only from the states given, answers false when its state differs or it is gone, and refuses a second put', async () => {
    const fleet = newFleet();
    const m = member(fleet, 1, { state: 'warming' });
    await putMember(t, m);
    await expect(putMember(t, m)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await transition(t, fleet, m.instanceId, 'ready', 'stopping', at(1))).toBe(false);
    expect(await transition(t, fleet, m.instanceId, ['stopping', 'warming'], 'ready', at(2))).toBe(true);
    expect(await listMembers(t, fleet)).toEqual([{ ...m, state: 'ready', updatedAt: at(2).toISOString() }]);
    await removeMember(t, fleet, m.instanceId);
    await removeMember(t, fleet, m.instanceId);
    expect(await transition(t, fleet, m.instanceId, 'ready', 'retiring', at(3))).toBe(false);
    // A conditional update that fails writes nothing: no item is created for the gone instance.
    expect(await listMembers(t, fleet)).toEqual([]);
  });
});

describe('fleet slots', () => {
  it('gives exactly 3 of 20 concurrent executions a slot when max is 3; a holder taking again keeps its slot', async () => {
    const fleet = newFleet();
    const taken = await Promise.all(Array.from({ length: 20 }, (_, i) => takeSlot(t, fleet, `exec-${i}`, 3)));
    const winners = taken.flatMap((ok, i) => (ok ? [`exec-${i}`] : []));
    expect(winners).toHaveLength(3);
    expect(await slotHolders(t, fleet)).toEqual([...winners].sort());
    expect(await takeSlot(t, fleet, winners[0], 3)).toBe(true);
    expect(await slotHolders(t, fleet)).toHaveLength(3);
  });

  it('frees a slot for the next execution; freeing twice, or on a fleet with no slots item, changes nothing', async () => {
    const fleet = newFleet();
    for (const e of ['a', 'b']) expect(await takeSlot(t, fleet, e, 2)).toBe(true);
    expect(await takeSlot(t, fleet, 'c', 2)).toBe(false);
    await freeSlot(t, fleet, 'a');
    await freeSlot(t, fleet, 'a');
    expect(await slotHolders(t, fleet)).toEqual(['b']);
    expect(await takeSlot(t, fleet, 'c', 2)).toBe(true);
    // The last holder leaving empties the set: the next execution still gets in.
    await freeSlot(t, fleet, 'b');
    await freeSlot(t, fleet, 'c');
    expect(await slotHolders(t, fleet)).toEqual([]);
    expect(await takeSlot(t, fleet, 'd', 1)).toBe(true);
    const empty = newFleet();
    await freeSlot(t, empty, 'nobody');
    const item = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: `FLEET#${empty}` }, sk: { S: 'SLOTS' } } }));
    expect(item.Item).toBeUndefined();
  });
});

describe('queue', () => {
  const entry = (n: number, expiresAt = 4_000_000_000) => ({ executionName: `exec-${n}`, executionArn: `arn:aws:states:us-east-1:123456789012:execution:S-BuildJob:exec-${n}`, jobId: `job-${n}`, taskToken: `token-${n}` as string | null, enqueuedAt: at(n).toISOString(), expiresAt });

  it('hands jobs out oldest first with their positions, and lets exactly one of 10 concurrent callers dequeue an entry', async () => {
    const fleet = newFleet();
    for (const n of [3, 1, 2]) await enqueue(t, fleet, entry(n));
    const queued = await oldestQueued(t, fleet, 10);
    expect(queued.map((q) => q.executionName)).toEqual(['exec-1', 'exec-2', 'exec-3']);
    expect(queued[0]).toEqual({ ...entry(1), fleet, sk: `QUEUE#${at(1).toISOString()}#exec-1` });
    expect(await Promise.all(queued.map((q) => queuePosition(t, fleet, q.sk)))).toEqual([1, 2, 3]);
    expect((await oldestQueued(t, fleet, 2)).map((q) => q.executionName)).toEqual(['exec-1', 'exec-2']);
    const removed = await Promise.all(Array.from({ length: 10 }, () => dequeue(t, fleet, queued[0].sk, 'token-1')));
    expect(removed.filter(Boolean)).toHaveLength(1);
    expect(await queuePosition(t, fleet, queued[2].sk)).toBe(2);
  });

  it('leaves expired entries out when given the time, reading on past pages that held only expired ones', async () => {
    const fleet = newFleet();
    const now = at(60_000);
    const past = Math.floor(now.getTime() / 1000) - 1;
    for (const n of [1, 2, 3, 4, 5]) await enqueue(t, fleet, entry(n, past));
    for (const n of [6, 7, 8]) await enqueue(t, fleet, entry(n));
    expect((await oldestQueued(t, fleet, 2, now)).map((q) => q.executionName)).toEqual(['exec-6', 'exec-7']);
  });

  it('takes an entry out only with the task token it holds, and stores a new wait\'s token only while the entry is there', async () => {
    const fleet = newFleet();
    const joined = await enqueue(t, fleet, { ...entry(1), taskToken: null });
    expect((await oldestQueued(t, fleet, 1))[0].taskToken).toBeNull();
    // A new wait stores its token and the newest job id; whoever read the entry before (no token) cannot take it out.
    expect(await setWaitingTask(t, fleet, joined.sk, 'token-new', 'job-1b')).toBe(true);
    expect(await dequeue(t, fleet, joined.sk, null)).toBe(false);
    expect(await dequeue(t, fleet, joined.sk, 'token-old')).toBe(false);
    expect(await placeInLine(t, fleet, joined.sk)).toBe(1);
    expect(await oldestQueued(t, fleet, 1)).toEqual([expect.objectContaining({ taskToken: 'token-new', jobId: 'job-1b' })]);
    expect(await dequeue(t, fleet, joined.sk, 'token-new')).toBe(true);
    // Gone: no token is stored, and its place is 0.
    expect(await setWaitingTask(t, fleet, joined.sk, 'token-newer', 'job-1c')).toBe(false);
    expect(await placeInLine(t, fleet, joined.sk)).toBe(0);
    expect(await oldestQueued(t, fleet, 1)).toEqual([]);
  });

  it('lets a job leave the line whatever token its entry holds', async () => {
    const fleet = newFleet();
    const first = await enqueue(t, fleet, entry(1));
    const second = await enqueue(t, fleet, entry(2));
    await leaveLine(t, fleet, first.sk);
    expect(await placeInLine(t, fleet, second.sk)).toBe(1);
    await leaveLine(t, fleet, first.sk);
  });

  it('refuses an enqueue time that would not sort as time', async () => {
    await expect(enqueue(t, newFleet(), { ...entry(1), enqueuedAt: '2026-12-01T10:00:00Z' })).rejects.toThrow('enqueuedAt must be an ISO 8601 UTC time with milliseconds');
  });
});

describe('Spot circuit breaker', () => {
  const rule = { threshold: 3, windowMinutes: 10, openMinutes: 30 };
  const min = (m: number) => at(m * 60_000);

  it('opens when the threshold is reached within the window, and closes when its time has passed', async () => {
    const fleet = newFleet();
    expect(await recordInterruption(t, fleet, min(0), rule)).toEqual({ onDemandUntil: null });
    expect(await recordInterruption(t, fleet, min(4), rule)).toEqual({ onDemandUntil: null });
    expect(await onDemandUntil(t, fleet, min(5))).toBeNull();
    expect(await recordInterruption(t, fleet, min(9), rule)).toEqual({ onDemandUntil: min(39).toISOString() });
    expect(await onDemandUntil(t, fleet, min(38))).toBe(min(39).toISOString());
    expect(await onDemandUntil(t, fleet, min(39))).toBeNull();
  });

  it('does not open for interruptions further apart than the window', async () => {
    const fleet = newFleet();
    for (const m of [0, 8, 16, 24, 32]) expect(await recordInterruption(t, fleet, min(m), rule)).toEqual({ onDemandUntil: null });
    expect(await onDemandUntil(t, fleet, min(33))).toBeNull();
  });

  it('counts every one of concurrent interruptions (a writer that lost the race reads again)', async () => {
    const fleet = newFleet();
    const results = await Promise.all([0, 1, 2, 3, 4].map((s) => recordInterruption(t, fleet, at(s * 1000), { threshold: 5, windowMinutes: 10, openMinutes: 30 })));
    const item = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: `FLEET#${fleet}` }, sk: { S: 'BREAKER' } } }));
    expect(item.Item?.interruptions?.L).toHaveLength(5);
    expect(item.Item?.version).toEqual({ N: '5' });
    // Exactly one writer saw the fifth interruption and opened the breaker, 30 minutes after its own.
    const opened = results.flatMap((r) => (r.onDemandUntil ? [r.onDemandUntil] : []));
    expect(opened).toHaveLength(1);
    expect(await onDemandUntil(t, fleet, at(5000))).toBe(opened[0]);
  });
});

describe('refill lease', () => {
  it('goes to one of 10 concurrent refills, is renewed by its holder only, retaken after expiry, and released by its holder only', async () => {
    const fleet = newFleet();
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => takeRefillLease(t, fleet, `req-${i}`, T0, 60)));
    expect(got.filter(Boolean)).toHaveLength(1);
    const holder = `req-${got.indexOf(true)}`;
    expect(await takeRefillLease(t, fleet, holder, at(30_000), 60)).toBe(true);
    expect(await takeRefillLease(t, fleet, 'other', at(89_000), 60)).toBe(false);
    expect(await takeRefillLease(t, fleet, 'other', at(91_000), 60)).toBe(true);
    await releaseRefillLease(t, fleet, holder);
    expect(await takeRefillLease(t, fleet, holder, at(92_000), 60)).toBe(false);
    await releaseRefillLease(t, fleet, 'other');
    expect(await takeRefillLease(t, fleet, holder, at(93_000), 60)).toBe(true);
  });
});

describe('poolTableFromEnv', () => {
  it('names the variable when the table name is not set, and reads it when it is', () => {
    expect(POOL_TABLE_ENV).toBe('POOL_TABLE_NAME');
    expect(() => poolTableFromEnv({})).toThrow('POOL_TABLE_NAME');
    const table = poolTableFromEnv({ POOL_TABLE_NAME: 'Ec2BuildAction-PoolTable' });
    expect(table.tableName).toBe('Ec2BuildAction-PoolTable');
    table.client.destroy();
  });
});
