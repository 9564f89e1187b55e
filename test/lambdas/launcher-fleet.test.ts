import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobFleet } from '../../lambdas/shared/types';
import { buildJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

/**
 * "Launch Instance" for a fleet's job: it takes one of the fleet's slots first (none free: NoFreeFleetSlot, nothing
 * launched), and looks for pool members only on a fleet that keeps pools.
 */
Object.assign(process.env, { LAUNCH_TEMPLATE_ID: 'lt-0123', SUBNET_IDS: '', STACK_TAG_VALUE: 'Ec2BuildAction', ROOT_VOLUME_GIB: '40', POOL_TABLE_NAME: 'PoolTable' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/launcher/handler') as typeof import('../../lambdas/launcher/handler');

const ddb = mockClient(DynamoDBClient);
const ec2 = mockClient(EC2Client);
const fleet = (pools: JobFleet['pools']): JobFleet => ({
  name: 'linux', imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', maxConcurrent: 2, maxQueueMinutes: 5,
  queueTimeoutSeconds: 300, lineRefreshSeconds: 300, lineFirstReportSeconds: 30, pools,
});
const event = (pools: JobFleet['pools']) => ({ job: buildJob({ fleet: fleet(pools) }), executionName: 'job-1-exec' });

beforeEach(() => {
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0a1b2c3d4e5f67890', RootDeviceName: '/dev/xvda', State: 'available' }] });
  ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0abc', InstanceType: 't3.medium', LaunchTime: new Date('2026-12-01T00:00:00Z') }] });
});
afterEach(() => {
  ddb.reset();
  ec2.reset();
});

it('takes the fleet slot (for this execution, within maxConcurrent), then launches; no pool lookup on a fleet without pools', async () => {
  const instance = await invoke(handler, event([]), 'launcher');
  expect(instance).toMatchObject({ instanceId: 'i-0abc', capacitySource: 'launched' });
  const take = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
  expect(take).toMatchObject({ TableName: 'PoolTable', UpdateExpression: 'ADD holders :me', ExpressionAttributeValues: expect.objectContaining({ ':me': { SS: ['job-1-exec'] }, ':max': { N: '2' } }) });
  expect(ddb).not.toHaveReceivedCommand(QueryCommand);
});

it('looks for members only in the pools the fleet keeps (one look at the members per pool)', async () => {
  await invoke(handler, event(['stopped']), 'launcher');
  expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  ddb.resetHistory();
  await invoke(handler, event(['hot', 'stopped']), 'launcher');
  expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
});

it('launches nothing when every slot is taken: NoFreeFleetSlot, for the state machine to put the job in line', async () => {
  ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
  await expect(invoke(handler, event(['hot', 'stopped']), 'launcher')).rejects.toMatchObject({ name: 'NoFreeFleetSlot', message: expect.stringContaining('fleet "linux"') });
  expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  expect(ddb).not.toHaveReceivedCommand(QueryCommand);
});

it('turns a launch EC2 still throttles after the SDK\'s retries into Throttled, which the state machine retries', async () => {
  ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } }));
  await expect(invoke(handler, event([]), 'launcher')).rejects.toMatchObject({ name: 'Throttled', message: expect.stringContaining('RequestLimitExceeded') });
});
