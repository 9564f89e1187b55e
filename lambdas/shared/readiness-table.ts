import { BatchGetItemCommand, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionally, epochSeconds, isConditionFailed, queryPages, str, type Item, type PoolTable } from './pool-store';

/**
 * Builds waiting for their instance, in the stack's table (the pool table, which every stack has), under one partition
 * of their own: `pk = "READINESS"`, one item `WAIT#<instanceId>` per waiting build and the watcher's lease `WATCHER`.
 * "Is Instance Ready?" writes a waiter with its task token; EC2's state-change events mark it running or fail it; the
 * one watcher asks Systems Manager about every running waiter together and resumes each build whose agent is online.
 * One partition is plenty: a waiter is written once and read a few times a second by one reader, far under a
 * partition's 3,000 read and 1,000 write units a second
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
 */

import { READINESS_PK } from './readiness-keys';

export { READINESS_PK };
const WAITER_PREFIX = 'WAIT#';
const LEASE_SK = 'WATCHER';

/** What EC2 last said about the instance: pending (its agent cannot be online yet) or running. */
export type WaiterState = 'pending' | 'running';

export interface Waiter {
  readonly instanceId: string;
  /** The "Is Instance Ready?" task's token: the one way to resume (or fail) the build. */
  readonly taskToken: string;
  readonly executionName: string;
  readonly state: WaiterState;
  /** When the task registered (ISO 8601). */
  readonly registeredAt: string;
  /** When the build gives up on the instance (ISO 8601): AgentNotOnline / InstanceNotReady after this. */
  readonly giveUpAt: string;
  /** What the task's output needs besides readyAt (lambdas/shared/readiness.ts readyOutput). */
  readonly renewBy: string;
  readonly renewalSeconds: number;
  readonly waitTimeoutSeconds: number;
  /**
   * The instance's subnet (so its Availability Zone), when Launch Instance knows it (a launch; not a pool member): the
   * watcher asks EC2 about each subnet's instances in calls of their own, so a disrupted zone fails only its own.
   */
  readonly subnetId?: string;
}

const key = (sk: string): Item => ({ pk: { S: READINESS_PK }, sk: { S: sk } });
const waiterKey = (instanceId: string) => key(`${WAITER_PREFIX}${instanceId}`);
// `state` is a DynamoDB reserved word (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
const STATE = { '#state': 'state' };

function toItem(w: Waiter): Item {
  return {
    ...waiterKey(w.instanceId),
    instanceId: { S: w.instanceId },
    taskToken: { S: w.taskToken },
    executionName: { S: w.executionName },
    state: { S: w.state },
    registeredAt: { S: w.registeredAt },
    giveUpAt: { S: w.giveUpAt },
    renewBy: { S: w.renewBy },
    renewalSeconds: { N: String(w.renewalSeconds) },
    waitTimeoutSeconds: { N: String(w.waitTimeoutSeconds) },
    ...(w.subnetId ? { subnetId: { S: w.subnetId } } : {}),
    // Gone a day after the build gave up, if nobody took it out before (TTL: pool-store.ts epochSeconds).
    expiresAt: { N: String(epochSeconds(new Date(Date.parse(w.giveUpAt) + 86_400_000))) },
  };
}

function fromItem(item: Item): Waiter {
  return {
    instanceId: str(item, 'instanceId'),
    taskToken: str(item, 'taskToken'),
    executionName: str(item, 'executionName'),
    state: str(item, 'state') as WaiterState,
    registeredAt: str(item, 'registeredAt'),
    giveUpAt: str(item, 'giveUpAt'),
    renewBy: str(item, 'renewBy'),
    renewalSeconds: Number(item.renewalSeconds?.N),
    waitTimeoutSeconds: Number(item.waitTimeoutSeconds?.N),
    ...(item.subnetId?.S ? { subnetId: item.subnetId.S } : {}),
  };
}

/**
 * Registers a waiting build. Unconditional: a retried "Is Instance Ready?" replaces its earlier token (which Step
 * Functions no longer accepts) with the new one.
 */
export async function putWaiter(t: PoolTable, w: Waiter): Promise<void> {
  await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: toItem(w) }));
}

/** Marks a waiter's instance running; false when no build waits on it (any instance of the account has events). */
export async function markRunning(t: PoolTable, instanceId: string): Promise<boolean> {
  return conditionally(() =>
    t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: waiterKey(instanceId),
        UpdateExpression: 'SET #state = :running',
        ConditionExpression: 'attribute_exists(pk) AND #state <> :running',
        ExpressionAttributeNames: STATE,
        ExpressionAttributeValues: { ':running': { S: 'running' } },
      }),
    ),
  );
}

/**
 * Takes a waiter out, and returns it: whoever takes it is the one who resumes or fails its task, so no build is
 * resumed twice. With `taskToken`, only that registration (a newer one stays). Null when it was not there.
 */
export async function takeWaiter(t: PoolTable, instanceId: string, taskToken?: string): Promise<Waiter | null> {
  try {
    const out = await t.client.send(
      new DeleteItemCommand({
        TableName: t.tableName,
        Key: waiterKey(instanceId),
        ReturnValues: 'ALL_OLD',
        ...(taskToken
          ? { ConditionExpression: 'taskToken = :token', ExpressionAttributeValues: { ':token': { S: taskToken } } }
          : { ConditionExpression: 'attribute_exists(pk)' }),
      }),
    );
    return out.Attributes ? fromItem(out.Attributes) : null;
  } catch (err) {
    if (isConditionFailed(err)) return null;
    throw err;
  }
}

