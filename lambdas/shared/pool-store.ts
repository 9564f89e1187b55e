import { DynamoDBClient, QueryCommand, type AttributeValue, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { ENV } from './env';

/**
 * The fleets' pool table, the parts every item kind shares: the table handle, the key layout
 * (all of a fleet's items under `pk = "FLEET#<fleet>"`, one sort key per kind: INSTANCE#<id>,
 * SLOTS, QUEUE#<enqueuedAt>#<execution>, BREAKER, REFILL) and the low-level helpers.
 * pool-table.ts (instances, claims), pool-queue.ts (slots, queue) and pool-breaker.ts (Spot breaker,
 * refill lease) build on it; callers import everything from pool-table.ts.
 */

export interface PoolTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** The environment variable the stack sets to the pool table's name ('POOL_TABLE_NAME'). */
export const POOL_TABLE_ENV = ENV.poolTableName;

/**
 * The pool table from the function's environment (read once, at cold start); throws naming the variable when unset.
 * With `requestTimeoutMs`, each attempt of a request is given up after that long (real ms; the SDK's request handler
 * sets no time limit unless told, and only warns past it without throwOnRequestTimeout:
 * https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler): for the readiness
 * watcher, which a hung read would hold until Lambda ended it.
 */
export function poolTableFromEnv(env: NodeJS.ProcessEnv = process.env, options: { readonly requestTimeoutMs?: number } = {}): PoolTable {
  const tableName = env[POOL_TABLE_ENV];
  if (!tableName) throw new Error(`Environment variable ${POOL_TABLE_ENV} (the fleets' pool table) is not set`);
  const requestHandler = options.requestTimeoutMs ? { requestHandler: { requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true } } : {};
  return { client: new DynamoDBClient(requestHandler), tableName };
}

export type Item = Record<string, AttributeValue>;

export const SK = {
  instancePrefix: 'INSTANCE#',
  queuePrefix: 'QUEUE#',
  slots: 'SLOTS',
  breaker: 'BREAKER',
  refill: 'REFILL',
} as const;

export const pkOf = (fleet: string) => `FLEET#${fleet}`;

/** The primary key of one item of a fleet. */
export function keyOf(fleet: string, sk: string): Item {
  return { pk: { S: pkOf(fleet) }, sk: { S: sk } };
}

/**
 * A conditional write whose condition did not hold: DynamoDB answers ConditionalCheckFailedException
 * (HTTP 400) and changes nothing (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#API_UpdateItem_Errors).
 * Matched by name, not class: a bundle may carry more than one copy of the SDK.
 */
export function isConditionFailed(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/**
 * A conditional write, sent: true when it was made, false when its condition did not hold; any other error is thrown.
 */
export async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (isConditionFailed(err)) return false;
    throw err;
  }
}

/**
 * Every page of a Query. One response holds at most 1 MB (or `Limit` items); the next page starts at
 * the response's LastEvaluatedKey as ExclusiveStartKey, and only a response without LastEvaluatedKey
 * is the last (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html).
 */
export async function* queryPages(t: PoolTable, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>) {
  let start: Item | undefined;
  do {
    const page = await t.client.send(new QueryCommand({ ...input, TableName: t.tableName, ExclusiveStartKey: start }));
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}

/** A fleet's items whose sort key begins with `prefix`, oldest sort key first, read strongly consistent. */
export async function queryPrefix(t: PoolTable, fleet: string, prefix: string, extra: Partial<QueryCommandInput> = {}, limit = Infinity): Promise<Item[]> {
  const items: Item[] = [];
  // Strongly consistent: a claim or a queue wake-up must not act on a write it has not seen yet
  // (ConsistentRead on Query: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-ConsistentRead).
  for await (const page of queryPages(t, {
    ...extra,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ...extra.ExpressionAttributeValues, ':pk': { S: pkOf(fleet) }, ':prefix': { S: prefix } },
    ConsistentRead: true,
  })) {
    items.push(...(page.Items ?? []));
    if (items.length >= limit) return items.slice(0, limit);
  }
  return items;
}

/** A string attribute of an item written by this module; a missing one means the item is not ours. */
export function str(item: Item, name: string): string {
  const v = item[name]?.S;
  if (v === undefined) throw new Error(`Pool table item ${item.pk?.S ?? '?'} / ${item.sk?.S ?? '?'} has no string attribute ${name}`);
  return v;
}

export const optStr = (item: Item, name: string): string | undefined => item[name]?.S;

/**
 * Epoch seconds, the unit of the table's TTL attribute ("the number of seconds elapsed since 12:00:00 AM
 * January 1, 1970 UTC": https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html).
 * The same page: expired items "will still show up in reads, queries, and scans" until deleted, typically
 * within two days, so every reader that cares compares expiresAt itself.
 */
export const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
