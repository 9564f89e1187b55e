import { DescribeImagesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand, type DescribeInstancesCommandOutput, type Instance } from '@aws-sdk/client-ec2';

/**
 * EC2 error codes that mean "no room here now" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
 * the next subnet (Availability Zone), instance type or market may have room. Spot's own: UnfulfillableCapacity
 * ("there isn't enough spare capacity to fulfill your request for Spot Instances") and SpotMaxPriceTooLow (never sent
 * without a MaxPrice, taken in case the account's defaults set one).
 */
export const CAPACITY_CODES: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'Unsupported',
  'UnfulfillableCapacity',
  'SpotMaxPriceTooLow',
]);

/** All EC2 calls the Lambdas make (the state machine's own Release Instance calls EC2 directly). */
const client = new EC2Client({});
/**
 * The readiness watcher's, without retries of its own, as its Systems Manager client (lambdas/shared/ssm.ts): the
 * watcher asks again at a later round, while the SDK's retries of a refused call (any 5xx, throttling: 3 attempts with
 * exponential backoff, https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html) would hold up
 * every build's round behind them.
 */
const watcherClient = new EC2Client({ maxAttempts: 1 });

export interface LaunchRequest {
  readonly launchTemplateId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId: string | null;
  readonly clientToken: string;
  readonly tags: Record<string, string>;
  /** An encrypted root volume under this device name, when the launch template's does not fit the AMI. */
  readonly rootVolume: { deviceName: string; sizeGiB: number } | null;
  /** @default 'on-demand' */
  readonly market?: 'on-demand' | 'spot';
}

/**
 * A one-time Spot request whose instance terminates when interrupted: the only kind RunInstances takes without a
 * persistent request (SpotInstanceType in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html;
 * MarketType in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMarketOptionsRequest.html).
 */
export const SPOT_MARKET_OPTIONS = { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } as const;

export interface ImageInfo {
  readonly imageId: string;
  readonly rootDeviceName: string;
  readonly platform: string;
  readonly state: string;
  /** Size of the snapshot behind the root device, in GiB: the smallest root volume EC2 accepts. Null when not given. */
  readonly rootSnapshotGiB: number | null;
  /** i386, x86_64, arm64, x86_64_mac or arm64_mac (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html); null when not given. */
  readonly architecture: string | null;
}

/** The AMI's root device, its snapshot size and platform; null when EC2 does not know it. Throws InvalidAMIID.* codes. */
export async function describeImage(imageId: string): Promise<ImageInfo | null> {
  const out = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const image = out.Images?.[0];
  if (!image) return null;
  const rootDeviceName = image.RootDeviceName ?? '';
  const root = image.BlockDeviceMappings?.find((m) => m.DeviceName === rootDeviceName);
  return {
    imageId: image.ImageId ?? imageId,
    rootDeviceName,
    architecture: image.Architecture ?? null,
    platform: image.PlatformDetails ?? image.Platform ?? 'Linux/UNIX',
    state: image.State ?? 'available',
    rootSnapshotGiB: root?.Ebs?.VolumeSize ?? null,
  };
}

/**
 * The architectures each instance type runs (ProcessorInfo.SupportedArchitectures:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ProcessorInfo.html), in one call: up to 100 types a call
 * (the model's InstanceType list) and a job names at most 5. A type EC2 does not offer fails the call with
 * InvalidInstanceType. A type EC2 leaves out of its answer is left out here.
 */
export async function instanceTypeArchitectures(instanceTypes: readonly string[]): Promise<Map<string, readonly string[]>> {
  const out = await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [...instanceTypes] as never[] }));
  const architectures = new Map<string, readonly string[]>();
  for (const info of out?.InstanceTypes ?? []) {
    if (info.InstanceType && info.ProcessorInfo?.SupportedArchitectures) architectures.set(info.InstanceType, info.ProcessorInfo.SupportedArchitectures);
  }
  return architectures;
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
      ...(req.market === 'spot' ? { InstanceMarketOptions: SPOT_MARKET_OPTIONS } : {}),
      ...(req.rootVolume
        ? {
            BlockDeviceMappings: [
              {
                DeviceName: req.rootVolume.deviceName,
                Ebs: { Encrypted: true, VolumeSize: req.rootVolume.sizeGiB, VolumeType: 'gp3', DeleteOnTermination: true },
              },
            ],
          }
        : {}),
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

