import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionally, isConditionFailed, keyOf, optStr, queryPrefix, SK, str, type Item, type PoolTable } from './pool-store';

/**
 * The fleets' pool table: pool instances and their claims (this file), fleet slots and the queue
 * (pool-queue.ts), the Spot circuit breaker and the refill lease (pool-breaker.ts), over the shared
 * key layout (pool-store.ts). All of them are exported from here: callers import this module only.
 */
export * from './pool-store';
export * from './pool-queue';
export * from './pool-breaker';

export type PoolName = 'hot' | 'stopped';
export type PoolState = 'warming' | 'ready' | 'stopping' | 'stopped' | 'claimed' | 'retiring';

export interface PoolMember {
  readonly fleet: string;
  readonly instanceId: string;
  /** The pool it is being made for. */
  readonly pool: PoolName;
  readonly state: PoolState;
  /** The resolved AMI ID it was launched from. */
  readonly imageId: string;
  readonly instanceType: string;
  readonly market: 'on-demand' | 'spot';
  readonly launchedAt: string;
  readonly updatedAt: string;
  /** The execution name that claimed it. */
  readonly claimedBy?: string;
  readonly claimedAt?: string;
}

/** The state in which a member of each pool can be claimed. */
export const CLAIMABLE: Readonly<Record<PoolName, PoolState>> = { hot: 'ready', stopped: 'stopped' };

const instanceSk = (instanceId: string) => `${SK.instancePrefix}${instanceId}`;

// `state` is one of DynamoDB's reserved words, so every expression names attributes through
// ExpressionAttributeNames (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
const NAMES = { '#state': 'state', '#pool': 'pool', '#updatedAt': 'updatedAt' };

function toItem(m: PoolMember): Item {
  const item: Item = {
    ...keyOf(m.fleet, instanceSk(m.instanceId)),
    fleet: { S: m.fleet },
    instanceId: { S: m.instanceId },
    pool: { S: m.pool },
    state: { S: m.state },
    imageId: { S: m.imageId },
    instanceType: { S: m.instanceType },
    market: { S: m.market },
    launchedAt: { S: m.launchedAt },
    updatedAt: { S: m.updatedAt },
  };
  if (m.claimedBy !== undefined) item.claimedBy = { S: m.claimedBy };
  if (m.claimedAt !== undefined) item.claimedAt = { S: m.claimedAt };
  return item;
}

function fromItem(item: Item): PoolMember {
  const claimedBy = optStr(item, 'claimedBy');
  const claimedAt = optStr(item, 'claimedAt');
  return {
    fleet: str(item, 'fleet'),
    instanceId: str(item, 'instanceId'),
    pool: str(item, 'pool') as PoolName,
    state: str(item, 'state') as PoolState,
    imageId: str(item, 'imageId'),
    instanceType: str(item, 'instanceType'),
    market: str(item, 'market') as PoolMember['market'],
    launchedAt: str(item, 'launchedAt'),
    updatedAt: str(item, 'updatedAt'),
    ...(claimedBy !== undefined ? { claimedBy } : {}),
    ...(claimedAt !== undefined ? { claimedAt } : {}),
  };
}

/** Records a new pool instance; fails (ConditionalCheckFailedException) when the instance is already there. */
export async function putMember(t: PoolTable, m: PoolMember): Promise<void> {
  await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: toItem(m), ConditionExpression: 'attribute_not_exists(pk)' }));
}

/** Every pool instance of a fleet, in any state (strongly consistent, all pages). */
export async function listMembers(t: PoolTable, fleet: string): Promise<PoolMember[]> {
  return (await queryPrefix(t, fleet, SK.instancePrefix)).map(fromItem);
}

/**
 * Moves an instance from one of the states `from` to `to`, only if it is in one of them: the
 * condition makes a concurrent claim, refill or sweeper that moved it first win. False when its
 * state differs or the item is gone (a condition on a missing item fails the same way).
 */
export async function transition(t: PoolTable, fleet: string, instanceId: string, from: PoolState | readonly PoolState[], to: PoolState, now: Date): Promise<boolean> {
  const states = typeof from === 'string' ? [from] : [...from];
  // "a IN (b, c, d)": at most 100 values (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Comparators).
  if (states.length === 0) throw new Error(`transition of ${instanceId} to ${to}: no state to move from`);
  const values = Object.fromEntries(states.map((s, i) => [`:from${i}`, { S: s }]));
  return conditionally(() =>
    t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: keyOf(fleet, instanceSk(instanceId)),
        UpdateExpression: 'SET #state = :to, #updatedAt = :now',
        ConditionExpression: `#state IN (${Object.keys(values).join(', ')})`,
        ExpressionAttributeNames: { '#state': NAMES['#state'], '#updatedAt': NAMES['#updatedAt'] },
        ExpressionAttributeValues: { ...values, ':to': { S: to }, ':now': { S: now.toISOString() } },
      }),
    ),
  );
}

/**
 * Claims a member of `pool` for an execution: the oldest (launchedAt) member in the pool's claimable
 * state that `accept` allows, by a conditional update to 'claimed' that only one caller can win; a
 * caller that loses a race moves on to the next candidate. Null when none is left (the launcher then
 * launches cold, never waits).
 *
 * Idempotent per execution: a member already claimed by `executionName` is returned as it is,
 * whatever pool it was claimed from (its `pool` says which), so a retried launcher that asks the hot
 * pool first still gets the stopped instance it claimed before, never a second instance. (Lambda and
 * Step Functions retry after an attempt ended; two attempts of one execution running at once are
 * not guarded against.)
 */
export async function claim(t: PoolTable, fleet: string, pool: PoolName, executionName: string, now: Date, accept: (m: PoolMember) => boolean = () => true): Promise<PoolMember | null> {
  const members = await listMembers(t, fleet);
  const mine = members.find((m) => m.state === 'claimed' && m.claimedBy === executionName);
  if (mine) return mine;
  const claimable = CLAIMABLE[pool];
  const candidates = members
    .filter((m) => m.pool === pool && m.state === claimable && accept(m))
    .sort((a, b) => a.launchedAt.localeCompare(b.launchedAt) || a.instanceId.localeCompare(b.instanceId));
  for (const candidate of candidates) {
    try {
      const out = await t.client.send(
        new UpdateItemCommand({
          TableName: t.tableName,
          Key: keyOf(fleet, instanceSk(candidate.instanceId)),
          UpdateExpression: 'SET #state = :claimed, claimedBy = :by, claimedAt = :now, #updatedAt = :now',
          ConditionExpression: '#state = :claimable AND #pool = :pool',
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':claimed': { S: 'claimed' },
            ':claimable': { S: claimable },
            ':pool': { S: pool },
            ':by': { S: executionName },
            ':now': { S: now.toISOString() },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  return null;
}

/** Forgets a pool instance (it was terminated); fine when it is already gone. */
export async function removeMember(t: PoolTable, fleet: string, instanceId: string): Promise<void> {
  await t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: keyOf(fleet, instanceSk(instanceId)) }));
}
