import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { TAGS } from '../../lambdas/shared/env';
import { sweep } from '../../lambdas/sweeper/sweep';

/**
 * A build held on failure (#14 point 5) in a whole sweep: its action failed long ago (past the event grace), which
 * would stop any other build, and its instance may be older than the longest job; the hold tag keeps it until the
 * hold ends or the stage runs again.
 */
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const NAME = '11111111-2222-3333-4444-555555555555-0123456789ab';
const ARN = `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${NAME}`;
const PE = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const now = new Date('2026-11-22T12:00:00Z');
const pipeline = { name: 'app', executionId: PE, stage: 'Build', action: 'Ec2', actionExecutionId: 'ae-1' };

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);
const ssm = mockClient(SSMClient);
let changes: string[];

function held(holdUntil: string, launchedMinutesAgo = 30) {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'running' }, LaunchTime: new Date(now.getTime() - launchedMinutesAgo * 60000), Tags: [{ Key: TAGS.stack, Value: 'Ec2BuildAction' }, { Key: TAGS.execution, Value: NAME }, { Key: TAGS.holdUntil, Value: holdUntil }] }] }],
  });
  ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
    changes.push(`terminate ${input.InstanceIds.join(',')}`);
    return { TerminatingInstances: [] };
  });
  sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: ARN } as never] });
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify({ jobId: 'j', pipeline }) });
  sfn.on(StopExecutionCommand).callsFake(() => (changes.push('stop'), {}));
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  // Its failure was reported when the hold began: the action failed, an hour ago.
  codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ pipelineExecutionId: PE, actionExecutionId: 'ae-1', stageName: 'Build', actionName: 'Ec2', status: 'Failed', lastUpdateTime: new Date(now.getTime() - 3600_000) }] });
  codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Failed' } });
}
const latest = (pipelineExecutionId: string, actionExecutionId: string, status: string) =>
  codepipeline.on(GetPipelineStateCommand, { name: 'app' }).resolves({ stageStates: [{ stageName: 'Build', latestExecution: { pipelineExecutionId, status: 'Failed' }, actionStates: [{ actionName: 'Ec2', latestExecution: { actionExecutionId, status: status as never } }] }] });
const sweepNow = () =>
  sweep({ stateMachineArn: MACHINE, config: { stackTagValue: 'Ec2BuildAction', maxJobMinutes: 1500, buildDocumentName: 'doc', eventGraceMs: 5 * 60000 }, logger: new Logger({ serviceName: 'sweeper' }), pools: { table: { client: new DynamoDBClient({}), tableName: 'PoolTable' }, fleets: {} } }, now);

beforeEach(() => {
  changes = [];
});
afterEach(() => {
  for (const m of [ec2, sfn, codepipeline, ssm]) m.reset();
});

describe('sweeper: a build held on failure', () => {
  it('is kept while its hold runs, though its action failed past the grace and its instance is older than the longest job', async () => {
    held('2026-11-22T12:20:00.000Z', 1600);
    latest(PE, 'ae-1', 'Failed');
    const out = await sweepNow();
    expect(changes).toEqual([]);
    expect(out.stopped).toEqual([]);
    expect(codepipeline).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'app' });
  });

  it('is ended (the execution, then the instance) when its stage was retried', async () => {
    held('2026-11-22T12:20:00.000Z');
    latest(PE, 'ae-2', 'InProgress');
    const out = await sweepNow();
    expect(changes).toEqual(['stop', 'terminate i-0abc']);
    expect(out.stopped[0].reason).toMatch(/was retried/);
  });

  it('is ended when its hold ran out and the execution still runs', async () => {
    held('2026-11-22T11:59:00.000Z');
    latest(PE, 'ae-1', 'Failed');
    const out = await sweepNow();
    expect(changes).toEqual(['stop', 'terminate i-0abc']);
    expect(out.stopped[0].reason).toMatch(/hold on failure ended/);
  });
});