const instancesOf = (out: { Reservations?: { Instances?: Instance[] }[] }): Instance[] => (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);

/**
 * One instance as DescribeInstances gives it; null when EC2 does not know it (yet, or any more). Named by InstanceIds,
 * which keeps the call working while another Availability Zone is disrupted (a call that names no instance IDs fails
 * then: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html), and by an instance-id
 * filter as well: EC2 gives "unfiltered and unpaginated" DescribeInstances a bucket half the size of other
 * non-mutating calls (50 requests, refilled 10 a second, against 100 and 20) and does not say whether InstanceIds
 * alone counts as a filter (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html); with a filter
 * the call is in the larger bucket under either reading.
 */
async function describeOne(instanceId: string): Promise<Instance | null> {
  try {
    return instancesOf(await client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId], Filters: [{ Name: 'instance-id', Values: [instanceId] }] })))[0] ?? null;
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return null;
    throw err;
  }
}

/** The instance's state; null when EC2 does not know it (yet, or any more). */
export async function describeInstanceState(instanceId: string): Promise<InstanceState | null> {
  const instance = await describeOne(instanceId);
  return instance ? stateOf(instance) : null;
}

/**
 * The states of many instances at once, for the pool refill: by the instance-id filter alone, paginated, one call per
 * 100 IDs whatever their number. An ID EC2 does not know (launched a moment ago and not visible yet, or gone) is left
 * out; the refill's batches are the members its fleet listing left out, mostly just launched. A call that names no
 * instance IDs fails while an Availability Zone is disrupted (API_DescribeInstances.html), as the refill's listing does:
 * its next pass asks again.
 */
export function instanceStates(instanceIds: readonly string[]): Promise<Map<string, InstanceState>> {
  return statesInBatches(instanceIds, (batch) => describeByFilter((command) => client.send(command), batch));
}

/**
 * The states of many instances at once, for the readiness watcher: one call per 100 IDs, naming them by InstanceIds,
 * so that it keeps working for instances in other zones while an Availability Zone is disrupted ("If you describe
 * instances in the rare case where an Availability Zone is experiencing a service disruption and you specify instance
 * IDs that are in the affected zone, or do not specify any instance IDs at all, the call fails. If you describe
 * instances and specify only instance IDs that are in an unaffected zone, the call works normally":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html); the watcher asks about each
 * subnet's instances apart (lambdas/readiness-watcher/watch.ts askEc2). An instance-id filter goes with the IDs, which
 * puts the call in EC2's larger non-mutating bucket under either reading of the throttling page (describeOne).
 * An ID EC2 does not know (launched a moment ago and not visible yet: eventual consistency) fails such a call with
 * InvalidInstanceID.NotFound (InvalidInstanceID.Malformed for one that is not an ID: taken alike); that batch is then
 * asked by the filter alone, which leaves the ID out, and which a disruption fails too: then the batch is unanswered
 * until the ID becomes visible, seconds later. The docs name no error code for a disrupted zone: any other error is
 * thrown, and the watcher takes it as "not answered this time". No SDK retries (watcherClient); each request is given up
 * after `requestTimeoutMs` (the SDK sets no timeout of its own), so that one that hangs does not hold up the watcher.
 */
export function watchedInstanceStates(instanceIds: readonly string[], requestTimeoutMs: number): Promise<Map<string, InstanceState>> {
  const send = (command: DescribeInstancesCommand) => watcherClient.send(command, { abortSignal: AbortSignal.timeout(requestTimeoutMs) });
  return statesInBatches(instanceIds, (batch) => describeById(batch, send));
}

/** An instance's state and the reason EC2 gives for it. */
function stateOf(i: Instance): InstanceState {
  return { state: i.State?.Name ?? 'unknown', reason: i.StateReason?.Message ?? i.StateTransitionReason ?? '' };
}

