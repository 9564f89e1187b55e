import { randomUUID } from 'node:crypto';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CAPACITY_CODES, instanceStates, SPOT_MARKET_OPTIONS } from './ec2';
import { POOL_TAGS, TAGS } from './env';
import { errorCode } from './errors';
import type { Fleet, Market } from './fleets';

/**
 * The EC2 and Systems Manager calls for fleets' pool instances: launching them for a pool, stopping,
 * starting and terminating them, finding a fleet's instances, asking whose agents are online, and
 * handing one to a job. Build instances launched for one job go through ec2.ts.
 */
const ec2 = new EC2Client({});
const ssm = new SSMClient({});

export { POOL_TAGS };

export type PoolKind = 'hot' | 'stopped';
export type InstanceMarket = 'on-demand' | 'spot';

export interface PoolLaunchRequest {
  readonly fleetName: string;
  readonly fleet: Fleet;
  /** The fleet's image, resolved to an AMI ID (images.ts): members record what they were launched from. */
  readonly imageId: string;
  readonly count: number;
  readonly pool: PoolKind;
  /** The market to buy in: the fleet's, or on-demand while its circuit breaker is open. */
  readonly market: Market;
  readonly launchTemplateId: string;
  /** Subnets to try in order; empty means the launch template's. */
  readonly subnetIds: readonly string[];
  readonly stackTagValue: string;
  /** An encrypted root volume under this device name, when the launch template's does not fit the AMI. */
  readonly rootVolume?: { deviceName: string; sizeGiB: number } | null;
}

export interface LaunchedPoolInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly market: InstanceMarket;
  readonly subnetId: string | null;
  readonly launchedAt: string;
}

export interface PoolLaunch {
  readonly launched: LaunchedPoolInstance[];
  /** Where EC2 had no room ("t3.large spot in subnet-1: InsufficientInstanceCapacity"), when fewer than asked were launched. */
  readonly refusals: string[];
}

/**
 * The markets to try, in order. The stopped pool is always on-demand: a Spot instance can be stopped
 * only under a persistent request, which EC2 itself restarts or relaunches (fleets.ts, checkTogether).
 */
export function marketsFor(market: Market, pool: PoolKind): InstanceMarket[] {
  if (pool === 'stopped' || market === 'on-demand') return ['on-demand'];
  return market === 'spot' ? ['spot'] : ['spot', 'on-demand'];
}

function launchInput(req: PoolLaunchRequest, instanceType: string, subnetId: string | null, market: InstanceMarket, count: number): RunInstancesCommandInput {
  const tags = Object.entries({ [TAGS.stack]: req.stackTagValue, [POOL_TAGS.fleet]: req.fleetName, [POOL_TAGS.pool]: req.pool }).map(([Key, Value]) => ({ Key, Value }));
  // StopInstances hibernates only an instance "enabled for hibernation at launch" and otherwise shuts it down
  // (Hibernate in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html), so a stopped-pool
  // member of a hibernating fleet is launched with HibernationOptions.Configured
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_HibernationOptionsRequest.html); the stopped pool is on-demand.
  const hibernate = req.pool === 'stopped' && req.fleet.hibernate;
  return {
    LaunchTemplate: { LaunchTemplateId: req.launchTemplateId, Version: '$Latest' },
    ImageId: req.imageId,
    InstanceType: instanceType as never,
    // MinCount 1: EC2 launches as many as it has room for up to MaxCount, and none below MinCount
    // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html).
    MinCount: 1,
    MaxCount: count,
    // A token per call: a retry of this call by the SDK launches nothing twice (same page, ClientToken).
    ClientToken: `pool-${randomUUID()}`,
    ...(subnetId ? { SubnetId: subnetId } : {}),
    ...(market === 'spot' ? { InstanceMarketOptions: SPOT_MARKET_OPTIONS } : {}),
    ...(hibernate ? { HibernationOptions: { Configured: true } } : {}),
    ...(req.rootVolume
      ? { BlockDeviceMappings: [{ DeviceName: req.rootVolume.deviceName, Ebs: { Encrypted: true, VolumeSize: req.rootVolume.sizeGiB, VolumeType: 'gp3', DeleteOnTermination: true } }] }
      : {}),
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}

