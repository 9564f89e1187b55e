import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionally, epochSeconds, isConditionFailed, keyOf, SK, type Item, type PoolTable } from './pool-store';

/**
 * A fleet's Spot circuit breaker and its refill lease. Import from pool-table.ts.
 */

export interface BreakerRule {
  /** Interruptions within the window that open the breaker. */
  readonly threshold: number;
  readonly windowMinutes: number;
  /** How long an open breaker sends the fleet's launches to on-demand. */
  readonly openMinutes: number;
}

const MINUTE_MS = 60_000;
/** Lost races retried before giving up: each loser re-reads, so this bounds contention, not correctness. */
const BREAKER_ATTEMPTS = 10;

async function readBreaker(t: PoolTable, fleet: string): Promise<Item | undefined> {
  const out = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: keyOf(fleet, SK.breaker), ConsistentRead: true }));
  return out.Item;
}

const laterOf = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/**
 * Records a Spot interruption. The item keeps the interruptions within `windowMinutes` of `at` (at
 * most `threshold` of them: enough to decide), and when they number `threshold` the breaker opens
 * until `at + openMinutes` (an open breaker is only ever extended). Read-modify-write under
 * optimistic locking: the write is conditional on the version read, and a writer that lost the race
 * reads again (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/BestPractices_OptimisticLocking.html).
 * Returns when the breaker is open until, or null when it is closed at `at`.
 */
export async function recordInterruption(t: PoolTable, fleet: string, at: Date, rule: BreakerRule): Promise<{ onDemandUntil: string | null }> {
  if (!(rule.threshold >= 1)) throw new RangeError(`recordInterruption: threshold must be at least 1, got ${rule.threshold}`);
  const since = new Date(at.getTime() - rule.windowMinutes * MINUTE_MS).toISOString();
  for (let attempt = 0; attempt < BREAKER_ATTEMPTS; attempt++) {
    const item = await readBreaker(t, fleet);
    const version = Number(item?.version?.N ?? 0);
    const previous = (item?.interruptions?.L ?? []).map((v) => v.S ?? '').filter(Boolean);
    const kept = [...previous, at.toISOString()].filter((time) => time >= since).sort().slice(-rule.threshold);
    const opened = kept.length >= rule.threshold ? new Date(at.getTime() + rule.openMinutes * MINUTE_MS).toISOString() : null;
    const until = laterOf(item?.onDemandUntil?.S ?? null, opened);
    const next: Item = {
      ...keyOf(fleet, SK.breaker),
      interruptions: { L: kept.map((S) => ({ S })) },
      version: { N: String(version + 1) },
      ...(until ? { onDemandUntil: { S: until } } : {}),
    };
    try {
      await t.client.send(
        new PutItemCommand({
          TableName: t.tableName,
          Item: next,
          // The first writer finds no item; every later one the version it read.
          ConditionExpression: item ? '#version = :read' : 'attribute_not_exists(pk)',
          ...(item ? { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':read': { N: String(version) } } } : {}),
        }),
      );
      return { onDemandUntil: until !== null && until > at.toISOString() ? until : null };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  throw new Error(`recordInterruption: fleet ${fleet}'s breaker changed under ${BREAKER_ATTEMPTS} attempts in a row`);
}

/** Until when the fleet launches on-demand only; null when the breaker is closed (never opened, or its time has passed). */
export async function onDemandUntil(t: PoolTable, fleet: string, now: Date): Promise<string | null> {
  const until = (await readBreaker(t, fleet))?.onDemandUntil?.S ?? null;
  return until !== null && until > now.toISOString() ? until : null;
}

/**
 * Takes the fleet's refill lease for `seconds`, so one refill runs per fleet at a time: a
 * conditional put that succeeds when there is no lease, when it has expired, or when `holder`
 * holds it already (renewal). expiresAt is also the table's TTL attribute, but TTL deletes late,
 * so the condition compares it itself.
 */
export async function takeRefillLease(t: PoolTable, fleet: string, holder: string, now: Date, seconds: number): Promise<boolean> {
  return conditionally(() =>
    t.client.send(
      new PutItemCommand({
        TableName: t.tableName,
        Item: { ...keyOf(fleet, SK.refill), holder: { S: holder }, expiresAt: { N: String(epochSeconds(now) + Math.ceil(seconds)) } },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR #holder = :holder',
        ExpressionAttributeNames: { '#holder': 'holder' },
        ExpressionAttributeValues: { ':now': { N: String(epochSeconds(now)) }, ':holder': { S: holder } },
      }),
    ),
  );
}

/** Gives the lease back, only if `holder` still holds it (a lease taken over after expiry is not ours to end). */
export async function releaseRefillLease(t: PoolTable, fleet: string, holder: string): Promise<void> {
  await conditionally(() =>
    t.client.send(
      new DeleteItemCommand({
        TableName: t.tableName,
        Key: keyOf(fleet, SK.refill),
        ConditionExpression: '#holder = :holder',
        ExpressionAttributeNames: { '#holder': 'holder' },
        ExpressionAttributeValues: { ':holder': { S: holder } },
      }),
    ),
  );
}