/** Every waiting build (all pages: pool-store.ts queryPages), read strongly consistent. */
export async function listWaiters(t: PoolTable): Promise<Waiter[]> {
  const waiters: Waiter[] = [];
  for await (const page of queryPages(t, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: READINESS_PK }, ':prefix': { S: WAITER_PREFIX } },
    ConsistentRead: true,
  })) {
    waiters.push(...(page.Items ?? []).map(fromItem));
  }
  return waiters;
}

/** What the watcher reads of every waiter at each round: small, the task token (up to 2 KB) left out. */
export type WaiterHead = Pick<Waiter, 'instanceId' | 'state' | 'registeredAt' | 'giveUpAt'>;

/**
 * Every waiting build's head (all pages), read strongly consistent: a ProjectionExpression keeps each round's read to
 * these few attributes (a task token alone may be 2,048 characters:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html), so a round over a few
 * hundred waiting builds reads a few tens of KB, not megabytes.
 */
export async function listWaiterHeads(t: PoolTable): Promise<WaiterHead[]> {
  const heads: WaiterHead[] = [];
  for await (const page of queryPages(t, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': { S: READINESS_PK }, ':prefix': { S: WAITER_PREFIX } },
    ProjectionExpression: 'instanceId, #state, registeredAt, giveUpAt',
    ExpressionAttributeNames: STATE,
    ConsistentRead: true,
  })) {
    for (const item of page.Items ?? []) {
      heads.push({ instanceId: str(item, 'instanceId'), state: str(item, 'state') as WaiterState, registeredAt: str(item, 'registeredAt'), giveUpAt: str(item, 'giveUpAt') });
    }
  }
  return heads;
}

/** BatchGetItem's limit: 100 keys a call (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html). */
const KEYS_PER_BATCH = 100;

/** The first pause before asking again for keys DynamoDB left unprocessed; it doubles each time, with full jitter. */
const UNPROCESSED_BACKOFF_MS = 50;
const UNPROCESSED_ATTEMPTS = 5;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The whole items of these waiters (a watcher reads each once, when it first sees it), 100 a call, strongly
 * consistent. Keys DynamoDB left unprocessed (throttling, the 16 MB limit) are asked for again after an exponential
 * backoff, as the same page asks ("we strongly recommend that you use an exponential backoff algorithm"): 50 ms,
 * doubling, full jitter, 5 calls at most; what is still unprocessed then is read at the watcher's next table read.
 * A waiter gone meanwhile is simply not in the answer.
 */
export async function getWaiters(t: PoolTable, instanceIds: readonly string[], sleep: (ms: number) => Promise<void> = pause): Promise<Waiter[]> {
  const found: Waiter[] = [];
  for (let i = 0; i < instanceIds.length; i += KEYS_PER_BATCH) {
    let keys: Item[] = instanceIds.slice(i, i + KEYS_PER_BATCH).map(waiterKey);
    for (let attempt = 0; keys.length > 0 && attempt < UNPROCESSED_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(Math.random() * UNPROCESSED_BACKOFF_MS * 2 ** (attempt - 1));
      const out = await t.client.send(new BatchGetItemCommand({ RequestItems: { [t.tableName]: { Keys: keys, ConsistentRead: true } } }));
      found.push(...(out.Responses?.[t.tableName] ?? []).map(fromItem));
      keys = out.UnprocessedKeys?.[t.tableName]?.Keys ?? [];
    }
  }
  return found;
}

/** The lease item: its owner, until when it holds (epoch ms), and a TTL a day on. */
const leaseItem = (owner: string, now: Date, ms: number): Item => ({
  ...key(LEASE_SK),
  owner: { S: owner },
  until: { N: String(now.getTime() + ms) },
  expiresAt: { N: String(epochSeconds(now) + 86_400) },
});

/**
 * The watcher's lease: at most one watcher runs. Taken when free or expired (a watcher that died holds it at most
 * `ms`), kept by renewing it before it expires, given back when the watcher stops.
 */
export async function takeLease(t: PoolTable, owner: string, now: Date, ms: number): Promise<boolean> {
  return conditionally(() =>
    t.client.send(
      new PutItemCommand({
        TableName: t.tableName,
        Item: leaseItem(owner, now, ms),
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
        ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
        ExpressionAttributeValues: { ':now': { N: String(now.getTime()) }, ':owner': { S: owner } },
      }),
    ),
  );
}

/**
 * Passes the lease from `from` (the owner a hand-over or a registration named) to `to`, the invocation's own: Lambda
 * may deliver an asynchronous event more than once
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), and only the first copy to take
 * the lease over runs; a duplicate finds it taken (false). True again for the same `to`: the SDK retries a write whose
 * answer timed out or whose connection reset after DynamoDB applied it (the watcher's table gives each attempt 5 s),
 * and that retry must not read as a duplicate, or no watcher would run until the lease lapsed and the schedule came.
 */
export async function handOverLease(t: PoolTable, from: string, to: string, now: Date, ms: number): Promise<boolean> {
  return conditionally(() =>
    t.client.send(
      new PutItemCommand({
        TableName: t.tableName,
        Item: leaseItem(to, now, ms),
        ConditionExpression: '#owner = :from OR #owner = :to',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':from': { S: from }, ':to': { S: to } },
      }),
    ),
  );
}

/** Gives the lease back, if it is still this owner's. */
export async function releaseLease(t: PoolTable, owner: string): Promise<void> {
  await conditionally(() =>
    t.client.send(
      new DeleteItemCommand({
        TableName: t.tableName,
        Key: key(LEASE_SK),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': { S: owner } },
      }),
    ),
  );
}