/**
 * Launches up to `count` pool instances, walking the markets, then the fleet's instance types, then the
 * subnets whenever EC2 has no capacity, as launch.ts does for a job. Returns what was launched and the
 * refusals; an error that is not about capacity (a bad AMI, no permission) is thrown.
 */
export async function launchPoolInstances(req: PoolLaunchRequest): Promise<PoolLaunch> {
  const subnets: (string | null)[] = req.subnetIds.length > 0 ? [...req.subnetIds] : [null];
  const attempts = marketsFor(req.market, req.pool).flatMap((market) => req.fleet.instanceTypes.flatMap((instanceType) => subnets.map((subnetId) => ({ market, instanceType, subnetId }))));
  const launched: LaunchedPoolInstance[] = [];
  const refusals: string[] = [];
  let spotRefused = false;
  for (const { market, instanceType, subnetId } of attempts) {
    if (spotRefused && market === 'spot') continue;
    // The same place again while it keeps launching (EC2 may give fewer than MaxCount), the next one once it refuses.
    while (launched.length < req.count) {
      try {
        const out = await ec2.send(new RunInstancesCommand(launchInput(req, instanceType, subnetId, market, req.count - launched.length)));
        const instances = (out.Instances ?? []).filter((i) => i.InstanceId);
        if (instances.length === 0) throw new Error('RunInstances returned no instance');
        for (const i of instances) {
          launched.push({ instanceId: i.InstanceId!, instanceType: i.InstanceType ?? instanceType, market, subnetId: i.SubnetId ?? subnetId, launchedAt: (i.LaunchTime ?? new Date()).toISOString() });
        }
      } catch (err) {
        const code = errorCode(err);
        if (!CAPACITY_CODES.has(code)) {
          // Spot refused for a reason no other type or subnet changes (a denied permission, the Spot service-linked role
          // missing): on-demand may still launch; the refusal stays in the report.
          if (market !== 'spot' || !marketsFor(req.market, req.pool).includes('on-demand')) throw err;
          spotRefused = true;
          refusals.push(`spot: ${code}`);
          break;
        }
        refusals.push(`${instanceType} ${market} in ${subnetId ?? 'default subnet'}: ${code}`);
        break;
      }
    }
    if (launched.length >= req.count) break;
  }
  return { launched, refusals: launched.length >= req.count ? [] : refusals };
}

/**
 * Stops a pool instance whose agent registered, hibernating it when the fleet asks: "If the instance cannot
 * hibernate successfully, a normal shutdown occurs" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html).
 */
export async function stopPoolInstance(instanceId: string, hibernate: boolean): Promise<void> {
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId], ...(hibernate ? { Hibernate: true } : {}) }));
}

/** Starts a stopped pool instance (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html). */
export async function startInstance(instanceId: string): Promise<void> {
  await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
}

/**
 * Terminates instances, one call each: one unknown ID fails a whole TerminateInstances call with
 * InvalidInstanceID.NotFound (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), and
 * an instance gone already is what the caller wants. One already shutting down or terminated is answered
 * with its previous state, not an error (PreviousState in
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_TerminateInstances.html; ec2.ts relies on the same).
 */
export async function terminateInstances(instanceIds: readonly string[]): Promise<void> {
  for (const id of instanceIds) {
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    } catch (err) {
      if (errorCode(err) !== 'InvalidInstanceID.NotFound') throw err;
    }
  }
}

export interface FleetInstance {
  readonly instanceId: string;
  /** pending, running, shutting-down, stopping or stopped. */
  readonly state: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly market: InstanceMarket;
  readonly launchTime: Date;
  readonly pool: string | null;
  /** Launched with hibernation enabled (HibernationOptions.Configured): only such an instance can hibernate. */
  readonly hibernationConfigured: boolean;
}

/** The states a fleet's instances are listed in: every one but terminated. */
const LISTED_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

