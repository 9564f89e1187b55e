import { GetExecutionHistoryCommand, SFNClient, SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand, InvalidPluginName, InvocationDoesNotExist, ListCommandsCommand, SSMClient, type GetCommandInvocationCommandInput } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { CommandResult } from '../../lambdas/shared/types';
import { taskHistory } from '../fixtures/history';
import { invoke } from '../fixtures/lambda';

process.env.STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Build';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/command-events/handler') as typeof import('../../lambdas/command-events/handler');

const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const event = (status: string) => ({ detail: { 'command-id': 'c-1', 'instance-id': 'i-0abc', status } });
const SKIP_MESSAGE = 'Step execution skipped due to unsatisfied preconditions: \'"StringEquals": [platformType, Linux]\'. Step name: runBuildLinux';

type Answer = { Status: string; StatusDetails: string; ResponseCode: number; StandardOutputContent?: string; StandardErrorContent?: string; ExecutionStartDateTime?: string; ExecutionEndDateTime?: string };

/**
 * GetCommandInvocation as the API reference describes it for a document with more than one step:
 * PluginName (the step name) is required; each step answers for itself.
 */
function steps(byName: Record<string, Answer>) {
  ssm.on(GetCommandInvocationCommand).callsFake((input: GetCommandInvocationCommandInput) => {
    if (!input.PluginName || !byName[input.PluginName]) throw new InvalidPluginName({ message: 'The plugin name isn\'t valid.', $metadata: {} });
    return { CommandId: input.CommandId, InstanceId: input.InstanceId, PluginName: input.PluginName, ...byName[input.PluginName] };
  });
}
const resumedWith = (): CommandResult => JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!) as CommandResult;

