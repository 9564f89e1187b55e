import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { parseFleets } from '../../lambdas/shared/fleets';
import { sweepFleetSlots } from '../../lambdas/sweeper/fleet-slots';

/**
 * The sweeper's slot sweep trusts "not running" only from DescribeExecution: ListExecutions is eventually consistent
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html), so a holder it leaves out
 * may have started a moment ago.
 */
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const fleets = parseFleets({ capped: { imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 3, maxQueueMinutes: 5 } }, 'fleets');
const table = { client: new DynamoDBClient({ region: 'eu-west-1' }), tableName: 'PoolTable' };
const ddb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
afterEach(() => {
  ddb.reset();
  sfn.reset();
});

it('gives back only the slots of holders Step Functions says are not running, describing only those the listing left out', async () => {
  // GIVEN three holders: one listed as running, one the listing missed but still running, one that ended
  ddb.on(GetItemCommand).resolves({ Item: { holders: { SS: ['listed', 'started-just-now', 'ended'] } } });
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(UpdateItemCommand).resolves({});
  sfn.on(DescribeExecutionCommand, { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:started-just-now` }).resolves({ status: 'RUNNING' });
  sfn.on(DescribeExecutionCommand, { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:ended` }).resolves({ status: 'FAILED' });
  // WHEN the slots are swept with the listing that names only the first
  const out = await sweepFleetSlots(table, fleets, MACHINE, new Set(['listed']), new Date(), new Logger({ serviceName: 'sweeper' }));
  // THEN only the ended one's slot is given back
  expect(out.freed).toEqual(['capped/ended']);
  const deletes = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':me']?.SS);
  expect(deletes).toEqual([['ended']]);
  expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn?.split(':').pop()).sort()).toEqual(['ended', 'started-just-now']);
});

it('gives back the slot of an execution Step Functions does not know', async () => {
  ddb.on(GetItemCommand).resolves({ Item: { holders: { SS: ['gone'] } } });
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(UpdateItemCommand).resolves({});
  sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
  const out = await sweepFleetSlots(table, fleets, MACHINE, new Set(), new Date(), new Logger({ serviceName: 'sweeper' }));
  expect(out.freed).toEqual(['capped/gone']);
});
