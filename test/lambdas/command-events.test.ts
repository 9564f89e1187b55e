import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand, InvalidPluginName, ListCommandsCommand, SSMClient, type GetCommandInvocationCommandInput } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/command-events/handler';
import type { CommandResult } from '../../lambdas/shared/types';
import { invoke } from '../fixtures/lambda';

const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const event = (status: string) => ({ detail: { 'command-id': 'c-1', 'instance-id': 'i-0abc', status } });
const SKIP_MESSAGE = 'Step execution skipped due to unsatisfied preconditions: \'"StringEquals": [platformType, Linux]\'. Step name: runBuildLinux';

type Answer = { Status: string; StatusDetails: string; ResponseCode: number; StandardOutputContent?: string; StandardErrorContent?: string };

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
    expect(resumedWith()).toEqual({ commandId: 'c-1', status: 'Failed', statusDetails: 'Failed', exitCode: 2, outputTail: 'compiling', errorTail: 'make: *** Error 2' });
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
