import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  InvalidJobStateException,
  JobNotFoundException,
  ListActionExecutionsCommand,
  PipelineExecutionNotFoundException,
  PipelineNotFoundException,
  PutJobFailureResultCommand,
} from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { executionInput } from '../../lambdas/poller/dispatch';
import { sweep } from '../../lambdas/sweeper/sweep';

/** The sweeper asks CodePipeline about every running build, and fails the jobs of executions whose end event was lost. */

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const execArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${name}`;
const JOB_ID = '11111111-2222-3333-4444-555555555555';
const NAME = `${JOB_ID}-0123456789ab`;
const PE = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const pipeline = { name: 'app', executionId: PE, stage: 'Build', action: 'Ec2' };
const now = new Date('2026-11-22T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60000);
const sweepNow = () =>
  sweep({ stateMachineArn: MACHINE, config: { stackTagValue: 'Ec2BuildAction', maxJobMinutes: 1500, buildDocumentName: 'Ec2BuildAction-RunBuild', eventGraceMs: 5 * 60000 }, logger: new Logger({ serviceName: 'sweeper' }), pools: { table: { client: new DynamoDBClient({}), tableName: 'PoolTable' }, fleets: {} } }, now);

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);
const ssm = mockClient(SSMClient);
/** The order of the calls that change something. */
let changes: string[];

/** EC2 with these build instances (execution tag → instance id) until they are terminated. */
function instances(byExecution: Record<string, string>) {
  const live = new Map(Object.entries(byExecution).map(([execution, id]) => [id, execution]));
  ec2.on(DescribeInstancesCommand).callsFake((input: { Filters: { Name: string; Values: string[] }[] }) => {
    const byTag = input.Filters.find((f) => f.Name === 'tag:ec2-build-action:execution')?.Values[0];
    const found = [...live].filter(([, execution]) => !byTag || execution === byTag);
    const Instances = found.map(([InstanceId, execution]) => ({
      InstanceId,
      State: { Name: 'running' },
      LaunchTime: minutesAgo(30),
      Tags: [{ Key: 'ec2-build-action:stack', Value: 'Ec2BuildAction' }, { Key: 'ec2-build-action:execution', Value: execution }],
    }));
    return { Reservations: Instances.length ? [{ Instances }] : [] };
  });
  ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
    changes.push(`terminate ${input.InstanceIds.join(',')}`);
    for (const id of input.InstanceIds) live.delete(id);
    return { TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId, PreviousState: { Name: 'running' } })) };
  });
}

/** A running build execution of this stage/action. */
function running(name: string, ref: object = pipeline) {
  sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING' }).resolves({ executions: [{ executionArn: execArn(name) } as never] });
  sfn.on(DescribeExecutionCommand, { executionArn: execArn(name) }).resolves({ status: 'RUNNING', input: JSON.stringify({ jobId: JOB_ID, pipeline: ref }) });
}

const action = (status: string, startTime = minutesAgo(30), stageName = 'Build', actionName = 'Ec2') => ({ pipelineExecutionId: PE, stageName, actionName, status, startTime }) as never;

beforeEach(() => {
  changes = [];
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(StopExecutionCommand).callsFake((input: { executionArn: string }) => {
    changes.push(`stop ${input.executionArn.split(':').pop()}`);
    return { stopDate: now };
  });
  codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'InProgress' } });
});
afterEach(() => {
  ec2.reset();
  sfn.reset();
  codepipeline.reset();
  ssm.reset();
});

describe('sweeper: builds CodePipeline no longer waits for', () => {
  it('stops the build, then terminates its instance, of an action that was abandoned without an ABANDONED event', async () => {
    // GIVEN a running build whose action CodePipeline lists as Abandoned
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Succeeded', minutesAgo(40), 'Source', 'Src'), action('Abandoned')] });
    // WHEN
    const out = await sweepNow();
    // THEN CodePipeline was asked about this pipeline execution, and the build is gone: the execution first (or it would take its vanished instance for a lost Spot instance and launch another)
    expect(codepipeline).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'app', filter: { pipelineExecutionId: PE } });
    expect(changes).toEqual([`stop ${NAME}`, 'terminate i-0abc']);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: execArn(NAME), cause: expect.stringMatching(/no longer waits.*Build\/Ec2 .* is Abandoned/) });
    expect(out.terminated).toEqual([{ instanceId: 'i-0abc', reason: expect.stringContaining('is Abandoned') }]);
    expect(out.stopped).toHaveLength(1);
  });

  it('stops a build whose action failed (its job timed out), even one still waiting for its instance', async () => {
    instances({});
    running(NAME);
    codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('Failed')] });
    const out = await sweepNow();
    expect(changes).toEqual([`stop ${NAME}`]);
    expect(out.stopped).toEqual([{ executionArn: execArn(NAME), reason: expect.stringContaining('is Failed') }]);
  });

  it('stops a build whose pipeline execution was superseded', async () => {
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [action('InProgress')] });
    codepipeline.on(GetPipelineExecutionCommand, { pipelineName: 'app', pipelineExecutionId: PE }).resolves({ pipelineExecution: { status: 'Superseded' } });
    const out = await sweepNow();
    expect(changes).toEqual([`stop ${NAME}`, 'terminate i-0abc']);
    expect(out.stopped[0].reason).toMatch(/execution .* is Superseded/);
  });

  it('keeps a build whose action is in progress, including while its pipeline is stopping and waiting for it', async () => {
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify({ jobId: JOB_ID, pipeline }) });
    // The newest action execution of the stage/action counts (a retried stage lists the old one too); a second page is read.
    codepipeline.on(ListActionExecutionsCommand, { nextToken: undefined }).resolves({ actionExecutionDetails: [action('Failed', minutesAgo(50))], nextToken: 'p2' });
    codepipeline.on(ListActionExecutionsCommand, { nextToken: 'p2' }).resolves({ actionExecutionDetails: [action('InProgress', minutesAgo(20))] });
    codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Stopping' } });
    const out = await sweepNow();
    expect(changes).toEqual([]);
    expect(out).toMatchObject({ terminated: [], kept: 1, stopped: [] });
  });

  it("stops the build of a failed action execution once its stage is retried, by the action execution its job named", async () => {
    // GIVEN the poller recorded the job's action execution
    const input = executionInput({ id: JOB_ID, nonce: '1', data: { pipelineContext: { pipelineName: 'app', pipelineExecutionId: PE, stage: { name: 'Build' }, action: { name: 'Ec2', actionExecutionId: 'ae-first' } } } });
    expect(input.pipeline).toEqual({ ...pipeline, actionExecutionId: 'ae-first' });
    instances({ [NAME]: 'i-0abc' });
    running(NAME, input.pipeline);
    // WHEN its action execution failed (job timed out) and a retry of the stage started another, still in progress
    codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [{ ...(action('InProgress', minutesAgo(10)) as object), actionExecutionId: 'ae-retry' }, { ...(action('Failed', minutesAgo(70)) as object), actionExecutionId: 'ae-first' }],
    });
    const out = await sweepNow();
    // THEN this build is stopped: CodePipeline waits for the retry's, not for it
    expect(changes).toEqual([`stop ${NAME}`, 'terminate i-0abc']);
    expect(out.stopped[0].reason).toContain('is Failed');
  });

  it('leaves an action abandoned less than the grace period ago to its ABANDONED event', async () => {
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify({ jobId: JOB_ID, pipeline }) });
    codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [{ ...(action('Abandoned') as object), lastUpdateTime: minutesAgo(1) }] });
    const out = await sweepNow();
    expect(changes).toEqual([]);
    expect(out).toMatchObject({ kept: 1, stopped: [] });
  });

  it.each([
    ['the pipeline was deleted', new PipelineNotFoundException({ message: 'no pipeline app', $metadata: {} })],
    ['the pipeline execution does not exist', new PipelineExecutionNotFoundException({ message: 'no such execution', $metadata: {} })],
  ])('stops a build when %s', async (_case, error) => {
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    codepipeline.on(ListActionExecutionsCommand).rejects(error);
    const out = await sweepNow();
    expect(changes).toEqual([`stop ${NAME}`, 'terminate i-0abc']);
    expect(out.stopped[0].reason).toMatch(/no longer exists/);
  });

  it.each([
    ['throttled', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
    ['denied', Object.assign(new Error('not authorized to perform codepipeline:ListActionExecutions'), { name: 'AccessDeniedException' })],
  ])('keeps the build, and finishes the sweep, when CodePipeline cannot be asked (%s)', async (_case, error) => {
    instances({ [NAME]: 'i-0abc' });
    running(NAME);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: JSON.stringify({ jobId: JOB_ID, pipeline }) });
    codepipeline.on(ListActionExecutionsCommand).rejects(error);
    const out = await sweepNow();
    expect(changes).toEqual([]);
    expect(out).toMatchObject({ kept: 1, stopped: [] });
  });
});

describe('sweeper: executions that ended without their status event', () => {
  const history = { events: [{ id: 3, timestamp: now, type: 'TaskStateExited' as const, stateExitedEventDetails: { name: 'Acknowledge Job', output: JSON.stringify({ ack: { status: 'InProgress' } }) } }] };

  /** An execution that ended ABORTED `stoppedMinutesAgo`, its event lost; CodePipeline takes one result for its job. */
  function abortedWithoutEvent(stoppedMinutesAgo: number) {
    sfn.on(ListExecutionsCommand, { statusFilter: 'ABORTED' }).resolves({
      executions: [
        { executionArn: execArn(NAME), name: NAME, status: 'ABORTED', startDate: minutesAgo(stoppedMinutesAgo + 20), stopDate: minutesAgo(stoppedMinutesAgo) } as never,
        // Listed newest first: one that started before any execution could still have been running stops the paging.
        { executionArn: execArn('ancient'), name: 'ancient', status: 'ABORTED', startDate: minutesAgo(3000), stopDate: minutesAgo(2) } as never,
      ],
      nextToken: 'never-read',
    });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn(NAME) }).resolves({
      status: 'ABORTED',
      stopDate: minutesAgo(stoppedMinutesAgo),
      input: JSON.stringify({ jobId: JOB_ID, pipeline }),
      error: 'Aborted',
      cause: 'stopped in the console',
    });
    sfn.on(GetExecutionHistoryCommand).resolves(history);
    let reported = false;
    codepipeline.on(PutJobFailureResultCommand).callsFake(() => {
      if (reported) throw new InvalidJobStateException({ message: 'job is Failed', $metadata: {} });
      reported = true;
      return {};
    });
  }

  it('releases its instance and fails its job once; a second sweep changes nothing', async () => {
    // GIVEN an execution stopped 10 minutes ago whose status event never reached execution-events
    instances({ [NAME]: 'i-0abc' });
    abortedWithoutEvent(10);
    // WHEN the sweeper runs twice
    const first = await sweepNow();
    const second = await sweepNow();
    // THEN the first sweep did what execution-events would have done
    expect(first.jobsFailed).toBe(1);
    expect(first.terminated).toEqual([{ instanceId: 'i-0abc', reason: expect.stringContaining('ended ABORTED and its status event was lost') }]);
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: expect.objectContaining({ type: 'SystemUnavailable', message: expect.stringMatching(/ended ABORTED .*stopped in the console.*instance was terminated/) }),
    });
    // AND the second found nothing left to do
    expect(second).toEqual({ terminated: [], kept: 0, resumed: 0, stopped: [], jobsFailed: 0, slots: { freed: [], dequeued: [], resumed: 0 }, leakedInstanceMinutes: 0 });
    expect(changes).toEqual(['terminate i-0abc']);
    expect(sfn).not.toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: execArn('ancient') });
    expect(sfn).not.toHaveReceivedCommandWith(ListExecutionsCommand, { nextToken: 'never-read' });
    for (const statusFilter of ['FAILED', 'TIMED_OUT', 'ABORTED']) expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: MACHINE, statusFilter });
  });

  it.each([
    ['before the look-back', 61],
    ['less than the grace period ago (left to its event)', 2],
  ])('leaves executions that stopped %s alone', async (_case, stoppedMinutesAgo) => {
    instances({});
    abortedWithoutEvent(stoppedMinutesAgo);
    const out = await sweepNow();
    expect(out.jobsFailed).toBe(0);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  it('leaves the instance of an execution that ended less than the grace period ago to its event, so one actor reports and releases', async () => {
    instances({ [NAME]: 'i-0abc' });
    abortedWithoutEvent(1);
    const out = await sweepNow();
    expect(changes).toEqual([]);
    expect(out).toMatchObject({ kept: 1, jobsFailed: 0, terminated: [] });
  });

  it('accepts that the job is gone with its pipeline, and still finishes the sweep', async () => {
    instances({});
    abortedWithoutEvent(10);
    codepipeline.on(PutJobFailureResultCommand).rejects(new JobNotFoundException({ message: 'no job', $metadata: {} }));
    await expect(sweepNow()).resolves.toMatchObject({ jobsFailed: 0 });
  });

  it('fails loudly when the job cannot be failed now, after the rest of the sweep, so the next sweep tries again', async () => {
    instances({ other: 'i-0old' });
    abortedWithoutEvent(10);
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('other') }).resolves({ status: 'SUCCEEDED' });
    codepipeline.on(PutJobFailureResultCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(sweepNow()).rejects.toThrow(/could not finish 1 step.*ThrottlingException/);
    expect(changes).toEqual(['terminate i-0old']);
  });
});