describe('command-events: a build command finished', () => {
  beforeEach(() => {
    ssm.on(ListCommandsCommand, { CommandId: 'c-1' }).resolves({ Commands: [{ CommandId: 'c-1', Parameters: { TaskToken: ['token-1'] } }] });
    sfn.on(SendTaskSuccessCommand).resolves({});
  });
  afterEach(() => {
    ssm.reset();
    sfn.reset();
  });

  it('asks for the Linux step by name and resumes the build with its result', async () => {
    steps({
      runBuildLinux: { Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 2, StandardOutputContent: 'compiling', StandardErrorContent: 'make: *** Error 2' },
      runBuildWindows: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: SKIP_MESSAGE.replace(/Linux/g, 'Windows') },
    });
    expect(await invoke(handler, event('Failed'), 'command-events')).toBe('resumed');
    expect(ssm).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'c-1', InstanceId: 'i-0abc', PluginName: 'runBuildLinux' });
    expect(ssm).not.toHaveReceivedCommandWith(GetCommandInvocationCommand, { PluginName: 'runBuildWindows' });
    expect(resumedWith()).toEqual({ commandId: 'c-1', status: 'Failed', statusDetails: 'Failed', exitCode: 2, outputTail: 'compiling', errorTail: 'make: *** Error 2', startedAt: null, endedAt: null, marks: {} });
  });

  it('records when the step ran and the phase times the document measured, read from the whole of its standard error', async () => {
    const stderr = `ec2-build-action-phase stagingIn 1200\nec2-build-action-phase build 64000\n${'x'.repeat(9000)}\nmake: *** Error 2`;
    steps({
      runBuildLinux: { Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 2, StandardErrorContent: stderr, ExecutionStartDateTime: '2026-11-22T10:01:02.500Z', ExecutionEndDateTime: '2026-11-22T10:02:08.000Z' },
      runBuildWindows: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: SKIP_MESSAGE.replace(/Linux/g, 'Windows') },
    });
    expect(await invoke(handler, event('Failed'), 'command-events')).toBe('resumed');
    expect(resumedWith()).toMatchObject({ startedAt: '2026-11-22T10:01:02.500Z', endedAt: '2026-11-22T10:02:08.000Z', marks: { stagingIn: 1200, build: 64000 } });
    // The markers were cut from the tail that travels on, not from what was read.
    expect(resumedWith().errorTail).not.toContain('ec2-build-action-phase');
  });

  it.each([
    ['InvalidPluginName', () => new InvalidPluginName({ message: 'The plugin name isn\'t valid.', $metadata: {} })],
    ['InvocationDoesNotExist', () => new InvocationDoesNotExist({ message: 'An error occurred (InvocationDoesNotExist)', $metadata: {} })],
  ])('a command that never reached the agent (%s for its steps) is delivered with the command\'s own status and reason', async (_code, error) => {
    ssm.on(ListCommandsCommand, { CommandId: 'c-1' }).resolves({ Commands: [{ CommandId: 'c-1', Parameters: { TaskToken: ['token-1'] }, Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut' }] });
    ssm.on(GetCommandInvocationCommand).rejects(error());
    expect(await invoke(handler, event('TimedOut'), 'command-events')).toBe('resumed');
    expect(resumedWith()).toEqual({ commandId: 'c-1', status: 'TimedOut', statusDetails: 'DeliveryTimedOut', exitCode: -1, outputTail: '', errorTail: '', startedAt: null, endedAt: null, marks: {} });
  });

  it.each([
    ['reported as Success with the agent\'s skip message', { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: SKIP_MESSAGE }],
    ['reported with a StatusDetails of Skipped', { Status: 'Success', StatusDetails: 'Skipped', ResponseCode: 0, StandardOutputContent: '' }],
  ])('on Windows, takes the Windows step\'s result when the Linux step was skipped (%s)', async (_how, linux) => {
    steps({ runBuildLinux: linux, runBuildWindows: { Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut', ResponseCode: -1, StandardOutputContent: 'still building' } });
    expect(await invoke(handler, event('TimedOut'), 'command-events')).toBe('resumed');
    expect(resumedWith()).toMatchObject({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut', outputTail: 'still building' });
  });

  it.each(['InProgress', 'In Progress', 'Pending', 'Delayed'])('ignores a command that is still going (%s)', async (status) => {
    expect(await invoke(handler, event(status), 'command-events')).toBe('ignored');
    expect(ssm).not.toHaveReceivedCommand(GetCommandInvocationCommand);
  });
});

describe('command-events: a build whose job was renewed', () => {
  const stale = () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
  const command = (phase: string) =>
    ssm.on(ListCommandsCommand, { CommandId: 'c-1' }).resolves({ Commands: [{ CommandId: 'c-1', Parameters: { Phase: [phase], ExecutionName: phase === 'build' ? ['job-1-abc'] : [''], TaskToken: ['run-build-token'] } }] });
  beforeEach(() => {
    steps({ runBuildLinux: { Status: 'Success', StatusDetails: 'Success', ResponseCode: 0, StandardOutputContent: 'built' } });
    // "Run Build" timed out at the job's horizon: its token is refused
    sfn.on(SendTaskSuccessCommand, { taskToken: 'run-build-token' }).rejects(stale());
    sfn.on(SendTaskSuccessCommand, { taskToken: 'wait-token-2' }).resolves({});
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: taskHistory([
        { state: 'Renew Job', payload: { taskToken: 'renew-token' } },
        { state: 'Wait For Build', payload: { taskToken: 'wait-token-1' } },
        { state: 'Renew Job', payload: { taskToken: 'renew-token-2' } },
        { state: 'Wait For Build', payload: { taskToken: 'wait-token-2' } },
      ]),
    });
  });
  afterEach(() => {
    ssm.reset();
    sfn.reset();
  });

  it('delivers the result to the execution\'s latest "Wait For Build" task, found by the command\'s ExecutionName', async () => {
    command('build');
    expect(await invoke(handler, event('Success'), 'command-events')).toBe('resumed');
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Build:job-1-abc', reverseOrder: true });
    const calls = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.taskToken)).toEqual(['run-build-token', 'wait-token-2']);
    expect(JSON.parse(calls[1].output!)).toMatchObject({ commandId: 'c-1', status: 'Success', outputTail: 'built' });
  });

  it('is stale when no "Wait For Build" waits either', async () => {
    command('build');
    sfn.on(SendTaskSuccessCommand, { taskToken: 'wait-token-2' }).rejects(stale());
    expect(await invoke(handler, event('Success'), 'command-events')).toBe('stale');
  });

  it('never sends an upload command\'s result to a wait for the build', async () => {
    command('upload');
    expect(await invoke(handler, event('Success'), 'command-events')).toBe('stale');
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });
});
