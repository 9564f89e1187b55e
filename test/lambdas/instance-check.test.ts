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
const options = { watchMs: 20_000, pendingIntervalMs: 500, runningIntervalMs: 100, fastWindowMs: 180_000, lateIntervalMs: 1000, ec2Every: 20 };

/** A clock that advances only when the watcher sleeps. */
function fakeTime(start = 0) {
  let t = start;
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
    const time = fakeTime(Date.parse('2026-11-22T10:00:00Z'));
    expect(await watchInstance('i-0abc', { ...options, ...time })).toEqual({ readyAt: '2026-11-22T10:00:00.000Z' });
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: ['i-0abc'] }] });
    expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(time.sleeps).toEqual([]);
  });

  it('asks EC2 alone every 500 ms while pending, then Systems Manager every 100 ms once running', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(pending).resolvesOnce(pending).resolvesOnce(pending).resolves(running);
    const agent = ssm.on(DescribeInstanceInformationCommand);
    for (let i = 0; i < 4; i++) agent.resolvesOnce(unregistered);
    agent.resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', { ...options, ...time })).toEqual({ readyAt: new Date(1900).toISOString() });
    // looks: both (pending), EC2 (pending), EC2 (pending), EC2 (running), then the agent: 3 not yet, online
    expect(time.sleeps).toEqual([500, 500, 500, 100, 100, 100, 100]);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 4);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 5);
  });

  it('asks EC2 as well every 20 looks while running, and stops at once when the instance is gone', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(running).resolves(terminated);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, ...time })).rejects.toMatchObject({
      name: 'InstanceLost',
      message: expect.stringContaining('terminated (Server.SpotInstanceTermination)'),
    });
    expect(time.sleeps).toEqual(Array(20).fill(100));
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 21);
  });

  it('looks once a second for an agent still missing 3 minutes after launch', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'ConnectionLost' }] });
    const time = fakeTime(200_000);
    await expect(watchInstance('i-0abc', { ...options, launchedAt: 0, ...time })).rejects.toMatchObject({
      name: 'AgentNotOnline',
      message: 'the SSM agent on i-0abc is ConnectionLost',
    });
    expect(time.sleeps).toEqual(Array(19).fill(1000));
    expect(ssm.commandCalls(DescribeInstanceInformationCommand).length).toBe(20);
  });

  it('hands back InstanceNotReady while the instance is still pending when its time is up', async () => {
    ec2.on(DescribeInstancesCommand).resolves(pending);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 2000, ...time })).rejects.toMatchObject({ name: 'InstanceNotReady', message: 'instance i-0abc is still pending' });
    expect(time.sleeps).toEqual([500, 500, 500]);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1); // the agent cannot be online while pending
  });

  it('looks once when the watch is 0', async () => {
    ec2.on(DescribeInstancesCommand).resolves(pending);
    ssm.on(DescribeInstanceInformationCommand).resolves(unregistered);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 0, ...time })).rejects.toMatchObject({ name: 'InstanceNotReady' });
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });

  it('backs off when AWS throttles the looks, asks EC2 again after, and still finds the instance ready', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolvesOnce(unregistered).rejectsOnce(throttled()).rejectsOnce(throttled()).resolvesOnce(unregistered).resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', { ...options, ...time })).toHaveProperty('readyAt');
    expect(time.sleeps).toEqual([100, 200, 400, 100]);
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2); // the first look, and the look after the throttling
  });

  it('hands back InstanceNotReady, for the state machine to retry, when every look was throttled', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(throttled());
    const time = fakeTime();
    await expect(watchInstance('i-0abc', { ...options, watchMs: 3000, ...time })).rejects.toMatchObject({
      name: 'InstanceNotReady',
      message: 'AWS throttled every look at instance i-0abc',
    });
    expect(time.sleeps).toEqual([200, 400, 800]);
  });

  it('fails on any other error (access denied is not "not yet")', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(watchInstance('i-0abc', { ...options, ...fakeTime() })).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
