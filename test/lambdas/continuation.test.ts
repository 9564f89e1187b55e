import { AcknowledgeJobCommand, CodePipelineClient, PollForJobsCommand, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { taskHistory } from '../fixtures/history';
import { polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:Build:job-1-abcdef012345';
Object.assign(process.env, { STATE_MACHINE_ARN: STATE_MACHINE, ACTION_CATEGORY: 'Build', ACTION_PROVIDER: 'EC2-Build', ACTION_VERSION: '1', JOB_RENEWAL_SECONDS: '2700' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');

const event = { source: 'aws.events' };
const continuation = { ...polledJob(), id: 'job-2', nonce: 'nonce-2' };
continuation.data = { ...continuation.data, continuationToken: 'job-1-abcdef012345' };
const renewal = (readyAt: string, taskToken = 'renew-token-2') => ({ taskToken, jobId: 'job-1', readyAt, waitTimeoutSeconds: 4200, renewalSeconds: 2700 });
const handedOver = (sfn: ReturnType<typeof mockClient>) => sfn.commandCalls(SendTaskSuccessCommand).map((c) => ({ token: c.args[0].input.taskToken, output: JSON.parse(c.args[0].input.output!) }));

describe('poller: a continuation job', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const sfn = mockClient(SFNClient);

  beforeEach(() => {
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [continuation] });
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    codepipeline.on(PutJobFailureResultCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(SendTaskSuccessCommand).resolves({});
  });
  afterEach(() => {
    codepipeline.reset();
    sfn.reset();
  });

  it('starts nothing: hands the job to the execution that renewed it, through the latest "Renew Job" token in its history', async () => {
    // GIVEN an execution that renewed its job twice (the first token is used), ready 10 minutes ago
    const readyAt = new Date(Date.now() - 10 * 60_000).toISOString();
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: taskHistory([
        { state: 'Renew Job', payload: renewal(readyAt, 'renew-token-1') },
        { state: 'Wait For Build', payload: { taskToken: 'wait-token' } },
        { state: 'Renew Job', payload: renewal(readyAt) },
      ]),
    });
    const counts = await invoke(handler, event, 'poller');
    expect(counts.continued).toBe(1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: EXECUTION, reverseOrder: true, includeExecutionData: true });
    // THEN the latest token gets the job, its nonce and the next round: the interval, within the build's deadline
    expect(handedOver(sfn)).toEqual([{ token: 'renew-token-2', output: { jobId: 'job-2', nonce: 'nonce-2', renewAfterSeconds: 2700 } }]);
    // ...and the execution, not the poller, acknowledges it
    expect(codepipeline).not.toHaveReceivedCommand(AcknowledgeJobCommand);
  });

  it('hands the job to an execution waiting in its fleet\'s line ("Report Place In Line"), with a round of the line\'s refresh', async () => {
    const enqueuedAt = new Date(Date.now() - 60_000).toISOString();
    const report = { taskToken: 'report-token', jobId: 'job-1', readyAt: enqueuedAt, waitTimeoutSeconds: 1800, renewalSeconds: 300, line: { fleet: { name: 'linux' }, sk: 'QUEUE#x' } };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Take Fleet Slot', payload: { action: 'take' } }, { state: 'Report Place In Line', payload: report }]) });
    expect((await invoke(handler, event, 'poller')).continued).toBe(1);
    expect(handedOver(sfn)).toEqual([{ token: 'report-token', output: { jobId: 'job-2', nonce: 'nonce-2', renewAfterSeconds: 300 } }]);
    // Near the line's bound, the round ends at the bound.
    sfn.reset();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const late = { ...report, readyAt: new Date(Date.now() - 1680_000).toISOString() };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Report Place In Line', payload: late }]) });
    await invoke(handler, event, 'poller');
    const round = handedOver(sfn)[0].output.renewAfterSeconds as number;
    expect(round).toBeGreaterThanOrEqual(118);
    expect(round).toBeLessThanOrEqual(120);
  });

  it('takes the token of a retried "Renew Job" attempt (scheduled after its failure, not after the state\'s entry)', async () => {
    const readyAt = new Date().toISOString();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Renew Job', payload: renewal(readyAt, 'attempt-1'), retriedWith: renewal(readyAt, 'attempt-2') }]) });
    expect((await invoke(handler, event, 'poller')).continued).toBe(1);
    expect(handedOver(sfn).map((h) => h.token)).toEqual(['attempt-2']);
  });

  it('shortens the next round to the build\'s deadline', async () => {
    // 4200 s of wait from 65 minutes ago: 300 s left
    sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Renew Job', payload: renewal(new Date(Date.now() - 65 * 60_000).toISOString()) }]) });
    await invoke(handler, event, 'poller');
    const round = handedOver(sfn)[0].output.renewAfterSeconds;
    expect(round).toBeGreaterThanOrEqual(298);
    expect(round).toBeLessThanOrEqual(300);
  });

  it.each([
    ['has ended', () => sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' }), /which is SUCCEEDED/],
    ['is unknown', () => sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} })), /which is unknown to Step Functions/],
    ['is not renewing', () => sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Wait For Build', payload: { taskToken: 'w' } }]) }), /is not waiting for a continuation job/],
  ])('acknowledges and fails the job, saying why, when its execution %s', async (_case, arrange, message) => {
    arrange();
    const counts = await invoke(handler, event, 'poller');
    expect(counts['continuation-failed']).toBe(1);
    expect(codepipeline).toHaveReceivedCommandWith(AcknowledgeJobCommand, { jobId: 'job-2', nonce: 'nonce-2' });
    const failure = codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input;
    expect(failure).toMatchObject({ jobId: 'job-2', failureDetails: { type: 'JobFailed', message: expect.stringMatching(message) } });
    expect(failure.failureDetails?.message).toMatch(/^This job continues the build of execution job-1-abcdef012345/);
  });

  it('fails the job when the execution\'s "Renew Job" task already ended (its token is refused)', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: taskHistory([{ state: 'Renew Job', payload: renewal(new Date().toISOString()) }]) });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    expect((await invoke(handler, event, 'poller'))['continuation-failed']).toBe(1);
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, { jobId: 'job-2' });
  });

  it('leaves alone a job it already handed over that CodePipeline offered again (a repeat changes nothing)', async () => {
    const readyAt = new Date().toISOString();
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 9, timestamp: new Date(0), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Renew Job', output: JSON.stringify({ continuation: { jobId: 'job-2', nonce: 'nonce-1' } }) } },
        ...taskHistory([{ state: 'Renew Job', payload: renewal(readyAt) }]),
      ],
    });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    expect((await invoke(handler, event, 'poller')).duplicate).toBe(1);
    expect(codepipeline).not.toHaveReceivedCommand(AcknowledgeJobCommand);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  it('leaves the job for the next poll when Step Functions cannot be asked', async () => {
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect((await invoke(handler, event, 'poller'))['not-started']).toBe(1);
    expect(codepipeline).not.toHaveReceivedCommand(AcknowledgeJobCommand);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });
});
