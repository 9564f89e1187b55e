import { ActionTypeNotFoundException, CodePipelineClient, PollForJobsCommand } from '@aws-sdk/client-codepipeline';
import { polledJob } from '../fixtures/job';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { invoke } from '../fixtures/lambda';

/** A provider that keeps version 1 beside version 2 polls the version an event names, and both on its schedule. */
Object.assign(process.env, {
  STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build',
  ACTION_CATEGORY: 'Build',
  ACTION_PROVIDER: 'EC2-Build',
  ACTION_VERSION: '1,2',
  JOB_RENEWAL_SECONDS: '2700',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/poller/handler') as typeof import('../../lambdas/poller/handler');

const started = (version: string | number) => ({
  source: 'aws.codepipeline',
  detail: { state: 'STARTED', type: { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version } },
});
const polledVersions = (codepipeline: ReturnType<typeof mockClient>) => codepipeline.commandCalls(PollForJobsCommand).map((c) => (c.args[0].input as { actionTypeId: { version: string } }).actionTypeId.version);

describe('poller serving two versions', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const sfn = mockClient(SFNClient);
  beforeEach(() => {
    codepipeline.on(PollForJobsCommand).resolves({ jobs: [] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
  });
  afterEach(() => {
    codepipeline.reset();
    sfn.reset();
  });

  it('polls only the version a STARTED event names, as a string or a number', async () => {
    await invoke(handler, started(2), 'poller');
    await invoke(handler, started('1'), 'poller');
    expect(polledVersions(codepipeline)).toEqual(['2', '1']);
  });

  it('dispatches the jobs of the versions it could poll when another version\'s poll fails, and fails only when all do', async () => {
    codepipeline.on(PollForJobsCommand, { actionTypeId: { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '2' } }).rejects(new ActionTypeNotFoundException({ message: 'no such action type', $metadata: {} }));
    codepipeline.on(PollForJobsCommand, { actionTypeId: { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '1' } }).resolves({ jobs: [polledJob()] });
    const counts = await invoke(handler, { source: 'aws.events' }, 'poller');
    expect(counts.started).toBe(1);
    codepipeline.reset();
    codepipeline.on(PollForJobsCommand).rejects(new ActionTypeNotFoundException({ message: 'no such action type', $metadata: {} }));
    await expect(invoke(handler, { source: 'aws.events' }, 'poller')).rejects.toThrow('no such action type');
  });

  it('polls every version it serves on the safety-net schedule, and none for a version it does not serve', async () => {
    await invoke(handler, { source: 'aws.events' }, 'poller');
    expect(polledVersions(codepipeline).sort()).toEqual(['1', '2']);
    codepipeline.resetHistory();
    await invoke(handler, started('3'), 'poller');
    expect(polledVersions(codepipeline)).toEqual([]);
  });
});
