import { LocalDynamoDb } from '../../local/services/dynamodb';

/** The local DynamoDB's dynalite runs in a process of its own (local/services/dynalite-server.cjs), which stop ends. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('serves DynamoDB from a process of its own, and stop ends that process', async () => {
  const db = new LocalDynamoDb();
  await db.start();
  const pid = db.backendPid!;
  expect(pid).not.toBe(process.pid);
  expect(alive(pid)).toBe(true);
  await db.createTable({ TableName: 'in-its-own-process', KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' });
  expect(await db.call('ListTables', {})).toEqual({ TableNames: ['in-its-own-process'] });
  await db.stop();
  expect(alive(pid)).toBe(false);
});
