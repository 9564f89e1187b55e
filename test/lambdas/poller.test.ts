import { CodePipelineClient, PollForJobsCommand, PutJobFailureResultCommand, AcknowledgeJobCommand } from '@aws-sdk/client-codepipeline';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand, StateMachineLimitExceeded } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { executionName } from '../../lambdas/poller/dispatch';
import { JOB_ID, polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';
import { lambdaContext } from '../../local/lambda/context';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build';
Object.assign(process.env, {
  STATE_MACHINE_ARN: STATE_MACHINE,
  ACTION_CATEGORY: 'Build',
  ACTION_PROVIDER: 'EC2-Build',
  ACTION_VERSION: '1',
  JOB_RENEWAL_SECONDS: '2700',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  LOG_LEVEL: 'INFO', // these tests read what the poller logs
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');

const started = (version: string | number = '1') => ({
  source: 'aws.codepipeline',
  detail: { state: 'STARTED', type: { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version } },
});
const startInput = (sfn: ReturnType<typeof mockClient>, i = 0) => JSON.parse((sfn.commandCalls(StartExecutionCommand)[i].args[0].input as { input: string }).input);

describe('poller', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const sfn = mockClient(SFNClient);
  let logs: string[];

  beforeEach(() => {
    logs = [];
    for (const level of ['info', 'warn', 'error', 'log'] as const) jest.spyOn(console, level).mockImplementation((...a) => void logs.push(a.join(' ')));
    for (const stream of [process.stdout, process.stderr]) jest.spyOn(stream, 'write').mockImplementation((chunk) => (logs.push(String(chunk)), true));
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [polledJob()] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
  });

  afterEach(() => {
    codepipeline.reset();
    sfn.reset();
    jest.restoreAllMocks();
  });

  it('starts one execution per dispatch, named after the job and its nonce, and leaves acknowledging to it', async () => {
    const counts = await invoke(handler, started(), 'poller');
    expect(counts.started).toBe(1);
    expect(codepipeline).toHaveReceivedCommandWith(PollForJobsCommand, { actionTypeId: { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '1' } });
    expect(startInput(sfn)).toMatchObject({ jobId: JOB_ID, nonce: 'nonce-1', rejection: null, job: { jobId: JOB_ID, properties: { command: 'make' } } });
    // Named after the job, its nonce and its action (the pipeline context the input records)
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE, name: executionName(JOB_ID, 'nonce-1', startInput(sfn).pipeline) });
    expect(codepipeline).not.toHaveReceivedCommand(AcknowledgeJobCommand);
  });

  it('drains the queue on the schedule\'s poll (polls again while a whole batch came), but polls once for a STARTED event', async () => {
    const batch = (n: number, from: number) => ({ jobs: Array.from({ length: n }, (_, i) => ({ ...polledJob(), id: `job-${from + i}`, nonce: `nonce-${from + i}` })) });
    codepipeline.on(PollForJobsCommand).resolvesOnce(batch(10, 0)).resolvesOnce(batch(10, 10)).resolvesOnce(batch(3, 20)).resolves({ jobs: [] });
    const counts = await invoke(handler, { source: 'aws.events' }, 'poller');
    expect(counts.started).toBe(23);
    expect(codepipeline.commandCalls(PollForJobsCommand)).toHaveLength(3);
    expect(codepipeline.commandCalls(PollForJobsCommand).map((c) => c.args[0].input.maxBatchSize)).toEqual([10, 10, 10]);
    codepipeline.reset();
    codepipeline.on(PollForJobsCommand).resolves(batch(10, 100));
    sfn.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    await invoke(handler, started(), 'poller');
    expect(codepipeline.commandCalls(PollForJobsCommand)).toHaveLength(1);
  });

  it('stops draining when its time is nearly up', async () => {
    codepipeline.on(PollForJobsCommand).resolves({ jobs: Array.from({ length: 10 }, (_, i) => ({ ...polledJob(), id: `job-${i}`, nonce: `nonce-${i}` })) });
    // 15 s left: the margin the last dispatch needs, so no second poll.
    const counts = await handler({ source: 'aws.events' }, { ...lambdaContext({ functionName: 'poller' }), getRemainingTimeInMillis: () => 15_000 }, () => undefined);
    expect(counts).toMatchObject({ started: 10 });
    expect(codepipeline.commandCalls(PollForJobsCommand)).toHaveLength(1);
  });

  it('gives the execution the job\'s renewal horizon: the poll plus the configured interval', async () => {
    const before = Date.now();
    await invoke(handler, started(), 'poller');
    const { job } = startInput(sfn) as { job: { renewBy: string; renewalSeconds: number } };
    expect(job.renewalSeconds).toBe(2700);
    expect(Date.parse(job.renewBy) - before).toBeGreaterThanOrEqual(2700 * 1000);
    expect(Date.parse(job.renewBy) - Date.now()).toBeLessThanOrEqual(2700 * 1000);
  });

  it('names executions so that the same dispatch maps to one name and a new dispatch to another', () => {
    expect(executionName(JOB_ID, 'nonce-1')).toBe(executionName(JOB_ID, 'nonce-1'));
    expect(executionName(JOB_ID, 'nonce-2')).not.toBe(executionName(JOB_ID, 'nonce-1'));
    const longest = { name: 'p'.repeat(100), executionId: 'e'.repeat(36), stage: 's'.repeat(100), action: 'a'.repeat(100) };
    expect(executionName(JOB_ID, 'n', longest).length).toBeLessThanOrEqual(80);
    expect(executionName(JOB_ID, 'nonce-1', longest)).not.toBe(executionName(JOB_ID, 'nonce-1', { ...longest, action: 'other' }));
  });

  it('accepts the action version as a number, polls on the safety-net schedule, and ignores another version', async () => {
    expect((await invoke(handler, started(1), 'poller')).started).toBe(1);
    expect((await invoke(handler, { source: 'aws.events' }, 'poller')).started).toBe(1);
    codepipeline.resetHistory();
    expect((await invoke(handler, started('2'), 'poller')).started).toBe(0);
    expect(codepipeline).not.toHaveReceivedCommand(PollForJobsCommand);
  });

  it('counts a duplicate event as already started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect((await invoke(handler, started(), 'poller')).duplicate).toBe(1);
  });

  it('hands a job with bad properties to an execution that reports the ConfigurationError, launching nothing', async () => {
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [polledJob({ ImageId: 'ubuntu' })] });
    const counts = await invoke(handler, started(), 'poller');
    expect(counts.rejected).toBe(1);
    expect(startInput(sfn)).toMatchObject({ jobId: JOB_ID, job: null, rejection: expect.stringMatching(/^ImageId must be an AMI ID.*got "ubuntu"/) });
  });

  it('leaves the job unacknowledged when the execution cannot start, so CodePipeline offers it again', async () => {
    sfn.on(StartExecutionCommand).rejects(new StateMachineLimitExceeded({ message: 'too many executions', $metadata: {} }));
    const counts = await invoke(handler, started(), 'poller');
    expect(counts['not-started']).toBe(1);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
    expect(codepipeline).not.toHaveReceivedCommand(AcknowledgeJobCommand);
    expect(logs.join('\n')).toContain('StateMachineLimitExceeded: too many executions');
  });

  it('never logs or forwards the artifact credentials', async () => {
    await invoke(handler, started(), 'poller');
    expect(logs.join('\n')).toContain(JOB_ID);
    const everything = logs.join('\n') + JSON.stringify(startInput(sfn));
    expect(everything).not.toMatch(/super-secret-key|secret-session-token|AKIASECRETID/);
  });
});
