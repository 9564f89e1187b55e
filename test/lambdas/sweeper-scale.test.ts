import { CodePipelineClient, GetPipelineExecutionCommand, ListActionExecutionsCommand, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { sweep } from '../../lambdas/sweeper/sweep';
import { BUILDS_ASKED_PER_SWEEP, LEFTOVERS_DESCRIBED_PER_SWEEP } from '../../lambdas/sweeper/share';
import { INSTANCES_PER_TERMINATE_CALL, TERMINATIONS_PER_SWEEP } from '../../lambdas/sweeper/terminate';

/**
 * The sweeper's calls stay bounded as builds grow (#16): its listings are filtered and paginated, and the questions it
 * must ask per build (input, CodePipeline, finished commands) are asked of at most BUILDS_ASKED_PER_SWEEP builds a
 * sweep, in turns, so every build is asked about within a few sweeps.
 */

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const execArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${name}`;
const now = new Date('2026-11-22T12:00:00Z');
const nameOf = (i: number) => `${String(i).padStart(8, '0')}-2222-3333-4444-555555555555-0123456789ab`;
const sweepNow = () =>
  sweep(
    {
      stateMachineArn: MACHINE,
      config: { stackTagValue: 'Ec2BuildAction', maxJobMinutes: 1500, buildDocumentName: 'Ec2BuildAction-RunBuild', eventGraceMs: 5 * 60000 },
      logger: new Logger({ serviceName: 'sweeper', logLevel: 'ERROR' }),
      pools: { table: { client: new DynamoDBClient({}), tableName: 'PoolTable' }, fleets: {} },
    },
    now,
  );

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);
const ssm = mockClient(SSMClient);
const dynamodb = mockClient(DynamoDBClient);

/**
 * `n` running builds, each on its instance; `pipelineExecutions` of them (builds share them in turn). EC2 and Step
 * Functions answer in pages as they do: EC2 at most MaxResults (all of them when none is given), Step Functions 100
 * executions unless maxResults says more.
 */
function builds(n: number, pipelineExecutions = n, ageMinutes = 30) {
  const names = Array.from({ length: n }, (_, i) => nameOf(i));
  const all = names.map((name, i) => ({
    InstanceId: `i-${String(i).padStart(17, '0')}`,
    State: { Name: 'running' as const },
    LaunchTime: new Date(now.getTime() - ageMinutes * 60000),
    Tags: [
      { Key: 'ec2-build-action:stack', Value: 'Ec2BuildAction' },
      { Key: 'ec2-build-action:execution', Value: name },
    ],
  }));
  ec2.on(DescribeInstancesCommand).callsFake((input: { MaxResults?: number; NextToken?: string }) => {
    const from = Number(input.NextToken ?? 0);
    const to = input.MaxResults ? from + input.MaxResults : all.length;
    return { Reservations: [{ Instances: all.slice(from, to) }], ...(to < all.length ? { NextToken: String(to) } : {}) };
  });
  ec2.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).callsFake((input: { maxResults?: number; nextToken?: string }) => {
    const from = Number(input.nextToken ?? 0);
    const to = from + (input.maxResults || 100);
    const executions = names.slice(from, to).map((name) => ({ executionArn: execArn(name), name, status: 'RUNNING', startDate: now }));
    return { executions, ...(to < names.length ? { nextToken: String(to) } : {}) };
  });
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    const i = names.indexOf(input.executionArn.split(':').pop() ?? '');
    const pipeline = { name: 'app', executionId: `pe-${i % pipelineExecutions}`, stage: 'Build', action: 'Ec2' };
    return { status: 'RUNNING', input: JSON.stringify({ jobId: nameOf(i).slice(0, 36), pipeline }) };
  });
  codepipeline.on(ListActionExecutionsCommand).callsFake((input: { filter: { pipelineExecutionId: string } }) => ({
    actionExecutionDetails: [{ pipelineExecutionId: input.filter.pipelineExecutionId, stageName: 'Build', actionName: 'Ec2', status: 'InProgress', startTime: now }],
  }));
  codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'InProgress' } });
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  return names;
}

/** The pool table's cursor item, as DynamoDB would keep it between sweeps. */
function cursorTable() {
  let after: string | undefined;
  dynamodb.on(GetItemCommand).callsFake(() => (after ? { Item: { after: { S: after } } } : {}));
  dynamodb.on(UpdateItemCommand).callsFake((input: { ExpressionAttributeValues: Record<string, { S: string }> }) => {
    after = input.ExpressionAttributeValues[':after'].S;
    return {};
  });
}

/** The executions a sweep asked CodePipeline or Step Functions about, by name. */
const describedNames = () => new Set(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn?.split(':').pop()));

afterEach(() => {
  for (const m of [ec2, sfn, codepipeline, ssm, dynamodb]) m.reset();
});

describe('sweeper: calls bounded in the number of builds', () => {
  it('lists the stack\'s instances filtered by its tag and state, in pages of 1000, every page', async () => {
    // GIVEN 2,500 instances of the stack
    builds(2500);
    cursorTable();
    // WHEN
    const out = await sweepNow();
    // THEN three DescribeInstances calls (never an unpaginated one), and every instance was seen
    const calls = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(3);
    for (const input of calls) {
      expect(input.MaxResults).toBe(1000);
      expect(input.Filters).toEqual(expect.arrayContaining([{ Name: 'tag:ec2-build-action:stack', Values: ['Ec2BuildAction'] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }]));
    }
    expect(out.kept).toBe(2500);
  });

  it('leaves a sweep whose instance listing EC2 throttles to the next sweep, as a warning, not a function error', async () => {
    builds(3);
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    const out = await sweepNow();
    expect(out).toMatchObject({ terminated: [], kept: 0, stopped: [] });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    // Any other refusal still fails the sweep, loudly.
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    await expect(sweepNow()).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
  });

  it('lists the running executions in pages of 1000, and describes only this sweep\'s turn of them', async () => {
    // GIVEN 1,000 running builds, each with its instance
    builds(1000);
    cursorTable();
    // WHEN one sweep runs
    await sweepNow();
    // THEN one page of running executions, and the per-build questions for at most BUILDS_ASKED_PER_SWEEP builds
    expect(sfn.commandCalls(ListExecutionsCommand, { statusFilter: 'RUNNING' }).map((c) => c.args[0].input.maxResults)).toEqual([1000]);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(BUILDS_ASKED_PER_SWEEP);
    expect(ssm.commandCalls(ListCommandsCommand)).toHaveLength(BUILDS_ASKED_PER_SWEEP);
    expect(codepipeline.commandCalls(ListActionExecutionsCommand)).toHaveLength(BUILDS_ASKED_PER_SWEEP);
    expect(codepipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(BUILDS_ASKED_PER_SWEEP);
  });

  it('takes turns: consecutive sweeps ask about different builds until every one was asked about', async () => {
    // GIVEN 300 running builds
    const names = builds(300);
    cursorTable();
    const asked: Set<string | undefined>[] = [];
    // WHEN three sweeps run
    for (let i = 0; i < 3; i++) {
      await sweepNow();
      asked.push(describedNames());
      sfn.resetHistory();
    }
    // THEN each asked about its share only, and together they asked about every build
    for (const share of asked) expect(share.size).toBe(BUILDS_ASKED_PER_SWEEP);
    expect(new Set(asked.flatMap((s) => [...s]))).toEqual(new Set(names));
  });

  it('asks CodePipeline once per pipeline execution, whatever the number of its builds', async () => {
    // GIVEN 100 running builds in 5 pipeline executions
    builds(100, 5);
    // WHEN
    await sweepNow();
    // THEN five of each question, and no cursor is needed for so few builds
    expect(codepipeline.commandCalls(ListActionExecutionsCommand)).toHaveLength(5);
    expect(codepipeline.commandCalls(GetPipelineExecutionCommand)).toHaveLength(5);
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('releases an execution whose end event was lost with the instances its own listing found: no DescribeInstances per ended execution', async () => {
    // GIVEN no running build, and one execution that ended ABORTED 10 minutes ago (its event lost), whose instance still runs
    const names = builds(1);
    sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfn.on(ListExecutionsCommand, { statusFilter: 'ABORTED' }).resolves({
      executions: [{ executionArn: execArn(names[0]), name: names[0], status: 'ABORTED', startDate: new Date(now.getTime() - 30 * 60000), stopDate: new Date(now.getTime() - 10 * 60000) } as never],
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED', input: JSON.stringify({ jobId: names[0].slice(0, 36) }), error: 'Aborted', cause: 'stopped' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 3, timestamp: now, type: 'TaskStateExited', stateExitedEventDetails: { name: 'Acknowledge Job', output: JSON.stringify({ ack: { status: 'InProgress' } }) } }] });
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    // WHEN
    const out = await sweepNow();
    // THEN its instance was terminated and its job failed, with one DescribeInstances in all: the stack's listing
    expect(out.jobsFailed).toBe(1);
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-00000000000000000'] });
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it('describes at most LEFTOVERS_DESCRIBED_PER_SWEEP executions of leftover instances a sweep', async () => {
    // GIVEN 300 instances whose executions ended (not listed as running)
    builds(300);
    sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({ TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId, PreviousState: { Name: 'running' } })) }));
    // WHEN one sweep runs
    const out = await sweepNow();
    // THEN it asked Step Functions about a few of them and terminated those; the others wait for the next sweeps
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(LEFTOVERS_DESCRIBED_PER_SWEEP);
    expect(out.terminated).toHaveLength(LEFTOVERS_DESCRIBED_PER_SWEEP);
  });

  it('terminates a large leak in calls of 100 and at most 500 a sweep, the rest at the next sweeps', async () => {
    // GIVEN 1,200 instances older than the longest allowed job
    builds(1200, 1200, 2000);
    ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({ TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId, PreviousState: { Name: 'running' } })) }));
    // WHEN one sweep runs
    const out = await sweepNow();
    // THEN it terminated 500 of them, 100 a call: within both of TerminateInstances' buckets (request 100, resources 1,000)
    const calls = ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds ?? []);
    expect(calls.every((ids) => ids.length <= INSTANCES_PER_TERMINATE_CALL)).toBe(true);
    expect(calls.flat()).toHaveLength(TERMINATIONS_PER_SWEEP);
    expect(out.terminated).toHaveLength(TERMINATIONS_PER_SWEEP);
  });
});
