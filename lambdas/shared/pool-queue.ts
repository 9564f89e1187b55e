import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { conditionally, epochSeconds, keyOf, pkOf, queryPages, queryPrefix, SK, str, type Item, type PoolTable } from './pool-store';

/**
 * A fleet's concurrency cap (slots) and the queue of jobs waiting for one. Import from pool-table.ts.
 */

export interface QueueEntry {
  readonly fleet: string;
  /** QUEUE#<enqueuedAt>#<executionName>: sort keys order the queue. */
  readonly sk: string;
  readonly executionName: string;
  /** Its execution's ARN: whoever finds the entry's task gone asks Step Functions whether it still runs. */
  readonly executionArn: string;
  readonly jobId: string;
  /**
   * The waiting "Wait For Fleet Slot" task's token: SendTaskSuccess with it starts the job. Null while the job is not
   * waiting on a task: between "Take Fleet Slot" and its first wait, and while it reports its place in line.
   */
  readonly taskToken: string | null;
  /** ISO 8601 with milliseconds (Date.toISOString()): then string order is time order. */
  readonly enqueuedAt: string;
  /** Epoch seconds: the table's TTL attribute. */
  readonly expiresAt: number;
}

// Condition functions attribute_not_exists, size and contains (on a set: "true if the set contains
// the operand"): https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Functions

/**
 * Takes one of the fleet's `max` slots for an execution: ADD adds the name to the String Set
 * `holders` (creating the set, and the item, when absent), so taking twice is harmless
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD).
 * The condition admits it while fewer than `max` hold one, or when it holds one already. A set
 * emptied by DELETE either disappears (a set attribute cannot be empty:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValueUpdate.html) or
 * has size 0: the condition admits either.
 */
export async function takeSlot(t: PoolTable, fleet: string, executionName: string, max: number): Promise<boolean> {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`takeSlot: max must be a whole number of slots, at least 1, got ${max}`);
  return conditionally(() =>
    t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: keyOf(fleet, SK.slots),
        UpdateExpression: 'ADD holders :me',
        ConditionExpression: 'attribute_not_exists(holders) OR size(holders) < :max OR contains(holders, :name)',
        ExpressionAttributeValues: { ':me': { SS: [executionName] }, ':max': { N: String(max) }, ':name': { S: executionName } },
      }),
    ),
  );
}

/**
 * Gives an execution's slot back: DELETE removes the name from the set
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.DELETE).
 * Conditional on the name being there, so freeing twice, or a fleet that never had a slot item,
 * writes nothing (an unconditional UpdateItem would create an empty SLOTS item).
 */
export async function freeSlot(t: PoolTable, fleet: string, executionName: string): Promise<void> {
  await conditionally(() =>
    t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: keyOf(fleet, SK.slots),
        UpdateExpression: 'DELETE holders :me',
        ConditionExpression: 'contains(holders, :name)',
        ExpressionAttributeValues: { ':me': { SS: [executionName] }, ':name': { S: executionName } },
      }),
    ),
  );
}

/** The executions holding a slot of the fleet now. */
export async function slotHolders(t: PoolTable, fleet: string): Promise<string[]> {
  const out = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: keyOf(fleet, SK.slots), ConsistentRead: true }));
  return [...(out.Item?.holders?.SS ?? [])].sort();
}

function queueItem(e: QueueEntry): Item {
  return {
    ...keyOf(e.fleet, e.sk),
    fleet: { S: e.fleet },
    executionName: { S: e.executionName },
    executionArn: { S: e.executionArn },
    jobId: { S: e.jobId },
    ...(e.taskToken === null ? {} : { taskToken: { S: e.taskToken } }),
    enqueuedAt: { S: e.enqueuedAt },
    expiresAt: { N: String(e.expiresAt) },
  };
}

function fromQueueItem(item: Item): QueueEntry {
  return {
    fleet: str(item, 'fleet'),
    sk: str(item, 'sk'),
    executionName: str(item, 'executionName'),
    executionArn: str(item, 'executionArn'),
    jobId: str(item, 'jobId'),
    taskToken: item.taskToken?.S ?? null,
    enqueuedAt: str(item, 'enqueuedAt'),
    expiresAt: Number(item.expiresAt?.N),
  };
}

/**
 * Puts a job at the end of the fleet's queue. Its sort key starts with the enqueue time, so a
 * Query in ascending sort-key order reads the queue oldest first; the time must be
 * Date.toISOString()'s form (fixed width, UTC, milliseconds), or string order would not be time order.
 */
