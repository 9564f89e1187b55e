import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Ec2Event } from '../../local/services/ec2-lifecycle';
import { LocalSsm } from '../../local/services/ssm';
import { DEFAULT_IMAGE_ID, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from '../../local/services/ec2';

/** The simulated EC2 beyond launch and terminate: markets, stop and start, hibernation, Spot interruptions, events. */
const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the simulated EC2 instance lifecycle', () => {
  // Mutable: a test that needs an instance to stay "stopping" lengthens stopMs for its own stop.
  const timing: ConstructorParameters<typeof LocalEc2>[0] & { stopMs?: number } = { bootMs: 20, shutdownMs: 20, startMs: 200, resumeMs: 20, spotNoticeMs: 60 };
  const ec2 = new LocalEc2(timing);
  const events: Ec2Event[] = [];
  ec2.onEvent = (e) => events.push(e);
  let client: EC2Client;
  beforeAll(async () => {
    client = new EC2Client(config(await ec2.start()));
  });
  afterAll(() => ec2.stop());
  const base: RunInstancesCommandInput = { ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } };
  const launch = async (extra: Partial<RunInstancesCommandInput> = {}) => {
    const out = await client.send(new RunInstancesCommand({ ...base, ...extra }));
    const id = out.Instances![0].InstanceId!;
    await until(id, 'running');
    return id;
  };
  const describe1 = async (id: string) => (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
  async function until(id: string, state: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await describe1(id)).State?.Name === state) return;
      await sleep(10);
    }
    throw new Error(`${id} never reached ${state}`);
  }

  it('stops a running instance and starts it again, emitting a state-change event for each state', async () => {
    const id = await launch();
    const stop = await client.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(stop.StoppingInstances![0]).toMatchObject({ PreviousState: { Name: 'running' }, CurrentState: { Name: 'stopping' } });
    await until(id, 'stopped');
    await client.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await until(id, 'running');
    const states = events.filter((e) => e.detail['instance-id'] === id).map((e) => e.detail.state);
    expect(states).toEqual(['pending', 'running', 'stopping', 'stopped', 'pending', 'running']);
    expect(events.find((e) => e.detail['instance-id'] === id)).toMatchObject({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', resources: [expect.stringContaining(`instance/${id}`)] });
  });

  it('resumes a hibernated instance faster than it starts a stopped one, and hibernates only one launched for it', async () => {
    const plain = await launch();
    const hibernating = await launch({ HibernationOptions: { Configured: true } });
    await client.send(new StopInstancesCommand({ InstanceIds: [plain, hibernating], Hibernate: true }));
    await until(plain, 'stopped');
    await until(hibernating, 'stopped');
    expect((await describe1(plain)).StateReason?.Code).toBe('Client.UserInitiatedShutdown');
    expect((await describe1(hibernating)).StateReason?.Code).toBe('Client.UserInitiatedHibernate');
    await client.send(new StartInstancesCommand({ InstanceIds: [plain, hibernating] }));
    await until(hibernating, 'running');
    expect((await describe1(plain)).State?.Name).toBe('pending');
    await until(plain, 'running');
  });

  it('refuses to stop a one-time Spot instance or an unknown one, and to start one that is stopping, in EC2\'s words', async () => {
    const spot = await launch({ InstanceMarketOptions: { MarketType: 'spot' } });
    expect((await describe1(spot)).InstanceLifecycle).toBe('spot');
    await expect(client.send(new StopInstancesCommand({ InstanceIds: [spot] }))).rejects.toMatchObject({ name: 'UnsupportedOperation', message: expect.stringContaining('one-time Spot Instance request') });
    const id = await launch();
    // Stopping for a minute, not 20 ms: on a loaded machine the start could otherwise find it stopped already.
    timing.stopMs = 60_000;
    await client.send(new StopInstancesCommand({ InstanceIds: [id] })).finally(() => delete timing.stopMs);
    expect((await describe1(id)).State?.Name).toBe('stopping');
    await expect(client.send(new StartInstancesCommand({ InstanceIds: [id] }))).rejects.toMatchObject({ name: 'IncorrectInstanceState' });
    await expect(client.send(new StopInstancesCommand({ InstanceIds: ['i-0000000000000dead'] }))).rejects.toMatchObject({ name: 'InvalidInstanceID.NotFound' });
  });

  it('refuses a stop or hibernate interruption behavior on a one-time Spot request', async () => {
    const spot = (behavior: 'stop' | 'hibernate', type: 'one-time' | 'persistent') =>
      client.send(new RunInstancesCommand({ ...base, InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: type, InstanceInterruptionBehavior: behavior } } }));
    await expect(spot('stop', 'one-time')).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    await expect(spot('hibernate', 'one-time')).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
    await expect(spot('stop', 'persistent')).resolves.toBeDefined();
  });

  it('warns of a Spot interruption before it terminates the instance, and never interrupts an on-demand one', async () => {
    const spot = await launch({ InstanceMarketOptions: { MarketType: 'spot' } });
    const onDemand = await launch();
    ec2.interruptSpot(ec2.instances.get(spot)!);
    ec2.interruptSpot(ec2.instances.get(onDemand)!);
    const warnings = events.filter((e) => e['detail-type'] === 'EC2 Spot Instance Interruption Warning');
    expect(warnings.map((w) => w.detail)).toEqual([{ 'instance-id': spot, 'instance-action': 'terminate' }]);
    expect((await describe1(spot)).State?.Name).toBe('running');
    await until(spot, 'terminated');
    expect((await describe1(spot)).StateReason?.Code).toBe('Server.SpotInstanceTermination');
    expect((await describe1(onDemand)).State?.Name).toBe('running');
  });

  it('stops a persistent Spot instance on interruption, which only EC2 may start again', async () => {
    const spot = await launch({ InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'persistent', InstanceInterruptionBehavior: 'stop' } } });
    ec2.interruptSpot(ec2.instances.get(spot)!);
    await until(spot, 'stopped');
    await expect(client.send(new StartInstancesCommand({ InstanceIds: [spot] }))).rejects.toMatchObject({ name: 'IncorrectInstanceState', message: expect.stringContaining('only Amazon EC2 can restart it') });
  });
});

