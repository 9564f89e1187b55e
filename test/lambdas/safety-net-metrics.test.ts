import { AcknowledgeJobCommand, CodePipelineClient, InvalidJobStateException, PollForJobsCommand, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { SweepIncompleteError } from '../../lambdas/sweeper/sweep';
import { polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';
import { dimensionsOf, printed, type Emf } from '../fixtures/metric-lines';

/**
 * The metrics of the paths that fail a job outside Report Result (the watchdog, the sweeper's lost ends, the poller's
 * continuation job no execution waits for) and of the sweeper's terminations, as the functions print them.
 */
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ec2BuildAction-BuildJob';
const execArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Ec2BuildAction-BuildJob:${name}`;
const JOB_ID = '11111111-2222-3333-4444-555555555555';
const NAME = `${JOB_ID}-0123456789ab`;
Object.assign(process.env, {
  STATE_MACHINE_ARN: MACHINE,
  STACK_TAG_VALUE: 'Ec2BuildAction',
  MAX_JOB_MINUTES: '1500',
  BUILD_DOCUMENT_NAME: 'Ec2BuildAction-RunBuild',
  EVENT_GRACE_MS: '300000',
  POOL_TABLE_NAME: 'PoolTable',
  JOB_BUCKET_NAME: 'jobs',
  ACTION_CATEGORY: 'Build',
  ACTION_PROVIDER: 'EC2-Build',
  ACTION_VERSION: '1',
  JOB_RENEWAL_SECONDS: '2700',
});
// Metric lines on for this file, before the functions load (test/setup/quiet-logs.ts turns them off).
const disabledBefore = process.env.POWERTOOLS_METRICS_DISABLED;
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = disabledBefore;
});
/* eslint-disable @typescript-eslint/no-require-imports */
const executionEvents = require('../../lambdas/execution-events/handler') as typeof import('../../lambdas/execution-events/handler');
const sweeper = require('../../lambdas/sweeper/handler') as typeof import('../../lambdas/sweeper/handler');
const poller = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');
/* eslint-enable @typescript-eslint/no-require-imports */

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId, PreviousState: { Name: 'running' }, CurrentState: { Name: 'shutting-down' } })),
  }));
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
});
afterEach(() => {
  for (const m of [ec2, sfn, codepipeline, s3]) m.reset();
});

const acknowledged = { events: [{ id: 3, timestamp: new Date(), type: 'TaskStateExited' as const, stateExitedEventDetails: { name: 'Acknowledge Job', output: JSON.stringify({ ack: { status: 'InProgress' } }) } }] };
const byDimensions = (lines: Emf[]) => Object.fromEntries(lines.map((l) => [dimensionsOf(l), l]));
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('a job failed outside Report Result', () => {
  const ended = (status: string) => ({ detail: { executionArn: execArn(NAME), name: NAME, status, input: JSON.stringify({ jobId: JOB_ID }), error: 'States.Timeout', cause: 'Execution timed out' } });

  it('is counted by the watchdog that failed it, as SystemUnavailable, and not again by a duplicate event', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves(acknowledged);
    codepipeline.on(PutJobFailureResultCommand).resolvesOnce({}).rejects(new InvalidJobStateException({ message: 'job is Failed', $metadata: {} }));
    const lines = byDimensions(await printed(() => invoke(executionEvents.handler, ended('TIMED_OUT'), 'execution-events')));
    expect(lines['[["Stack"]]']).toMatchObject({ JobsFailed: 1, JobsSucceeded: 0 });
    expect(lines['[["Stack","FailureType"]]']).toMatchObject({ FailureType: 'SystemUnavailable', JobsFailed: 1 });
    expect(await printed(() => invoke(executionEvents.handler, ended('TIMED_OUT'), 'execution-events'))).toEqual([]);
  });

  it('is counted by the sweeper that failed it for an execution whose end event was lost', async () => {
    sfn.on(ListExecutionsCommand, { statusFilter: 'ABORTED' }).resolves({ executions: [{ executionArn: execArn(NAME), name: NAME, status: 'ABORTED', startDate: minutesAgo(30), stopDate: minutesAgo(10), stateMachineArn: MACHINE }] });
    sfn.on(DescribeExecutionCommand, { executionArn: execArn(NAME) }).resolves({ status: 'ABORTED', stopDate: minutesAgo(10), input: JSON.stringify({ jobId: JOB_ID }), error: 'Aborted', cause: 'stopped in the console' });
    sfn.on(GetExecutionHistoryCommand).resolves(acknowledged);
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    const lines = byDimensions(await printed(() => invoke(sweeper.handler, { source: 'aws.events' }, 'sweeper')));
    expect(lines['[["Stack"]]']).toMatchObject({ JobsFailed: 1, JobsSucceeded: 0, SweeperTerminations: 0 });
    expect(lines['[["Stack","FailureType"]]']).toMatchObject({ FailureType: 'SystemUnavailable', JobsFailed: 1 });
  });

  it('is counted by the poller that failed a continuation job no execution waits for, as JobFailed', async () => {
    const continuation = { ...polledJob(), id: 'job-2', nonce: 'nonce-2' };
    continuation.data = { ...continuation.data, continuationToken: 'job-1-abcdef012345' };
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [continuation] });
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    const lines = byDimensions(await printed(() => invoke(poller.handler, { source: 'aws.events' }, 'poller')));
    expect(lines['[["Stack","FailureType"]]']).toMatchObject({ FailureType: 'JobFailed', JobsFailed: 1 });
    expect(lines['[["Stack"]]']).toMatchObject({ JobsFailed: 1, JobsSucceeded: 0 });
  });
});

describe('the sweeper\'s terminations', () => {
  const leftover = (id: string, launched: Date) => ({
    InstanceId: id,
    State: { Name: 'running' as const },
    LaunchTime: launched,
    Tags: [{ Key: 'ec2-build-action:stack', Value: 'Ec2BuildAction' }, { Key: 'ec2-build-action:execution', Value: 'done' }],
  });

  it('are counted with their minutes since launch', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [leftover('i-done', minutesAgo(30))] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    const [line] = await printed(() => invoke(sweeper.handler, { source: 'aws.events' }, 'sweeper'));
    expect(line).toMatchObject({ SweeperTerminations: 1 });
    expect(line.LeakedInstanceMinutes).toBeCloseTo(30, 0);
  });

  it('are counted by an incomplete sweep too, before its error goes up', async () => {
    // GIVEN a leftover to terminate, and the look for lost execution ends failing
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [leftover('i-done', minutesAgo(30))] }] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).rejects(Object.assign(new Error('Step Functions is unavailable'), { name: 'ServiceUnavailable' }));
    let thrown: unknown;
    const lines = byDimensions(await printed(() => invoke(sweeper.handler, { source: 'aws.events' }, 'sweeper').catch((err: unknown) => (thrown = err))));
    // THEN the sweep's error goes up (EventBridge retries it), and what it terminated is counted with it, as an
    // unexpected error of the sweeper
    expect(thrown).toBeInstanceOf(SweepIncompleteError);
    expect(lines['[["Stack"]]']).toMatchObject({ SweeperTerminations: 1, UnexpectedErrors: 1 });
    expect(lines['[["Stack"]]'].LeakedInstanceMinutes).toBeCloseTo(30, 0);
    expect(lines['[["Stack","FunctionName"]]']).toMatchObject({ FunctionName: 'sweeper', UnexpectedErrors: 1 });
  });
});