/**
 * The stack's instances of a fleet, in every state but terminated, by their tags (filters `tag:<key>` and
 * `instance-state-name`), every page: a response holds at most MaxResults (5 to 1000) and a NextToken while
 * more remain (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). EC2 is
 * eventually consistent: an instance launched a moment ago may be missing yet
 * (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html); the caller allows for that.
 */
export async function describeFleetInstances(stackTagValue: string, fleet: string): Promise<FleetInstance[]> {
  const Filters = [
    { Name: `tag:${TAGS.stack}`, Values: [stackTagValue] },
    { Name: `tag:${POOL_TAGS.fleet}`, Values: [fleet] },
    { Name: 'instance-state-name', Values: LISTED_STATES },
  ];
  const found: FleetInstance[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 1000, NextToken }));
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (!i.InstanceId) continue;
      found.push({
        instanceId: i.InstanceId,
        state: i.State?.Name ?? 'pending',
        imageId: i.ImageId ?? '',
        instanceType: i.InstanceType ?? '',
        // InstanceLifecycle is "spot" for a Spot Instance and absent for on-demand (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Instance.html).
        market: i.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
        launchTime: i.LaunchTime ?? new Date(0),
        pool: i.Tags?.find((t) => t.Key === POOL_TAGS.pool)?.Value ?? null,
        hibernationConfigured: i.HibernationOptions?.Configured === true,
      });
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return found;
}

/**
 * The states of the given instances, terminated ones included (no state filter: EC2 lists a terminated instance for a
 * while, about an hour); an instance EC2 does not know is absent from the map. One call per 100 IDs, whatever their
 * number (ec2.ts instanceStates), by the instance-id filter: these are members the fleet's listing left out, mostly
 * launched a moment ago, which a call naming them by InstanceIds would find unknown (InvalidInstanceID.NotFound) and
 * have to ask again (the readiness watcher names its instances by ID: ec2.ts watchedInstanceStates).
 */
export async function instanceStatesById(instanceIds: readonly string[]): Promise<Map<string, string>> {
  const states = await instanceStates(instanceIds);
  // An instance EC2 gives no state name for is taken as still pending, as before.
  return new Map([...states].map(([id, s]) => [id, s.state === 'unknown' ? 'pending' : s.state]));
}

/**
 * Instance IDs per DescribeInstanceInformation call: the InstanceIds filter takes up to 100 values
 * (InstanceInformationFilterValueSet in the SSM API model, local/models/ssm.json), but one page holds at most
 * 50 nodes and 10 unless MaxResults says more (MaxResults in
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html), so 50
 * IDs a call fit one page. NextToken is still followed, in case SSM pages sooner.
 */
export const AGENT_IDS_PER_CALL = 50;

/**
 * The instances among `instanceIds` whose SSM agent is Online. The same page: stopped and terminated nodes are
 * not returned, and a node that has not registered yet is simply absent, not an error.
 */
export async function agentsOnline(instanceIds: readonly string[]): Promise<Set<string>> {
  const online = new Set<string>();
  for (let i = 0; i < instanceIds.length; i += AGENT_IDS_PER_CALL) {
    const Filters = [{ Key: 'InstanceIds', Values: instanceIds.slice(i, i + AGENT_IDS_PER_CALL) }];
    let NextToken: string | undefined;
    do {
      const out = await ssm.send(new DescribeInstanceInformationCommand({ Filters, MaxResults: AGENT_IDS_PER_CALL, NextToken }));
      for (const info of out.InstanceInformationList ?? []) if (info.InstanceId && info.PingStatus === 'Online') online.add(info.InstanceId);
      NextToken = out.NextToken;
    } while (NextToken);
  }
  return online;
}

/**
 * Gives a claimed pool instance the job's tags, so the IAM conditions, the sweeper and the release paths
 * treat it as that job's build instance. CreateTags overwrites a key's value and a resource takes at most 50
 * tags (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html): a pool instance has 3.
 */
export async function tagForJob(instanceId: string, jobId: string, executionName: string): Promise<void> {
  await ec2.send(
    new CreateTagsCommand({
      Resources: [instanceId],
      Tags: [
        { Key: TAGS.jobId, Value: jobId },
        { Key: TAGS.execution, Value: executionName },
      ],
    }),
  );
}
