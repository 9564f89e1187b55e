import { randomBytes } from 'node:crypto';
import { AwsError } from './aws-error';
import { TAGS } from '../../lambdas/shared/env';
import type { Chaos } from './chaos';
import { serveQueryProtocol, xmlEscape, type LocalServer } from './http';

/**
 * AMIs this simulated account can launch (Linux ones, as the local runner runs the Linux step), with
 * the snapshot behind each root device: a root volume may not be smaller than it.
 */
export const LOCAL_IMAGES: Record<string, { rootDeviceName: string; platform: string; rootSnapshotId: string; rootSnapshotGiB: number }> = {
  'ami-0a1b2c3d4e5f67890': { rootDeviceName: '/dev/xvda', platform: 'Linux/UNIX', rootSnapshotId: 'snap-0a1b2c3d4e5f67890', rootSnapshotGiB: 8 },
  'ami-0123456789abcdef0': { rootDeviceName: '/dev/sda1', platform: 'Linux/UNIX', rootSnapshotId: 'snap-0123456789abcdef0', rootSnapshotGiB: 8 },
  /** A large image (toolchains baked in): more than the stack's default 30 GiB root volume. */
  'ami-0fedcba9876543210': { rootDeviceName: '/dev/xvda', platform: 'Linux/UNIX', rootSnapshotId: 'snap-0fedcba9876543210', rootSnapshotGiB: 50 },
};
export const DEFAULT_IMAGE_ID = 'ami-0a1b2c3d4e5f67890';

/**
 * Launch templates of this simulated account and the EBS volume size of each block device they
 * map: the stack's template (lib/builder-instance.ts) with its default 30 GiB root.
 */
export const LOCAL_LAUNCH_TEMPLATES: Record<string, { blockDeviceGiB: Record<string, number> }> = {
  'lt-0local0000000000': { blockDeviceGiB: { '/dev/xvda': 30 } },
};

const FAMILIES = ['t3', 't3a', 't4g', 'm5', 'm6i', 'm6g', 'm7i', 'm7g', 'c5', 'c6i', 'c6g', 'c7i', 'c7g', 'r5', 'r6i', 'r7i', 'g4dn', 'g5', 'g6', 'p4d', 'p5', 'i4i'];
const SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge', 'metal'];

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
const STATE_CODES: Record<InstanceStateName, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

export interface SimInstance {
  readonly instanceId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly launchTime: Date;
  readonly tags: Record<string, string>;
  /** The launch template it was launched from (its instance profile decides the agent's role). */
  readonly launchTemplateId: string;
  state: InstanceStateName;
  stateReason: string;
  /** When its SSM agent came online (epoch ms), set by the SSM simulation. */
  onlineAt?: number;
}

export interface Ec2Timing {
  /** Simulated time from pending to running, in real milliseconds. */
  readonly bootMs: number;
  /** Up to this much added at random to each boot. */
  readonly bootJitterMs?: number;
  /** Time from terminate to terminated. */
  readonly shutdownMs: number;
}


/** The job an instance was launched for (its job-id tag). */
export function jobOf(instance: Pick<SimInstance, 'tags'>): string {
  return instance.tags[TAGS.jobId] ?? '';
}

/** Whether an instance has been released: shutting down or terminated. */
export function isReleased(instance: SimInstance): boolean {
  return instance.state === 'shutting-down' || instance.state === 'terminated';
}

function instanceTypeExists(type: string): boolean {
  const [family, size] = type.split('.');
  return FAMILIES.includes(family) && SIZES.includes(size);
}

function list(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) ?? '');
  return out;
}

/**
 * EC2's control plane, simulated: RunInstances, DescribeImages, DescribeInstances and
 * TerminateInstances with real states (pending → running → shutting-down → terminated),
 * client-token idempotency and AWS's own error codes for bad input.
 */
export class LocalEc2 {
  readonly instances = new Map<string, SimInstance>();
  private readonly tokens = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: LocalServer;
  chaos: Chaos = {};
  /** Called when an instance changes state (the SSM simulation registers agents on running). */
  onStateChange: (instance: SimInstance) => void = () => undefined;

  constructor(private readonly timing: Ec2Timing) {}

