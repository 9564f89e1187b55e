import { CodePipelineClient, InvalidJobStateException, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as renew } from '../../lambdas/renew/handler';
import { handler as waitForBuild } from '../../lambdas/wait-for-build/handler';
import type { ReadyForBuild } from '../../lambdas/shared/readiness';
import { roundSeconds } from '../../lambdas/shared/renewal';
import type { BuildWait, JobRenewal } from '../../lambdas/shared/types';
import { invoke } from '../fixtures/lambda';

process.env.CHECK_WATCH_MS = '20000';
Object.assign(process.env, { POOL_TABLE_NAME: 'pool', READINESS_WATCHER: 'watcher', READY_WITHIN_MS: '1320000', FIRST_REGISTRATION_MS: '240000', WATCH_TICK_MS: '100', WATCH_RUN_MS: '60000' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler: instanceCheck } = require('../../lambdas/instance-check/handler') as typeof import('../../lambdas/instance-check/handler');

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const renewal = (readyAt: string): JobRenewal => ({
  taskToken: 'renew-token',
  jobId: 'job-1',
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Build:job-1-abc',
  executionName: 'job-1-abc',
  readyAt,
  waitTimeoutSeconds: 4200,
  renewalSeconds: 2700,
});
const wait = (readyAt: string): BuildWait => ({ taskToken: 'wait-token', instanceId: 'i-0abc', executionName: 'job-1-abc', readyAt, waitTimeoutSeconds: 4200 });

describe('Renew Job', () => {
  const codepipeline = mockClient(CodePipelineClient);
  afterEach(() => codepipeline.reset());

  it('renews the job with the execution\'s name as continuation token, a summary, and never outputVariables', async () => {
    codepipeline.on(PutJobSuccessResultCommand).resolves({});
    expect(await invoke(renew, renewal(minutesAgo(44)), 'renew')).toEqual({ renewed: 'reported' });
    const sent = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input;
    expect(sent).toMatchObject({ jobId: 'job-1', continuationToken: 'job-1-abc', executionDetails: { externalExecutionId: renewal('').executionArn } });
    expect(sent.executionDetails?.summary).toMatch(/still running \(44 min so far\).*new job/);
    expect(sent).not.toHaveProperty('outputVariables');
  });

  it('does not renew twice: a job that already has its result leaves the execution waiting for the continuation job', async () => {
    codepipeline.on(PutJobSuccessResultCommand).rejects(new InvalidJobStateException({ message: 'job is Succeeded', $metadata: {} }));
    expect(await invoke(renew, renewal(minutesAgo(44)), 'renew')).toEqual({ renewed: 'already-reported' });
  });

  it('refuses to renew once the build\'s whole wait is over, so the current job gets the final result', async () => {
    await expect(invoke(renew, renewal(minutesAgo(71)), 'renew')).rejects.toMatchObject({ name: 'BuildWaitExceeded', message: expect.stringMatching(/70 minutes in all/) });
    expect(codepipeline).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
  });
});

describe('Wait For Build', () => {
  const ssm = mockClient(SSMClient);
  const sfn = mockClient(SFNClient);
  const command = (Status: 'Success' | 'InProgress') =>
    ssm.on(ListCommandsCommand, { InstanceId: 'i-0abc' }).resolves({
      Commands: [
        { CommandId: 'upload-1', Status: 'Success', Parameters: { Phase: ['upload'], ExecutionName: [''] } },
        { CommandId: 'c-1', Status, Parameters: { Phase: ['build'], ExecutionName: ['job-1-abc'], TaskToken: ['run-build-token'] } },
      ],
    });
  beforeEach(() => sfn.on(SendTaskSuccessCommand).resolves({}));
  afterEach(() => {
    ssm.reset();
    sfn.reset();
  });

  it('resumes its own task at once with the result of a build that finished during the renewal', async () => {
    command('Success');
    ssm.on(ListCommandsCommand, { CommandId: 'c-1' }).resolves({ Commands: [{ CommandId: 'c-1', Parameters: { Phase: ['build'], ExecutionName: ['job-1-abc'], TaskToken: ['run-build-token'] } }] });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: 'built' });
    expect(await invoke(waitForBuild, wait(minutesAgo(50)), 'wait-for-build')).toEqual({ outcome: 'resumed' });
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'c-1', InstanceId: 'i-0abc', PluginName: 'runBuildLinux' });
    const resumed = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(resumed.taskToken).toBe('wait-token');
    expect(JSON.parse(resumed.output!)).toMatchObject({ commandId: 'c-1', status: 'Success', exitCode: 0, outputTail: 'built' });
  });

  it('returns and lets the status event resume it while the build runs', async () => {
    command('InProgress');
    expect(await invoke(waitForBuild, wait(minutesAgo(50)), 'wait-for-build')).toEqual({ outcome: 'waiting' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('gives up past the build\'s whole wait with the command still going', async () => {
    command('InProgress');
    await expect(invoke(waitForBuild, wait(minutesAgo(71)), 'wait-for-build')).rejects.toMatchObject({ name: 'BuildWaitExceeded' });
  });
});

describe('the job\'s horizon', () => {
  it('ends each round at the horizon, never past the build\'s deadline, and never shorter than a minute (or the interval)', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(roundSeconds(now, now + 2700_000, now + 86_400_000, 2700)).toBe(2700);
    expect(roundSeconds(now, now + 2700_000, now + 300_000, 2700)).toBe(300);
    expect(roundSeconds(now, now - 60_000, now + 300_000, 2700)).toBe(60);
    expect(roundSeconds(now, now - 60_000, now + 300_000, 3)).toBe(3);
  });

  it('is measured from the poll: Run Build\'s first wait is what is left of the interval once the instance is ready', async () => {
    const ssm = mockClient(SSMClient);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' }] });
    // GIVEN a job polled 10 minutes ago with a 45-minute interval
    // (an execution started before the readiness watcher: no task token, the function watches and answers)
    const ready = (await invoke(instanceCheck, { instanceId: 'i-0abc', renewBy: new Date(Date.now() + 35 * 60_000).toISOString(), renewalSeconds: 2700, waitTimeoutSeconds: 4200 }, 'instance-check')) as ReadyForBuild;
    // THEN Run Build waits 35 minutes, not 45
    expect(ready.buildWaitSeconds).toBeGreaterThanOrEqual(35 * 60 - 2);
    expect(ready.buildWaitSeconds).toBeLessThanOrEqual(35 * 60);
    ssm.restore();
  });
});