export async function enqueue(t: PoolTable, fleet: string, entry: Omit<QueueEntry, 'fleet' | 'sk'>): Promise<QueueEntry> {
  const at = new Date(entry.enqueuedAt);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== entry.enqueuedAt) {
    throw new RangeError(`enqueue: enqueuedAt must be an ISO 8601 UTC time with milliseconds (Date.toISOString()), got ${JSON.stringify(entry.enqueuedAt)}`);
  }
  const queued: QueueEntry = { ...entry, fleet, sk: `${SK.queuePrefix}${entry.enqueuedAt}#${entry.executionName}` };
  await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: queueItem(queued) }));
  return queued;
}

/**
 * The `limit` oldest entries of the queue. With `now`, entries whose expiresAt has passed are left
 * out: TTL deletes them late, and until then they show up in queries.
 */
export async function oldestQueued(t: PoolTable, fleet: string, limit: number, now?: Date): Promise<QueueEntry[]> {
  if (limit < 1) return [];
  // Ascending sort-key order is Query's default (ScanIndexForward true:
  // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-ScanIndexForward).
  // Limit caps the items read per page, before the filter: queryPrefix reads on until it has `limit`.
  const filter = now ? { FilterExpression: 'expiresAt >= :now', ExpressionAttributeValues: { ':now': { N: String(epochSeconds(now)) } } } : {};
  const items = await queryPrefix(t, fleet, SK.queuePrefix, { ...filter, ScanIndexForward: true, Limit: limit }, limit);
  return items.map(fromQueueItem);
}

/**
 * Takes an entry off the queue: true only for the one caller whose delete removed it, and only while it still holds the
 * task token the caller read (`taskToken`; null: none). A job that stored a new token since then is not taken off by
 * whoever read the old one: it finds its slot itself (lambdas/fleet-slots/slots.ts).
 */
export async function dequeue(t: PoolTable, fleet: string, sk: string, taskToken: string | null): Promise<boolean> {
  const condition =
    taskToken === null
      ? { ConditionExpression: 'attribute_exists(sk) AND attribute_not_exists(taskToken)' }
      : { ConditionExpression: 'attribute_exists(sk) AND taskToken = :token', ExpressionAttributeValues: { ':token': { S: taskToken } } };
  return conditionally(() => t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: keyOf(fleet, sk), ...condition })));
}

/**
 * Stores the token of the job's new wait (and its newest job id) in its entry; false when the entry is gone (a freed
 * slot went to the job meanwhile, or nobody took it out before its expiry).
 */
export async function setWaitingTask(t: PoolTable, fleet: string, sk: string, taskToken: string, jobId: string): Promise<boolean> {
  return conditionally(() =>
    t.client.send(
      new UpdateItemCommand({
        TableName: t.tableName,
        Key: keyOf(fleet, sk),
        UpdateExpression: 'SET taskToken = :token, jobId = :job',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeValues: { ':token': { S: taskToken }, ':job': { S: jobId } },
      }),
    ),
  );
}

/** Whether the execution holds one of the fleet's slots now. */
export async function holdsSlot(t: PoolTable, fleet: string, executionName: string): Promise<boolean> {
  return (await slotHolders(t, fleet)).includes(executionName);
}

/**
 * An entry's place in the queue, 1 for the next to go: the number of entries whose sort key is at
 * most its own. Select COUNT returns the number of matching items, not the items
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-Select);
 * each page's Count covers that page only, so the pages are summed
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html#Query.Count).
 */
export async function queuePosition(t: PoolTable, fleet: string, sk: string): Promise<number> {
  let count = 0;
  for await (const page of queryPages(t, {
    Select: 'COUNT',
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :me',
    ExpressionAttributeValues: { ':pk': { S: pkOf(fleet) }, ':first': { S: SK.queuePrefix }, ':me': { S: sk } },
    ConsistentRead: true,
  })) {
    count += page.Count ?? 0;
  }
  return count;
}

/** An entry's place in the queue (queuePosition), or 0 when it is not in the queue (any more). */
export async function placeInLine(t: PoolTable, fleet: string, sk: string): Promise<number> {
  const out = await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: keyOf(fleet, sk), ConsistentRead: true, ProjectionExpression: 'sk' }));
  return out.Item ? queuePosition(t, fleet, sk) : 0;
}

/** Takes a job's own entry out of the queue, whatever task token it holds: the job gives up waiting. */
export async function leaveLine(t: PoolTable, fleet: string, sk: string): Promise<void> {
  await t.client.send(new DeleteItemCommand({ TableName: t.tableName, Key: keyOf(fleet, sk) }));
}