/** The states of the instances `describe` finds, asked about 100 at a time, one batch after another. */
async function statesInBatches(instanceIds: readonly string[], describe: (batch: readonly string[]) => Promise<Instance[]>): Promise<Map<string, InstanceState>> {
  const states = new Map<string, InstanceState>();
  for (let i = 0; i < instanceIds.length; i += STATES_PER_CALL) {
    for (const instance of await describe(instanceIds.slice(i, i + STATES_PER_CALL))) if (instance.InstanceId) states.set(instance.InstanceId, stateOf(instance));
  }
  return states;
}

const UNKNOWN_ID_CODES: ReadonlySet<string> = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** One batch of up to 100 instances by InstanceIds (MaxResults cannot go with them; 100 fit one answer), by the filter when an ID is unknown. */
async function describeById(ids: readonly string[], send: Describe): Promise<Instance[]> {
  try {
    return instancesOf(await send(new DescribeInstancesCommand({ InstanceIds: [...ids], Filters: [{ Name: 'instance-id', Values: [...ids] }] })));
  } catch (err) {
    if (!UNKNOWN_ID_CODES.has((err as { name?: string }).name ?? '')) throw err;
    return describeByFilter(send, ids);
  }
}

/** Sends one DescribeInstances. */
type Describe = (command: DescribeInstancesCommand) => Promise<DescribeInstancesCommandOutput>;

/**
 * One batch of up to 100 instances by the instance-id filter alone, paginated. The API reference gives no limit on a
 * filter's values (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Filter.html); 100 stays well within the
 * 1,000 IDs EC2's pagination guide allows a call that lists IDs (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html).
 */
async function describeByFilter(send: Describe, ids: readonly string[]): Promise<Instance[]> {
  const Filters = [{ Name: 'instance-id', Values: [...ids] }];
  const found: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const out = await send(new DescribeInstancesCommand({ Filters, MaxResults: 1000, NextToken }));
    found.push(...instancesOf(out));
    NextToken = out.NextToken;
  } while (NextToken);
  return found;
}

/** Instances asked about in one DescribeInstances call (instanceStates). */
export const STATES_PER_CALL = 100;

/** The instance's tags; null when EC2 does not know it. */
export async function instanceTags(instanceId: string): Promise<Record<string, string> | null> {
  const instance = await describeOne(instanceId);
  return instance ? Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) : null;
}

export interface TaggedInstance {
  readonly instanceId: string;
  readonly state: string;
  readonly launchTime: Date;
  readonly tags: Record<string, string>;
}

/**
 * Instances that carry every given tag and are not terminated yet, in the pages of DescribeInstances: `Filters` narrow
 * them server-side and MaxResults bounds each response, so a listing costs one call per `pageSize` instances and never
 * loads an unbounded response. A paginated request (MaxResults
 * or NextToken) with filters takes from the larger non-mutating bucket (100, refilled 20 a second), where an unfiltered
 * and unpaginated one takes from the smaller one (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html);
 * MaxResults is 5 to 1000 and cannot be given with InstanceIds, and only a response without NextToken is the last
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html: "We strongly recommend using only
 * paginated requests. Unpaginated requests are susceptible to throttling and timeouts").
 */
export async function listTaggedInstances(tags: Record<string, string>, pageSize = 1000): Promise<TaggedInstance[]> {
  const Filters = [
    ...Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
    { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
  ];
  const found: TaggedInstance[] = [];
  let NextToken: string | undefined;
  do {
    const out = await client.send(new DescribeInstancesCommand({ Filters, MaxResults: pageSize, NextToken }));
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      found.push({
        instanceId: i.InstanceId ?? '',
        state: i.State?.Name ?? 'unknown',
        launchTime: i.LaunchTime ?? new Date(0),
        tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      });
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return found;
}

/**
 * Terminates the instances; returns those this call stopped, leaving out any EC2 says was already
 * shutting down or terminated (released meanwhile by its own execution).
 */
export async function terminateInstances(instanceIds: string[]): Promise<string[]> {
  if (instanceIds.length === 0) return [];
  const out = await client.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  const already = new Set(
    (out.TerminatingInstances ?? [])
      .filter((i) => i.PreviousState?.Name === 'shutting-down' || i.PreviousState?.Name === 'terminated')
      .map((i) => i.InstanceId),
  );
  return instanceIds.filter((id) => !already.has(id));
}
