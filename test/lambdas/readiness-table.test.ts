import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PoolTable } from '../../lambdas/shared/pool-store';
import { getWaiters } from '../../lambdas/shared/readiness-table';

/** A waiter's item as the table holds it. */
const item = (instanceId: string) => ({
  pk: { S: 'READINESS' },
  sk: { S: `WAIT#${instanceId}` },
  instanceId: { S: instanceId },
  taskToken: { S: `token-${instanceId}` },
  executionName: { S: 'exec' },
  state: { S: 'pending' },
  registeredAt: { S: '2026-01-01T00:00:00.000Z' },
  giveUpAt: { S: '2026-01-01T00:22:00.000Z' },
  renewBy: { S: '2026-01-01T00:45:00.000Z' },
  renewalSeconds: { N: '2700' },
  waitTimeoutSeconds: { N: '4200' },
});

/** A table whose BatchGetItem leaves every key unprocessed the first `throttled` times, as DynamoDB may. */
function throttlingTable(throttled: number): { table: PoolTable; calls: number[] } {
  const calls: number[] = [];
  const send = (command: { input: { RequestItems: Record<string, { Keys: { sk: { S: string } }[] }> } }) => {
    const keys = command.input.RequestItems.t.Keys;
    calls.push(keys.length);
    if (calls.length <= throttled) return Promise.resolve({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: keys } } });
    return Promise.resolve({ Responses: { t: keys.map((k) => item(k.sk.S.slice('WAIT#'.length))) }, UnprocessedKeys: {} });
  };
  return { table: { client: { send } as unknown as DynamoDBClient, tableName: 't' }, calls };
}

describe('reading waiters whole (BatchGetItem)', () => {
  it('asks again for unprocessed keys after a backoff that grows, as DynamoDB asks', async () => {
    // GIVEN a table that leaves the keys unprocessed twice
    const { table, calls } = throttlingTable(2);
    const pauses: number[] = [];
    // WHEN three waiters are read, with every pause's upper bound recorded (the jitter's random draw fixed at its top)
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    const waiters = await getWaiters(table, ['i-1', 'i-2', 'i-3'], (ms) => {
      pauses.push(Math.round(ms));
      return Promise.resolve();
    });
    random.mockRestore();
    // THEN all three come back, after two pauses, the second twice the first (exponential backoff)
    expect(waiters.map((w) => w.instanceId).sort()).toEqual(['i-1', 'i-2', 'i-3']);
    expect(calls).toEqual([3, 3, 3]);
    expect(pauses).toEqual([50, 100]);
  });

  it('gives up after five calls and leaves the rest to the next read, with no pause before the first call', async () => {
    const { table, calls } = throttlingTable(10);
    const pauses: number[] = [];
    const waiters = await getWaiters(table, ['i-1'], (ms) => {
      pauses.push(ms);
      return Promise.resolve();
    });
    expect(waiters).toEqual([]);
    expect(calls).toHaveLength(5);
    expect(pauses).toHaveLength(4);
  });
});