  async start(): Promise<string> {
    this.server = await serveQueryProtocol({
      DescribeImages: (p) => this.describeImages(p),
      RunInstances: (p) => this.runInstances(p),
      DescribeInstances: (p) => this.describeInstances(p),
      TerminateInstances: (p) => this.terminateInstances(p),
    });
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.server?.close();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private setState(instance: SimInstance, state: InstanceStateName, reason = ''): void {
    instance.state = state;
    if (reason) instance.stateReason = reason;
    this.onStateChange(instance);
  }

  private throttled(operation: string, jobId: string): void {
    if (jobId && this.chaos.throttle?.('ec2', operation, jobId)) throw new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
  }

  private checkImageId(imageId: string): void {
    if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(imageId)) throw new AwsError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!LOCAL_IMAGES[imageId]) throw new AwsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  }

  private describeImages(p: URLSearchParams): string {
    const items = list(p, 'ImageId').map((id) => {
      this.checkImageId(id);
      const img = LOCAL_IMAGES[id];
      const root = `<blockDeviceMapping><item><deviceName>${img.rootDeviceName}</deviceName><ebs><snapshotId>${img.rootSnapshotId}</snapshotId><volumeSize>${img.rootSnapshotGiB}</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs></item></blockDeviceMapping>`;
      return `<item><imageId>${id}</imageId><imageState>available</imageState><rootDeviceName>${img.rootDeviceName}</rootDeviceName><rootDeviceType>ebs</rootDeviceType><platformDetails>${img.platform}</platformDetails>${root}</item>`;
    });
    return `<DescribeImagesResponse><requestId>local</requestId><imagesSet>${items.join('')}</imagesSet></DescribeImagesResponse>`;
  }

  private runInstances(p: URLSearchParams): string {
    const token = p.get('ClientToken') ?? '';
    const existing = token ? this.tokens.get(token) : undefined;
    if (existing) return this.reservation('RunInstancesResponse', [this.instances.get(existing)!]);
    const imageId = p.get('ImageId') ?? '';
    const instanceType = p.get('InstanceType') ?? '';
    this.checkImageId(imageId);
    if (!instanceTypeExists(instanceType)) throw new AwsError('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
    if (!p.get('LaunchTemplate.LaunchTemplateId')) throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplate');
    this.checkRootVolume(p, imageId);
    const subnetId = p.get('SubnetId') ?? 'subnet-0default0000000';
    const tags: Record<string, string> = {};
    for (let i = 1; p.has(`TagSpecification.${i}.ResourceType`); i++) {
      if (p.get(`TagSpecification.${i}.ResourceType`) !== 'instance') continue;
      for (let j = 1; p.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
        tags[p.get(`TagSpecification.${i}.Tag.${j}.Key`)!] = p.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
      }
    }
    const jobId = jobOf({ tags });
    this.throttled('RunInstances', jobId);
    const fault = this.chaos.runInstances?.(jobId, subnetId, instanceType);
    if (fault) throw fault;
    const instance: SimInstance = {
      instanceId: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      imageId,
      instanceType,
      subnetId,
      launchTime: new Date(),
      tags,
      launchTemplateId: p.get('LaunchTemplate.LaunchTemplateId') ?? '',
      state: 'pending',
      stateReason: '',
    };
    this.instances.set(instance.instanceId, instance);
    if (token) this.tokens.set(token, instance.instanceId);
    if (!this.chaos.neverRuns?.(jobId)) {
      this.later(this.timing.bootMs + Math.random() * (this.timing.bootJitterMs ?? 0), () => {
        if (instance.state === 'pending') this.setState(instance, 'running');
      });
    }
    return this.reservation('RunInstancesResponse', [instance]);
  }

  /**
   * The root volume is the request's mapping for the AMI's root device, else the launch template's,
   * else the snapshot's own size; smaller than the snapshot is refused with InvalidBlockDeviceMapping
   * ("You can specify a volume size that is equal to or larger than the snapshot size":
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html), in EC2's words.
   */
  private checkRootVolume(p: URLSearchParams, imageId: string): void {
    const image = LOCAL_IMAGES[imageId];
    const templateId = p.get('LaunchTemplate.LaunchTemplateId') ?? '';
    const template = LOCAL_LAUNCH_TEMPLATES[templateId];
    if (!template) throw new AwsError('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${templateId}, does not exist.`);
    let size: number | undefined;
    for (let i = 1; p.has(`BlockDeviceMapping.${i}.DeviceName`); i++) {
      if (p.get(`BlockDeviceMapping.${i}.DeviceName`) === image.rootDeviceName && p.has(`BlockDeviceMapping.${i}.Ebs.VolumeSize`)) size = Number(p.get(`BlockDeviceMapping.${i}.Ebs.VolumeSize`));
    }
    size ??= template.blockDeviceGiB[image.rootDeviceName] ?? image.rootSnapshotGiB;
    if (size < image.rootSnapshotGiB) {
      throw new AwsError('InvalidBlockDeviceMapping', `Volume of size ${size}GB is smaller than  snapshot '${image.rootSnapshotId}', expect size >= ${image.rootSnapshotGiB}GB`);
    }
  }

  private describeInstances(p: URLSearchParams): string {
    const ids = list(p, 'InstanceId');
    let found = ids.map((id) => {
      const i = this.instances.get(id);
      if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return i;
    });
    if (ids.length === 0) found = [...this.instances.values()];
    for (let f = 1; p.has(`Filter.${f}.Name`); f++) {
      const name = p.get(`Filter.${f}.Name`)!;
      const values = list(p, `Filter.${f}.Value`);
      found = found.filter((i) => (name === 'instance-state-name' ? values.includes(i.state) : name.startsWith('tag:') ? values.includes(i.tags[name.slice(4)]) : true));
    }
    if (found[0]) this.throttled('DescribeInstances', jobOf(found[0]));
    const items = found.map((i) => `<item><reservationId>r-local</reservationId><ownerId>000000000000</ownerId><instancesSet>${this.instanceXml(i)}</instancesSet></item>`);
    return `<DescribeInstancesResponse><requestId>local</requestId><reservationSet>${items.join('')}</reservationSet></DescribeInstancesResponse>`;
  }

  /** Terminates an instance, as TerminateInstances or a Spot interruption does. */
  terminate(instance: SimInstance, reason: string): void {
    if (isReleased(instance)) return;
    this.setState(instance, 'shutting-down', reason);
    this.later(this.timing.shutdownMs, () => this.setState(instance, 'terminated', reason));
  }

  private terminateInstances(p: URLSearchParams): string {
    const instances = list(p, 'InstanceId').map((id) => {
      const i = this.instances.get(id);
      if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return i;
    });
    for (const i of instances) {
      const jobId = jobOf(i);
      this.throttled('TerminateInstances', jobId);
      const fault = this.chaos.terminate?.(jobId);
      if (fault) throw fault;
    }
    const items = instances.map((i) => {
      const previous = i.state;
      this.terminate(i, 'Client.UserInitiatedShutdown: User initiated shutdown');
      return `<item><instanceId>${i.instanceId}</instanceId><currentState><code>${STATE_CODES[i.state]}</code><name>${i.state}</name></currentState><previousState><code>${STATE_CODES[previous]}</code><name>${previous}</name></previousState></item>`;
    });
    return `<TerminateInstancesResponse><requestId>local</requestId><instancesSet>${items.join('')}</instancesSet></TerminateInstancesResponse>`;
  }

  private reservation(root: string, instances: SimInstance[]): string {
    return `<${root}><requestId>local</requestId><reservationId>r-local</reservationId><ownerId>000000000000</ownerId><instancesSet>${instances.map((i) => this.instanceXml(i)).join('')}</instancesSet></${root}>`;
  }

  private instanceXml(i: SimInstance): string {
    const tags = Object.entries(i.tags).map(([k, v]) => `<item><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></item>`).join('');
    const reason = i.stateReason ? `<stateReason><code>${xmlEscape(i.stateReason.split(':')[0])}</code><message>${xmlEscape(i.stateReason)}</message></stateReason>` : '';
    return `<item><instanceId>${i.instanceId}</instanceId><imageId>${i.imageId}</imageId><instanceState><code>${STATE_CODES[i.state]}</code><name>${i.state}</name></instanceState><instanceType>${i.instanceType}</instanceType><launchTime>${i.launchTime.toISOString()}</launchTime><subnetId>${i.subnetId}</subnetId>${reason}<tagSet>${tags}</tagSet></item>`;
  }
}
