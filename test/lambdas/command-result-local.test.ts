import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetCommandInvocationCommand, SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import type { SimInstance } from '../../local/services/ec2';
import { LocalSsm, type CommandStatusEvent } from '../../local/services/ssm';

/**
 * The result collector (the command-events Lambda's and the sweeper's) against the local Systems
 * Manager, which answers GetCommandInvocation as the API reference describes it for the build
 * document's two steps.
 */
const DOCUMENT = 'Ec2BuildAction-RunBuild';
const disks = fs.mkdtempSync(path.join(os.tmpdir(), 'ssm-steps-'));
const events: CommandStatusEvent[] = [];
const ssm = new LocalSsm({ documentName: DOCUMENT, timing: { registerMs: 0 }, disksDir: disks, onEvent: (e) => events.push(e) });
const instance: SimInstance = { instanceId: 'i-0123456789abcdef0', imageId: 'ami-0a1b2c3d4e5f67890', instanceType: 't3.medium', subnetId: 'subnet-a', launchTime: new Date(), tags: {}, launchTemplateId: 'lt-0local0000000000', state: 'running', stateReason: '', launch: { market: 'on-demand', hibernationConfigured: false } };
let client: SSMClient;
let collectResult: typeof import('../../lambdas/command-events/result').collectResult;

beforeAll(async () => {
  const endpoint = await ssm.start();
  Object.assign(process.env, { AWS_ENDPOINT_URL_SSM: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  client = new SSMClient({ endpoint });
  // The Lambda modules build their SDK client when loaded: after the endpoint is set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  collectResult = (require('../../lambdas/command-events/result') as typeof import('../../lambdas/command-events/result')).collectResult;
  ssm.instanceState = () => instance;
  ssm.instanceChanged(instance);
  await new Promise((r) => setTimeout(r, 20));
});
afterAll(async () => {
  await ssm.stop();
  fs.rmSync(disks, { recursive: true, force: true });
});

/** Sends a build command and waits until it reaches a final status. */
async function build(command: string, executionTimeout = '60', whileRunning?: () => void): Promise<string> {
  const out = await client.send(
    new SendCommandCommand({
      DocumentName: DOCUMENT,
      InstanceIds: [instance.instanceId],
      Parameters: { Phase: ['build'], JobId: ['job-1'], Command: [command], ExecutionTimeout: [executionTimeout], TaskToken: ['token-1'] },
    }),
  );
  const id = out.Command!.CommandId!;
  const finished = () => events.find((e) => e.detail['command-id'] === id && !['Pending', 'InProgress'].includes(e.detail.status));
  let poked = false;
  while (!finished()) {
    await new Promise((r) => setTimeout(r, 20));
    if (!poked && whileRunning && events.some((e) => e.detail['command-id'] === id && e.detail.status === 'InProgress')) {
      poked = true;
      whileRunning();
    }
  }
  return id;
}

describe('local Systems Manager: one result per step of the build document', () => {
  it('refuses GetCommandInvocation without PluginName, as the document has two steps; answers for each step by name', async () => {
    const id = await build('echo building; exit 3');
    const ask = (PluginName?: string) => client.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: instance.instanceId, PluginName }));
    await expect(ask()).rejects.toMatchObject({ name: 'InvalidPluginName' });
    await expect(ask('runShellScript')).rejects.toMatchObject({ name: 'InvalidPluginName' });
    await expect(ask('runBuildLinux')).resolves.toMatchObject({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: 3, StandardOutputContent: expect.stringContaining('building') });
    await expect(ask('runBuildWindows')).resolves.toMatchObject({ Status: 'Success', StandardOutputContent: expect.stringMatching(/^Step execution skipped due to unsatisfied preconditions/) });
  });

  it('gives the collector the step that ran, with its status and status details', async () => {
    const id = await build('echo building; exit 3');
    const finished = await collectResult(id, instance.instanceId, 'Failed');
    expect(finished?.taskToken).toBe('token-1');
    expect(finished?.result).toMatchObject({ status: 'Failed', statusDetails: 'Failed', exitCode: 3, outputTail: expect.stringContaining('building') });
  });

  it('reports a build that outlived its timeout as TimedOut with StatusDetails ExecutionTimedOut', async () => {
    const id = await build('sleep 30', '1');
    expect((await collectResult(id, instance.instanceId, 'TimedOut'))?.result).toMatchObject({ status: 'TimedOut', statusDetails: 'ExecutionTimedOut' });
  });

  it('reports a command whose instance went away as TimedOut with StatusDetails DeliveryTimedOut, not as an execution timeout', async () => {
    const lost = { ...instance, state: 'shutting-down' as const };
    const id = await build('sleep 30', '60', () => ssm.instanceChanged(lost));
    const event = events.find((e) => e.detail['command-id'] === id && e.detail.status !== 'InProgress' && e.detail.status !== 'Pending');
    expect(event?.detail.status).toBe('TimedOut');
    expect((await collectResult(id, instance.instanceId, 'TimedOut'))?.result).toMatchObject({ status: 'TimedOut', statusDetails: 'DeliveryTimedOut' });
  });
});