describe('the simulated SSM agent of a stopped instance', () => {
  it('goes offline when its instance stops and registers again when it runs', async () => {
    // GIVEN the EC2 and SSM simulations wired as the local cloud wires them
    const disks = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-'));
    const ec2 = new LocalEc2({ bootMs: 10, shutdownMs: 10 });
    const ssm = new LocalSsm({ documentName: 'Doc', timing: { registerMs: 10 }, disksDir: disks, onEvent: () => undefined });
    ec2.onStateChange = (i) => ssm.instanceChanged(i);
    ssm.instanceState = (id) => ec2.instances.get(id);
    const client = new EC2Client(config(await ec2.start()));
    const agents = new SSMClient(config(await ssm.start()));
    const online = async (id: string) =>
      ((await agents.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }))).InstanceInformationList ?? []).some((i) => i.PingStatus === 'Online');
    const eventually = async (id: string, want: boolean) => {
      for (let i = 0; i < 100 && (await online(id)) !== want; i++) await sleep(10);
      return online(id);
    };
    try {
      const { Instances } = await client.send(new RunInstancesCommand({ ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } }));
      const id = Instances![0].InstanceId!;
      expect(await eventually(id, true)).toBe(true);
      // WHEN it stops, THEN its agent is offline; WHEN it starts again, THEN it is back online
      await client.send(new StopInstancesCommand({ InstanceIds: [id] }));
      expect(await eventually(id, false)).toBe(false);
      for (let i = 0; i < 100 && ec2.instances.get(id)!.state !== 'stopped'; i++) await sleep(10);
      await client.send(new StartInstancesCommand({ InstanceIds: [id] }));
      expect(await eventually(id, true)).toBe(true);
    } finally {
      await ec2.stop();
      await ssm.stop();
      fs.rmSync(disks, { recursive: true, force: true });
    }
  });
});
