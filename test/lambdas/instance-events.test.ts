import { SendTaskFailureCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { PoolTable } from '../../lambdas/shared/pool-store';
import { listWaiters, putWaiter, type Waiter } from '../../lambdas/shared/readiness-table';
import { invoke } from '../fixtures/lambda';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * EC2's state-change events (lambdas/instance-events/handler.ts) against a real DynamoDB implementation (dynalite):
 * they settle only builds that wait in the readiness table, and change nothing for the account's other instances.
 */
let stop: () => Promise<void>;
let t: PoolTable;
const sfn = mockClient(SFNClient);
let handler: typeof import('../../lambdas/instance-events/handler').handler;

const waiter = (instanceId: string): Waiter => ({
  instanceId,
  taskToken: `token-${instanceId}`,
  executionName: 'exec',
  state: 'pending',
  registeredAt: new Date().toISOString(),
  giveUpAt: new Date(Date.now() + 1_320_000).toISOString(),
  renewBy: new Date(Date.now() + 2_700_000).toISOString(),
  renewalSeconds: 2700,
  waitTimeoutSeconds: 4200,
});
const change = (instanceId: string, state: string, time = new Date().toISOString()) => ({
  version: '0',
  time,
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  detail: { 'instance-id': instanceId, state },
});

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('instance-events-test'));
  process.env.POOL_TABLE_NAME = t.tableName;
  // The handler builds its own client from the environment: point it at the same dynalite.
  const endpoint = await t.client.config.endpoint!();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDEVENTSTEST', AWS_SECRET_ACCESS_KEY: 'secret' });
  ({ handler } = await import('../../lambdas/instance-events/handler'));
});
afterAll(() => stop());
beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe("EC2's state-change events", () => {
  it('mark a waiting build\'s instance running, for the watcher to ask about its agent', async () => {
    await putWaiter(t, waiter('i-0aaaaaaaaaaaaaaa1'));
    expect(await invoke(handler, change('i-0aaaaaaaaaaaaaaa1', 'running'))).toBe('marked-running');
    expect((await listWaiters(t)).find((w) => w.instanceId === 'i-0aaaaaaaaaaaaaaa1')?.state).toBe('running');
  });

  it('fail a waiting build at once with InstanceLost when its instance stops or terminates', async () => {
    await putWaiter(t, waiter('i-0aaaaaaaaaaaaaaa2'));
    expect(await invoke(handler, change('i-0aaaaaaaaaaaaaaa2', 'shutting-down'))).toBe('failed-build');
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'token-i-0aaaaaaaaaaaaaaa2', error: 'InstanceLost' });
    expect((await listWaiters(t)).map((w) => w.instanceId)).not.toContain('i-0aaaaaaaaaaaaaaa2');
  });

  it('change nothing for an instance no build waits for (any instance of the account has events), and write no item for it', async () => {
    expect(await invoke(handler, change('i-0bbbbbbbbbbbbbbb1', 'running'))).toBe('not-waited-for');
    expect(await invoke(handler, change('i-0bbbbbbbbbbbbbbb2', 'terminated'))).toBe('not-waited-for');
    expect((await listWaiters(t)).map((w) => w.instanceId)).not.toEqual(expect.arrayContaining(['i-0bbbbbbbbbbbbbbb1']));
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('ignore a lost state older than the wait (a stopped pool member\'s "stopped", delivered late or retried after a build started it)', async () => {
    await putWaiter(t, waiter('i-0aaaaaaaaaaaaaaa4'));
    const before = new Date(Date.now() - 120_000).toISOString();
    expect(await invoke(handler, change('i-0aaaaaaaaaaaaaaa4', 'stopped', before))).toBe('older-than-the-wait');
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect((await listWaiters(t)).map((w) => w.instanceId)).toContain('i-0aaaaaaaaaaaaaaa4');
  });

  it('leave the waiter when the failure cannot be sent (throttled), for the safety net to find', async () => {
    await putWaiter(t, waiter('i-0aaaaaaaaaaaaaaa3'));
    sfn.on(SendTaskFailureCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(invoke(handler, change('i-0aaaaaaaaaaaaaaa3', 'terminated'))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect((await listWaiters(t)).map((w) => w.instanceId)).toContain('i-0aaaaaaaaaaaaaaa3');
  });
});
