import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { PoolTable } from '../shared/pool-table';

/**
 * How many running builds one sweep asks about: their input (DescribeExecution, which ListExecutions does not give),
 * whether CodePipeline still waits for them (ListActionExecutions, GetPipelineExecution) and whether their command
 * finished without its event (ListCommands). Those questions are per build; asked of every build at every sweep they
 * would grow with the builds (1,000 builds: about 4,000 calls a sweep, more than a 2-minute function gets through) and
 * spend the account's shared buckets. DescribeExecution's bucket holds 250 (refilled 10 a second) outside the three
 * largest Regions, 300 (15 a second) in them ("Quotas related to API action throttling",
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): these 100 and the leftovers' 24 below,
 * one after another, stay under half of the smaller bucket. CodePipeline and Systems Manager publish no rate quota for
 * their calls here: the same bound keeps them flat. Beyond 100 builds the sweeps take turns (`sweepShare`): each
 * running build is asked about at least every ceil(builds / 100) sweeps, and the age limit still bounds every instance.
 */
export const BUILDS_ASKED_PER_SWEEP = 100;

/**
 * How many executions of leftover instances (their execution not listed as running) one sweep describes; a larger
 * leak is described, and terminated, over the next sweeps. With BUILDS_ASKED_PER_SWEEP: 124 DescribeExecution a sweep.
 */
export const LEFTOVERS_DESCRIBED_PER_SWEEP = 24;

/** The table item that remembers where the last sweep's turn ended: outside every fleet's partition (FLEET#…). */
const CURSOR_KEY = { pk: { S: 'SWEEPER' }, sk: { S: 'TURN' } };

/**
 * The running builds (execution names) this sweep asks about: all of them when they are `perSweep` or fewer (no table
 * call); else the next `perSweep` in name order after the name the last sweep's turn ended on, wrapping around, and the
 * new end is recorded. New builds take their place in the order as they come, so every build waits at most one round
 * (plus the builds started meanwhile) for its turn. A cursor that cannot be read starts the round at the first name:
 * bounded still, and the next sweep moves on.
 */
export async function sweepShare(table: PoolTable, names: readonly string[], perSweep = BUILDS_ASKED_PER_SWEEP): Promise<string[]> {
  if (names.length <= perSweep) return [...names];
  const sorted = [...new Set(names)].sort();
  let after = '';
  try {
    const out = await table.client.send(new GetItemCommand({ TableName: table.tableName, Key: CURSOR_KEY, ConsistentRead: true }));
    after = out.Item?.after?.S ?? '';
  } catch {
    // Read again at the next sweep; this one starts the round over.
  }
  const start = sorted.findIndex((n) => n > after);
  const from = start < 0 ? 0 : start;
  const share = Array.from({ length: Math.min(perSweep, sorted.length) }, (_, i) => sorted[(from + i) % sorted.length]);
  await table.client.send(
    new UpdateItemCommand({ TableName: table.tableName, Key: CURSOR_KEY, UpdateExpression: 'SET #after = :after', ExpressionAttributeNames: { '#after': 'after' }, ExpressionAttributeValues: { ':after': { S: share[share.length - 1] } } }),
  );
  return share;
}
