import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { AccountConcurrency } from '../../local/lambda/account-concurrency';
import { ApiMeter } from '../../local/services/api-meter';
import { AwsError } from '../../local/services/aws-error';
import { LocalDynamoDb } from '../../local/services/dynamodb';
import { GATE, METER, serveJsonProtocol, serveQueryProtocol, type LocalServer } from '../../local/services/http';

/** The API budget's meter: every request a local service receives, and every Lambda invocation, per operation and second. */

const servers: LocalServer[] = [];
let meter: ApiMeter | undefined;

afterEach(async () => {
  meter?.uninstall();
  meter = undefined;
  GATE.authorize = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (endpoint: string, headers: Record<string, string>, body: string) => fetch(endpoint, { method: 'POST', headers, body });

describe('the API meter', () => {
  it('counts every request of both protocols, the ones the gate refuses too', async () => {
    // GIVEN a meter on a simulated clock, a JSON service and a Query service, and a gate that refuses one operation
    let now = 0;
    meter = new ApiMeter(() => now);
    meter.install(new AccountConcurrency());
    GATE.authorize = (call) => (call.operation === 'ListActivities' ? Promise.reject(new AwsError('AccessDeniedException', 'no', 400)) : Promise.resolve());
    const json = await serveJsonProtocol('StepFunctions', { ListStateMachines: () => ({ stateMachines: [] }), ListActivities: () => ({ activities: [] }) }, 'application/x-amz-json-1.0');
    const query = await serveQueryProtocol({ DescribeRegions: () => '<DescribeRegionsResponse/>' }, 'EC2');
    servers.push(json, query);
    const target = (op: string) => ({ 'x-amz-target': `AWSStepFunctions.${op}`, 'content-type': 'application/x-amz-json-1.0' });
    // WHEN three calls come in the first second, one of them refused, and one in the next
    expect((await post(json.endpoint, target('ListStateMachines'), '{}')).status).toBe(200);
    expect((await post(json.endpoint, target('ListActivities'), '{}')).status).toBe(400);
    expect((await post(query.endpoint, { 'content-type': 'application/x-www-form-urlencoded' }, 'Action=DescribeRegions&Version=2016-11-15')).status).toBe(200);
    now = 1.5;
    expect((await post(json.endpoint, target('ListStateMachines'), '{}')).status).toBe(200);
    // THEN each is counted under its service and operation, and its peak is per second of the meter's clock
    const report = meter.report();
    expect(report.totalCalls).toBe(4);
    expect(meter.operation('StepFunctions:ListStateMachines')).toEqual(expect.objectContaining({ calls: 2, peakPerSecond: 1 }));
    expect(meter.operation('StepFunctions:ListActivities')).toEqual(expect.objectContaining({ calls: 1, peakPerSecond: 1 }));
    expect(meter.operation('EC2:DescribeRegions')).toEqual(expect.objectContaining({ calls: 1, peakPerSecond: 1, closestSeconds: null }));
    // AND the closest two calls of an operation in a row are 1.5 s of its clock apart
    expect(meter.operation('StepFunctions:ListStateMachines').closestSeconds).toBe(1.5);
  });

  it('tells the shortest time between two calls of an operation in a row, on its clock', () => {
    // GIVEN a meter on a simulated clock
    let now = 10;
    meter = new ApiMeter(() => now);
    // WHEN one operation is called at 10, 10.25, 10.3 and 11 s, another once
    for (const at of [10, 10.25, 10.3, 11]) {
      now = at;
      meter.record('SSM', 'DescribeInstanceInformation');
    }
    meter.record('EC2', 'DescribeInstances');
    // THEN the closest are 0.05 s apart (10.25 and 10.3), and a single call has none
    expect(meter.operation('SSM:DescribeInstanceInformation').closestSeconds).toBeCloseTo(0.05, 9);
    expect(meter.operation('SSM:DescribeInstanceInformation').peakPerSecond).toBe(3);
    expect(meter.operation('EC2:DescribeInstances').closestSeconds).toBeNull();
  });

  it('counts DynamoDB requests at its proxy in front of dynalite', async () => {
    // GIVEN the local DynamoDB and a meter
    const dynamodb = new LocalDynamoDb();
    const endpoint = await dynamodb.start();
    meter = new ApiMeter(() => 0);
    meter.install(new AccountConcurrency());
    try {
      // WHEN a client lists tables twice
      const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'LOCALTest', secretAccessKey: 'x' } });
      await client.send(new ListTablesCommand({}));
      await client.send(new ListTablesCommand({}));
      client.destroy();
      // THEN both are counted, in one second
      expect(meter.operation('DynamoDB:ListTables')).toEqual(expect.objectContaining({ calls: 2, peakPerSecond: 2 }));
    } finally {
      await dynamodb.stop();
    }
  });

  it("counts Lambda invocations (which never cross HTTP here) and takes the account's peak concurrency", async () => {
    const account = new AccountConcurrency();
    meter = new ApiMeter(() => 0);
    meter.install(account);
    // WHEN two invocations overlap and a third follows
    await Promise.all([account.enter('a', true), account.enter('b', false)]);
    account.leave('a');
    account.leave('b');
    await account.enter('a', true);
    account.leave('a');
    // THEN
    expect(meter.operation('Lambda:Invoke').calls).toBe(3);
    expect(meter.report().peakLambdaConcurrency).toBe(2);
  });

  it('takes the peak over whole seconds of its clock, and stops counting once uninstalled', () => {
    let now = 10.2;
    meter = new ApiMeter(() => now);
    meter.install(new AccountConcurrency());
    for (const t of [10.2, 10.9, 11.0, 11.1, 11.99, 12.0]) {
      now = t;
      METER.onCall?.('SSM', 'DescribeInstanceInformation');
    }
    meter.uninstall();
    METER.onCall?.('SSM', 'DescribeInstanceInformation');
    expect(meter.operation('SSM:DescribeInstanceInformation')).toEqual(expect.objectContaining({ calls: 6, peakPerSecond: 3 }));
  });
});
