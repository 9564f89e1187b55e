import { CodePipelineClient, InvalidJobStateException, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  SendTaskSuccessCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadSweeperConfig } from '../../lambdas/shared/config';
import { poolTableFromEnv } from '../../lambdas/shared/pool-table';
import { sweep } from '../../lambdas/sweeper/sweep';
import { invoke } from '../fixtures/lambda';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const execArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${name}`;
const JOB_ID = '11111111-2222-3333-4444-555555555555';
const NAME = `${JOB_ID}-0123456789ab`;
process.env.STATE_MACHINE_ARN = MACHINE;
process.env.STACK_TAG_VALUE = 'Ec2BuildAction';
process.env.MAX_JOB_MINUTES = '1500';
process.env.BUILD_DOCUMENT_NAME = 'Ec2BuildAction-RunBuild';
process.env.EVENT_GRACE_MS = '300000';
process.env.POOL_TABLE_NAME = 'PoolTable';
process.env.JOB_BUCKET_NAME = 'jobs';
/* eslint-disable @typescript-eslint/no-require-imports */
const executionEvents = require('../../lambdas/execution-events/handler') as typeof import('../../lambdas/execution-events/handler');
const abandon = require('../../lambdas/abandon/handler') as typeof import('../../lambdas/abandon/handler');
const sweeper = require('../../lambdas/sweeper/handler') as typeof import('../../lambdas/sweeper/handler');
/* eslint-enable @typescript-eslint/no-require-imports */

/** The sweep's logic at a given time, with the configuration the handler loads. */
const sweepAt = (now: Date) => sweep({ stateMachineArn: MACHINE, config: loadSweeperConfig(), logger: new Logger({ serviceName: 'sweeper' }), pools: { table: poolTableFromEnv(), fleets: {} } }, now);

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);
const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  // EC2 answers TerminateInstances with the instances it began to terminate.
  ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId, PreviousState: { Name: 'running' }, CurrentState: { Name: 'shutting-down' } })),
  }));
});
afterEach(() => {
  s3.reset();
  ssm.reset();
  ec2.reset();
  sfn.reset();
  codepipeline.reset();
});

function instance(id: string, tags: Record<string, string>, launched = new Date('2026-11-22T10:00:00Z')) {
  return { InstanceId: id, State: { Name: 'running' as const }, LaunchTime: launched, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
}

/** The history of an execution whose "Acknowledge Job" state did (or did not) take the job. */
function history(acknowledged: boolean) {
  const ack = acknowledged ? { status: 'InProgress' } : { status: 'NotOurs' };
  return { events: [{ id: 3, timestamp: new Date(), type: 'TaskStateExited' as const, stateExitedEventDetails: { name: 'Acknowledge Job', output: JSON.stringify({ ack }) } }] };
}

describe('execution-events: an execution that ended outside its own Catch', () => {
  const event = (status: string, input: string | null = JSON.stringify({ jobId: JOB_ID })) => ({
    detail: { executionArn: execArn(NAME), name: NAME, status, input, error: 'States.Timeout', cause: 'Execution timed out' },
  });

  it('terminates its instance and fails the job it owned, saying what happened', async () => {
    // GIVEN an execution that acknowledged its job and left an instance
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-0abc', { 'ec2-build-action:execution': NAME })] }] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    // WHEN it ends TIMED_OUT
    const out = await invoke(executionEvents.handler, event('TIMED_OUT'), 'execution-events');
    // THEN
    expect(out).toEqual({ released: 1, reported: 'reported' });
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { Filters: expect.arrayContaining([{ Name: 'tag:ec2-build-action:execution', Values: [NAME] }]) });
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0abc'] });
    // AND its objects in the job bucket (resolved environment, its read copy, exports), which "Report Result" would have deleted, are
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'jobs', Key: `environment/${NAME}` },
      { Bucket: 'jobs', Key: `environment/${NAME}.read` },
      { Bucket: 'jobs', Key: `exports/${NAME}` },
    ]);
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: expect.objectContaining({
        type: 'SystemUnavailable',
        message: expect.stringMatching(/ended TIMED_OUT .*States.Timeout: Execution timed out.*instance was terminated/),
        externalExecutionId: execArn(NAME),
      }),
    });
  });

  it('leaves the job alone when the execution never acknowledged it (CodePipeline offers it again)', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(false));
    const out = await invoke(executionEvents.handler, event('FAILED'), 'execution-events');
    expect(out).toEqual({ released: 0, reported: 'not-owned' });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  it('still fails the job when its objects cannot be deleted (the job bucket\'s expiry deletes them)', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    s3.on(DeleteObjectCommand).rejects(Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }));
    expect(await invoke(executionEvents.handler, event('ABORTED'), 'execution-events')).toEqual({ released: 0, reported: 'reported' });
  });

  it('accepts that the job already has its result', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    codepipeline.on(PutJobFailureResultCommand).rejects(new InvalidJobStateException({ message: 'job is Succeeded', $metadata: {} }));
    expect(await invoke(executionEvents.handler, event('ABORTED'), 'execution-events')).toEqual({ released: 0, reported: 'already-reported' });
  });

  it('still fails the job when the instance cannot be terminated, leaving it to the sweeper', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance('i-0abc', {})] }] });
    ec2.on(TerminateInstancesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    const out = await invoke(executionEvents.handler, event('ABORTED'), 'execution-events');
    expect(out).toEqual({ released: 0, reported: 'reported' });
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      failureDetails: expect.objectContaining({ message: expect.stringContaining('the scheduled sweeper will terminate it') }),
    });
  });

  it('finds the job from the execution name when the event carries no input', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    await invoke(executionEvents.handler, event('FAILED', null), 'execution-events');
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { jobId: JOB_ID });
  });

  it('lets a failing report throw, so that EventBridge retries it', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    sfn.on(GetExecutionHistoryCommand).resolves(history(true));
    codepipeline.on(PutJobFailureResultCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(invoke(executionEvents.handler, event('FAILED'), 'execution-events')).rejects.toThrow('Rate exceeded');
  });
});

describe('abandon: "Stop and abandon" on the pipeline', () => {
  const pipeline = { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2' };
  const event = { detail: { pipeline: 'app', 'execution-id': 'pe-1', stage: 'Build', action: 'Ec2' } };

  it('stops only the builds of the abandoned action, across pages', async () => {
    // GIVEN three running executions on two pages: the abandoned action's, another pipeline run's, and one with bad input
    sfn.on(ListExecutionsCommand, { statusFilter: 'RUNNING', nextToken: undefined }).resolves({ executions: [{ executionArn: execArn('a') } as never, { executionArn: execArn('b') } as never], nextToken: 'p2' });
    sfn.on(ListExecutionsCommand, { nextToken: 'p2' }).resolves({ executions: [{ executionArn: execArn('c') } as never] });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('a') }).resolves({ input: JSON.stringify({ jobId: 'job-a', pipeline }) });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('b') }).resolves({ input: JSON.stringify({ jobId: 'job-b', pipeline: { ...pipeline, executionId: 'pe-2' } }) });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('c') }).resolves({ input: 'not json' });
    // WHEN
    const out = await invoke(abandon.handler, event, 'abandon');
    // THEN only the abandoned action's build is stopped
    expect(out).toEqual({ stopped: 1 });
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: execArn('a'), error: 'Abandoned', cause: expect.stringContaining('Build/Ec2') });
  });

  it('does not fail when the execution ended meanwhile', async () => {
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: execArn('a') } as never] });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify({ jobId: 'job-a', pipeline }) });
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    expect(await invoke(abandon.handler, event, 'abandon')).toEqual({ stopped: 1 });
  });
});

describe('sweeper: the last line of defence', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const tagged = (id: string, execution: string | null, launched?: Date) =>
    instance(id, { 'ec2-build-action:stack': 'Ec2BuildAction', ...(execution ? { 'ec2-build-action:execution': execution } : {}) }, launched);
  // No running or ended executions unless a test says so (test/lambdas/sweeper-actions.test.ts covers those).
  beforeEach(() => sfn.on(ListExecutionsCommand).resolves({ executions: [] }));

  it('runs when Lambda calls it with its context object as the second argument, reading the clock itself', async () => {
    // GIVEN a build instance launched a minute ago whose execution ended
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [tagged('i-ended', 'done', new Date(Date.now() - 60_000))] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    // WHEN Lambda invokes the handler: (event, context, callback)
    const out = await invoke(sweeper.handler, { source: 'aws.events', 'detail-type': 'Scheduled Event' }, 'sweeper');
    // THEN it is terminated because its execution ended, not because of its age
    expect(out.terminated).toEqual([{ instanceId: 'i-ended', reason: 'its execution done is SUCCEEDED' }]);
  });

  it('terminates instances whose execution ended, is unknown, or that are too old; keeps running builds', async () => {
    // GIVEN
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [tagged('i-running', 'run'), tagged('i-ended', 'done'), tagged('i-unknown', 'gone')] },
        { Instances: [tagged('i-old', 'run', new Date('2026-11-21T10:00:00Z')), tagged('i-untagged', null)] },
      ],
    });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('run') }).resolves({ status: 'RUNNING' });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('done') }).resolves({ status: 'SUCCEEDED' });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn('gone') }).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
    // WHEN
    const out = await sweepAt(now);
    // THEN
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { Filters: expect.arrayContaining([{ Name: 'tag:ec2-build-action:stack', Values: ['Ec2BuildAction'] }]) });
    expect(out.kept).toBe(1);
    expect(Object.fromEntries(out.terminated.map((t) => [t.instanceId, t.reason]))).toEqual({
      'i-ended': 'its execution done is SUCCEEDED',
      'i-unknown': 'its execution gone is unknown to Step Functions',
      'i-old': 'older than the longest allowed job (1560 > 1500 minutes)',
      'i-untagged': 'it carries no execution tag',
    });
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-ended', 'i-unknown', 'i-old', 'i-untagged'] });
  });

  it('terminates nothing when every instance belongs to a running build', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [tagged('i-running', 'run')] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    expect(await sweepAt(now)).toEqual({ terminated: [], kept: 1, resumed: 0, stopped: [], jobsFailed: 0, slots: { freed: [], dequeued: [], resumed: 0 }, leakedInstanceMinutes: 0 });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('resumes a running build whose command finished but whose status event was lost', async () => {
    // GIVEN a running build whose build command failed (event lost) and an older command whose token was used
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [tagged('i-running', 'run')] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    ssm.on(ListCommandsCommand, { InstanceId: 'i-running' }).resolves({
      Commands: [
        { CommandId: 'c-new', Status: 'Failed' },
        { CommandId: 'c-running', Status: 'InProgress' },
        { CommandId: 'c-old', Status: 'Success' },
      ],
    });
    ssm.on(ListCommandsCommand, { CommandId: 'c-new' }).resolves({ Commands: [{ CommandId: 'c-new', Parameters: { TaskToken: ['token-new'] } }] });
    ssm.on(ListCommandsCommand, { CommandId: 'c-old' }).resolves({ Commands: [{ CommandId: 'c-old', Parameters: { TaskToken: ['token-old'] } }] });
    ssm.on(GetCommandInvocationCommand, { CommandId: 'c-new' }).resolves({ Status: 'Failed', ResponseCode: 2, StandardErrorContent: 'make: *** Error 2' });
    ssm.on(GetCommandInvocationCommand, { CommandId: 'c-old' }).resolves({ Status: 'Success', ResponseCode: 0 });
    sfn.on(SendTaskSuccessCommand, { taskToken: 'token-old' }).rejects(new TaskTimedOut({ message: 'used', $metadata: {} }));
    // WHEN
    const out = await sweepAt(now);
    // THEN only the lost result is handed over, with the command's own outcome, and nothing is terminated
    expect(out).toEqual({ terminated: [], kept: 1, resumed: 1, stopped: [], jobsFailed: 0, slots: { freed: [], dequeued: [], resumed: 0 }, leakedInstanceMinutes: 0 });
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { InstanceId: 'i-running', Filters: [{ key: 'DocumentName', value: 'Ec2BuildAction-RunBuild' }] });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-new', output: expect.stringContaining('"exitCode":2') });
    expect(ssm).not.toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'c-running' });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('does not count an instance its execution released between the listing and the termination', async () => {
    // GIVEN the listing saw both running, but i-raced's execution released it just before the sweep's termination
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [tagged('i-raced', 'done'), tagged('i-left', 'done')] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    ec2.on(TerminateInstancesCommand).resolves({
      TerminatingInstances: [
        { InstanceId: 'i-raced', PreviousState: { Name: 'shutting-down' }, CurrentState: { Name: 'shutting-down' } },
        { InstanceId: 'i-left', PreviousState: { Name: 'running' }, CurrentState: { Name: 'shutting-down' } },
      ],
    });
    // WHEN
    const out = await sweepAt(now);
    // THEN both are asked to terminate, only the one it stopped is reported
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-raced', 'i-left'] });
    expect(out.terminated.map((t) => t.instanceId)).toEqual(['i-left']);
    expect(out.kept).toBe(0);
  });

  it('fails loudly when it cannot terminate (an error in its metrics and log), and tries again next run', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [tagged('i-ended', 'done')] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    ec2.on(TerminateInstancesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));
    await expect(sweepAt(now)).rejects.toThrow('not authorized');
  });
});
