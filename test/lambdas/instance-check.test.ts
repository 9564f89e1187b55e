import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient, ThrottlingException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { watchInstance } from '../../lambdas/instance-check/check';

const running = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'running' as const } }] }] };
const pending = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'pending' as const } }] }] };
const terminated = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'terminated' as const }, StateReason: { Message: 'Server.SpotInstanceTermination' } }] }] };
const online = { InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' as const }] };
const unregistered = { InstanceInformationList: [] };
const throttled = () => new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} });
const options = { watchMs: 20_000, intervalMs: 250, ec2Every: 8 };

/** A clock that advances only when the watcher sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
}

describe('watching the instance until it is ready', () => {
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  afterEach(() => {
    ec2.reset();
    ssm.reset();
  });

  it('is ready with one call when the agent is already online (online implies running)', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', { ...options, ...time })).toEqual({ state: null, agent: 'Online' });
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: ['i-0abc'] }] });
    expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(time.sleeps).toEqual([]);
  });

  it('looks every interval through boot and registration, reading EC2 only on the first and every 8th look', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(pending).resolves(running);
    const agent = ssm.on(DescribeInstanceInformationCommand);
    for (let i = 0; i < 11; i++) agent.resolvesOnce(unregistered);
    agent.resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', { ...options, ...time })).toEqual({ state: null, agent: 'Online' });
    expect(time.sleeps).toEqual(Array(11).fill(250));
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 12);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2); // looks 0 and 8
  });

  it('hands back InstanceNotReady while the instance is still pending when its time is up', async () => {
    ec2.on(DescribeInstancesCommand).resolves(pending);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 1000, ...time })).rejects.toMatchObject({ name: 'InstanceNotReady', message: 'instance i-0abc is still pending' });
    expect(time.sleeps).toEqual([250, 250, 250]);
  });

  it('hands back AgentNotOnline when the instance runs but its agent is not online', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'ConnectionLost' }] });
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 1000, ...time })).rejects.toMatchObject({
      name: 'AgentNotOnline',
      message: 'the SSM agent on i-0abc is ConnectionLost',
    });
  });

  it('looks once when the watch is 0', async () => {
    ec2.on(DescribeInstancesCommand).resolves(pending);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { watchMs: 0, intervalMs: 0, ec2Every: 8, ...time })).rejects.toMatchObject({ name: 'InstanceNotReady' });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });

  it('stops at once when the instance is gone', async () => {
    ec2.on(DescribeInstancesCommand).resolves(terminated);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, ...time })).rejects.toMatchObject({
      name: 'InstanceLost',
      message: expect.stringContaining('terminated (Server.SpotInstanceTermination)'),
    });
    expect(time.sleeps).toEqual([]);
  });

  it('notices a lost instance within 8 looks of it going', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(running).resolves(terminated);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, ...time })).rejects.toMatchObject({ name: 'InstanceLost' });
    expect(time.sleeps).toHaveLength(8);
  });

  it('backs off when AWS throttles the looks, reads EC2 again after, and still finds the instance ready', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolvesOnce(unregistered).rejectsOnce(throttled()).rejectsOnce(throttled()).resolvesOnce(unregistered).resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', { ...options, ...time })).toEqual({ state: null, agent: 'Online' });
    expect(time.sleeps).toEqual([250, 500, 1000, 1000]);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2); // first look, and the look after the throttling
  });

  it('hands back InstanceNotReady, for the state machine to retry, when every look was throttled', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(throttled());
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 3000, ...time })).rejects.toMatchObject({
      name: 'InstanceNotReady',
      message: 'AWS throttled every look at instance i-0abc (ThrottlingException)',
    });
    expect(time.sleeps).toEqual([500, 1000]);
  });

  it('fails on any other error (access denied is not "not yet")', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(watchInstance('i-0abc', { ...options, ...fakeTime() })).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
