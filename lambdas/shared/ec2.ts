import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, type Instance } from '@aws-sdk/client-ec2';

/** All EC2 calls the Lambdas make. The state machine terminates instances itself. */
const client = new EC2Client({});

export interface LaunchRequest {
  readonly launchTemplateId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId: string | null;
  readonly clientToken: string;
  readonly tags: Record<string, string>;
}

export async function runInstance(req: LaunchRequest): Promise<Instance> {
  const tags = Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value }));
  const out = await client.send(
    new RunInstancesCommand({
      LaunchTemplate: { LaunchTemplateId: req.launchTemplateId, Version: '$Latest' },
      ImageId: req.imageId,
      InstanceType: req.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: req.clientToken,
      ...(req.subnetId ? { SubnetId: req.subnetId } : {}),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    }),
  );
  const instance = out.Instances?.[0];
  if (!instance?.InstanceId) throw new Error('RunInstances returned no instance');
  return instance;
}

export interface InstanceState {
  readonly state: string;
  readonly reason: string;
}

/** The instance's state; null when EC2 does not know it (yet, or any more). */
export async function describeInstanceState(instanceId: string): Promise<InstanceState | null> {
  try {
    const out = await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    if (!instance) return null;
    return { state: instance.State?.Name ?? 'unknown', reason: instance.StateReason?.Message ?? instance.StateTransitionReason ?? '' };
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return null;
    throw err;
  }
}
