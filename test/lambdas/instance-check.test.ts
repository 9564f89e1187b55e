import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { watchInstance } from '../../lambdas/instance-check/check';

const running = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'running' as const } }] }] };
const pending = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'pending' as const } }] }] };
const terminated = { Reservations: [{ Instances: [{ InstanceId: 'i-0abc', State: { Name: 'terminated' as const }, StateReason: { Message: 'Server.SpotInstanceTermination' } }] }] };
const online = { InstanceInformationList: [{ InstanceId: 'i-0abc', PingStatus: 'Online' as const }] };

/** A clock that advances only when the watcher sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
}

describe('watching the instance', () => {
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  afterEach(() => {
    ec2.reset();
    ssm.reset();
  });

  it('returns as soon as the instance is running, looking every interval', async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(pending).resolvesOnce(pending).resolves(running);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', 'running', { watchMs: 20_000, intervalMs: 250, ...time })).toEqual({ state: 'running', agent: null });
    expect(time.sleeps).toEqual([250, 250]);
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it('waits for the agent to come online', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolvesOnce({ InstanceInformationList: [] }).resolves(online);
    const time = fakeTime();
    expect(await watchInstance('i-0abc', 'online', { watchMs: 20_000, intervalMs: 250, ...time })).toEqual({ state: 'running', agent: 'Online' });
    expect(time.sleeps).toEqual([250]);
  });

  it('hands back to the state machine with the last "not yet" once its time is up', async () => {
    ec2.on(DescribeInstancesCommand).resolves(running);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const time = fakeTime();
    await expect(watchInstance('i-0abc', 'online', { watchMs: 1000, intervalMs: 250, ...time })).rejects.toMatchObject({ name: 'AgentNotOnline' });
    expect(time.sleeps).toEqual([250, 250, 250]);
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 4);
  });

  it('looks once when the watch is 0', async () => {
    ec2.on(DescribeInstancesCommand).resolves(pending);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', 'running', { watchMs: 0, intervalMs: 0, ...time })).rejects.toMatchObject({ name: 'InstanceNotReady' });
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });

  it('stops at once when the instance is gone', async () => {
    ec2.on(DescribeInstancesCommand).resolves(terminated);
    const time = fakeTime();
    await expect(watchInstance('i-0abc', 'online', { watchMs: 20_000, intervalMs: 250, ...time })).rejects.toMatchObject({
      name: 'InstanceLost',
      message: expect.stringContaining('terminated (Server.SpotInstanceTermination)'),
    });
    expect(time.sleeps).toEqual([]);
  });
});
