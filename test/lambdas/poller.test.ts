import { AcknowledgeJobCommand, CodePipelineClient, InvalidNonceException, PollForJobsCommand, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand, StateMachineLimitExceeded } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { JOB_ID, polledJob } from '../fixtures/job';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build';
Object.assign(process.env, {
  STATE_MACHINE_ARN: STATE_MACHINE,
  ACTION_CATEGORY: 'Build',
  ACTION_PROVIDER: 'EC2-Build',
  ACTION_VERSION: '1',
  POWERTOOLS_LOG_LEVEL: 'INFO',
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');

const started = (version: string | number = '1') => ({
  detail: { state: 'STARTED', type: { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version } },
});

describe('poller', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const sfn = mockClient(SFNClient);
  let logs: string[];

  beforeEach(() => {
    logs = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (logs.push(String(chunk)), true));
    jest.spyOn(console, 'info').mockImplementation((...a) => void logs.push(a.join(' ')));
    jest.spyOn(console, 'warn').mockImplementation((...a) => void logs.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a) => void logs.push(a.join(' ')));
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [polledJob()] });
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE.replace('stateMachine', 'execution')}:${JOB_ID}` });
  });

  afterEach(() => {
    codepipeline.reset();
    sfn.reset();
    jest.restoreAllMocks();
  });

  it('acknowledges the job with its nonce and starts an execution named after the job', async () => {
    // WHEN
    const counts = await handler(started());
    // THEN
    expect(counts.started).toBe(1);
    expect(codepipeline).toHaveReceivedCommandWith(PollForJobsCommand, { actionTypeId: { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '1' } });
    expect(codepipeline).toHaveReceivedCommandWith(AcknowledgeJobCommand, { jobId: JOB_ID, nonce: 'nonce-1' });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE, name: JOB_ID });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input ?? '{}');
    expect(input.job).toMatchObject({ jobId: JOB_ID, properties: { command: 'make' } });
  });

  it('accepts the action version as a number, and ignores another version', async () => {
    expect((await handler(started(1))).started).toBe(1);
    codepipeline.resetHistory();
    expect((await handler(started('2'))).started).toBe(0);
    expect(codepipeline).not.toHaveReceivedCommand(PollForJobsCommand);
  });

  it('counts a duplicate event as started when the execution already exists', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const counts = await handler(started());
    expect(counts.duplicate).toBe(1);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  it('leaves a job that another poller acknowledged first', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale nonce', $metadata: {} }));
    const counts = await handler(started());
    expect(counts['not-ours']).toBe(1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  it('leaves a job whose status after acknowledging is not InProgress', async () => {
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'Succeeded' });
    expect((await handler(started()))['not-ours']).toBe(1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('reports a ConfigurationError naming the property, before anything is launched', async () => {
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [polledJob({ ImageId: 'ubuntu' })] });
    const counts = await handler(started());
    expect(counts.rejected).toBe(1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: expect.objectContaining({ type: 'ConfigurationError', message: expect.stringMatching(/^ImageId must be an AMI ID/) }),
    });
  });

  it('fails the job with the reason when the execution cannot start', async () => {
    sfn.on(StartExecutionCommand).rejects(new StateMachineLimitExceeded({ message: 'too many executions', $metadata: {} }));
    const counts = await handler(started());
    expect(counts['not-started']).toBe(1);
    expect(codepipeline).toHaveReceivedCommandWith(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: expect.objectContaining({ type: 'SystemUnavailable', message: expect.stringContaining('StateMachineLimitExceeded: too many executions') }),
    });
  });

  it('never logs the artifact credentials', async () => {
    await handler(started());
    const logged = logs.join('\n');
    expect(logged).toContain(JOB_ID);
    expect(logged).not.toMatch(/super-secret-key|secret-session-token|AKIASECRETID/);
  });
});
