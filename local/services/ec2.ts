import { randomBytes } from 'node:crypto';
import { AwsError } from './aws-error';
import { TAGS } from '../../lambdas/shared/env';
import type { Chaos } from './chaos';
import type { Ec2Throttle } from './ec2-throttle';
import { checkImageId, checkRootVolume, describeImages, list } from './ec2-images';
import { checkArchitecture, describeInstanceTypes, instanceTypeExists } from './ec2-instance-types';
import { interruptionWarning, launchOptions, startRefusal, stateChangeEvent, stopRefusal, type Ec2Event, type LaunchOptions } from './ec2-lifecycle';
import { serveQueryProtocol, xmlEscape, type LocalServer } from './http';

export { DEFAULT_IMAGE_ID, LOCAL_IMAGES, LOCAL_LAUNCH_TEMPLATES } from './ec2-images';

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
  /** Its market, Spot request and hibernation settings. */
  readonly launch: LaunchOptions;
  /** Stopped by hibernation (resumes faster). */
  hibernated?: boolean;
  /** Stopped by a Spot interruption: only EC2 restarts it. */
  interruptedBySpot?: boolean;
}

export interface Ec2Timing {
  /** Simulated time from pending to running, in real milliseconds. */
  readonly bootMs: number;
  /** Up to this much added at random to each boot. */
  readonly bootJitterMs?: number;
  /** Time from terminate to terminated. */
  readonly shutdownMs: number;
  /** Time from stop to stopped. @default shutdownMs */
  readonly stopMs?: number;
  /** Time from start to running for a stopped instance. @default bootMs */
  readonly startMs?: number;
  /** Time from start to running for a hibernated instance. @default startMs */
  readonly resumeMs?: number;
  /** Time from a Spot interruption warning to the interruption (two minutes on AWS). @default shutdownMs */
  readonly spotNoticeMs?: number;
}


/** The job an instance was launched for (its job-id tag). */
export function jobOf(instance: Pick<SimInstance, 'tags'>): string {
  return instance.tags[TAGS.jobId] ?? '';
}

/** Whether an instance has been released: shutting down or terminated. */
export function isReleased(instance: SimInstance): boolean {
  return instance.state === 'shutting-down' || instance.state === 'terminated';
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
  /** Instances a build has registered for (terminatedAfterRegisteredMs). */
  private readonly registeredFor = new Set<string>();
  private server?: LocalServer;
  chaos: Chaos = {};
  /** Subnets whose Availability Zone is disrupted: DescribeInstances fails for them (refuseDisrupted). */
  readonly disruptedSubnets = new Set<string>();
  /** Called when an instance changes state (the SSM simulation registers agents on running). */
  onStateChange: (instance: SimInstance) => void = () => undefined;
  /** Where the events EC2 emits go (the local EventBridge). */
  onEvent: (event: Ec2Event) => void = () => undefined;

  /**
   * @param throttle the account's EC2 token buckets (local/services/ec2-throttle.ts): every request takes from them
   * before anything else, in addition to injected throttling (chaos.throttle). The local cloud always gives one;
   * a bare LocalEc2 in a service test throttles only when given one.
   */
  constructor(
    private readonly timing: Ec2Timing,
    readonly throttle?: Ec2Throttle,
  ) {}

  async start(): Promise<string> {
    const operations: Record<string, (p: URLSearchParams) => string> = {
      DescribeImages: (p) => describeImages(p),
      DescribeInstanceTypes: (p) => describeInstanceTypes(p),
      RunInstances: (p) => this.runInstances(p),
      DescribeInstances: (p) => this.describeInstances(p),
      TerminateInstances: (p) => this.terminateInstances(p),
      StopInstances: (p) => this.stopInstances(p),
      StartInstances: (p) => this.startInstances(p),
      CreateTags: (p) => this.createTags(p),
    };
    const throttle = this.throttle;
    const unthrottled = Object.keys(operations).filter((action) => throttle && !throttle.knows(action));
    if (unthrottled.length) throw new Error(`LocalEc2: no throttling buckets for ${unthrottled.join(', ')} (local/services/ec2-throttle.ts)`);
    const gated = Object.entries(operations).map(([action, op]) => [action, (p: URLSearchParams) => {
      throttle?.admit(action, p);
      return op(p);
    }] as const);
    this.server = await serveQueryProtocol(Object.fromEntries(gated));
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
    this.onEvent(stateChangeEvent(instance.instanceId, state));
  }

  private throttled(operation: string, jobId: string): void {
    if (jobId && this.chaos.throttle?.('ec2', operation, jobId)) throw new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
  }

  private runInstances(p: URLSearchParams): string {
    const token = p.get('ClientToken') ?? '';
    const existing = token ? this.tokens.get(token) : undefined;
    if (existing) return this.reservation('RunInstancesResponse', [this.instances.get(existing)!]);
    const imageId = p.get('ImageId') ?? '';
    const instanceType = p.get('InstanceType') ?? '';
    checkImageId(imageId);
    if (!instanceTypeExists(instanceType)) throw new AwsError('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
    checkArchitecture(imageId, instanceType);
    if (!p.get('LaunchTemplate.LaunchTemplateId')) throw new AwsError('MissingParameter', 'The request must contain the parameter LaunchTemplate');
    checkRootVolume(p, imageId);
    const launch = launchOptions(p);
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
    const fault = this.chaos.runInstances?.(jobId, subnetId, instanceType, launch.market);
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
      launch,
    };
    this.instances.set(instance.instanceId, instance);
    if (token) this.tokens.set(token, instance.instanceId);
    this.onEvent(stateChangeEvent(instance.instanceId, 'pending'));
    if (!this.chaos.neverRuns?.(jobId)) {
      this.later(this.timing.bootMs + Math.random() * (this.timing.bootJitterMs ?? 0), () => {
        if (instance.state === 'pending') this.setState(instance, 'running');
      });
    }
    return this.reservation('RunInstancesResponse', [instance]);
  }

  private describeInstances(p: URLSearchParams): string {
    let found = this.found(p);
    this.refuseDisrupted(found, p.has('InstanceId.1'));
    if (!p.has('InstanceId.1')) found = [...this.instances.values()];
    // What EC2's reads say, which may lag behind the instance (a fault's readsLag): filtered and answered as read.
    found = found.map((i) => {
      const lagging = this.chaos.readsLag?.(jobOf(i));
      return lagging ? { ...i, state: lagging, stateReason: '' } : i;
    });
    for (let f = 1; p.has(`Filter.${f}.Name`); f++) {
      const name = p.get(`Filter.${f}.Name`)!;
      const values = list(p, `Filter.${f}.Value`);
      const keep = instanceFilter(name, values);
      // EC2 refuses a filter name it does not know (InvalidParameterValue) rather than ignoring it; this simulation
      // refuses those it does not model, so a filter it would ignore never widens what a caller sees.
      if (!keep) throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      found = found.filter(keep);
    }
    if (found[0]) this.throttled('DescribeInstances', jobOf(found[0]));
    const { page, nextToken } = instancePage(found, p);
    const items = page.map((i) => `<item><reservationId>r-local</reservationId><ownerId>000000000000</ownerId><instancesSet>${this.instanceXml(i)}</instancesSet></item>`);
    const next = nextToken ? `<nextToken>${nextToken}</nextToken>` : '';
    return `<DescribeInstancesResponse><requestId>local</requestId><reservationSet>${items.join('')}</reservationSet>${next}</DescribeInstancesResponse>`;
  }

  /**
   * "If you describe instances in the rare case where an Availability Zone is experiencing a service disruption and you
   * specify instance IDs that are in the affected zone, or do not specify any instance IDs at all, the call fails. If
   * you describe instances and specify only instance IDs that are in an unaffected zone, the call works normally."
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). A subnet lies in one zone, so
   * a disrupted zone is given as its subnets (disruptedSubnets). The docs name no error code: this simulation answers
   * Unavailable, one of EC2's server error codes (https://docs.aws.amazon.com/ec2/latest/devguide/errors-overview.html),
   * with a 503, and callers must take any error alike.
   */
  private refuseDisrupted(named: readonly SimInstance[], byId: boolean): void {
    if (this.disruptedSubnets.size === 0) return;
    const affected = named.find((i) => this.disruptedSubnets.has(i.subnetId));
    if (!byId) throw new AwsError('Unavailable', 'An Availability Zone is disrupted: describe instances by their IDs', 503);
    if (affected) throw new AwsError('Unavailable', `The Availability Zone of ${affected.instanceId} is disrupted`, 503);
  }

  /**
   * A build registered for the instance (its readiness waiter was written: local/cloud.ts watches the table for it): a
   * fault may have someone terminate it a moment later (terminatedAfterRegisteredMs), once only.
   */
  registered(instanceId: string): void {
    const instance = this.instances.get(instanceId);
    if (!instance) return;
    const ms = this.chaos.terminatedAfterRegisteredMs?.(jobOf(instance));
    if (ms === undefined || this.registeredFor.has(instanceId)) return;
    this.registeredFor.add(instanceId);
    this.later(ms, () => {
      if (instance.state === 'pending') this.terminate(instance, 'Client.UserInitiatedShutdown: User initiated shutdown');
    });
  }

  /** Terminates an instance, as TerminateInstances or a Spot interruption does. */
  terminate(instance: SimInstance, reason: string): void {
    if (isReleased(instance)) return;
    this.setState(instance, 'shutting-down', reason);
    this.later(this.timing.shutdownMs, () => this.setState(instance, 'terminated', reason));
  }

  private terminateInstances(p: URLSearchParams): string {
    const instances = this.found(p);
    for (const i of instances) {
      const jobId = jobOf(i);
      this.throttled('TerminateInstances', jobId);
      const fault = this.chaos.terminate?.(jobId);
      if (fault) throw fault;
    }
    return this.transitions('TerminateInstancesResponse', instances, (i) => this.terminate(i, 'Client.UserInitiatedShutdown: User initiated shutdown'));
  }

  /**
   * CreateTags on instances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html): a key's
   * value is overwritten; keys beginning with aws: are reserved; keys are 1 to 128 characters, values up to 256; a
   * resource holds at most 50 tags (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions).
   */
  private createTags(p: URLSearchParams): string {
    const instances = list(p, 'ResourceId').map((id) => {
      const i = this.instances.get(id);
      if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return i;
    });
    const tags: Record<string, string> = {};
    for (let n = 1; p.has(`Tag.${n}.Key`); n++) tags[p.get(`Tag.${n}.Key`)!] = p.get(`Tag.${n}.Value`) ?? '';
    for (const [key, value] of Object.entries(tags)) {
      if (key.length < 1 || key.length > 128 || value.length > 256) throw new AwsError('InvalidParameterValue', `Tag key or value is too long: ${key}`);
      if (key.toLowerCase().startsWith('aws:')) throw new AwsError('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
    }
    for (const i of instances) {
      if (Object.keys({ ...i.tags, ...tags }).length > 50) throw new AwsError('TagLimitExceeded', `The maximum number of Tags for a resource has been reached (50) for ${i.instanceId}`);
    }
    for (const i of instances) Object.assign(i.tags, tags);
    return `<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>local</requestId><return>true</return></CreateTagsResponse>`;
  }

  /**
   * The named instances. An ID that is not "i-" and 8 or 17 hexadecimal characters
   * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html) is InvalidInstanceID.Malformed, one EC2 does
   * not know InvalidInstanceID.NotFound (https://docs.aws.amazon.com/ec2/latest/devguide/errors-overview.html).
   */
  private found(p: URLSearchParams): SimInstance[] {
    return list(p, 'InstanceId').map((id) => {
      if (!/^i-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      const i = this.instances.get(id);
      if (!i) throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      return i;
    });
  }

  /** Stops an instance (hibernating it when asked and launched for it; otherwise a normal stop, as EC2 does). */
  stopInstance(instance: SimInstance, hibernate: boolean, reason: string): void {
    if (instance.state !== 'running') return;
    instance.hibernated = hibernate && instance.launch.hibernationConfigured;
    this.setState(instance, 'stopping', reason);
    this.later(this.timing.stopMs ?? this.timing.shutdownMs, () => {
      if (instance.state === 'stopping') this.setState(instance, 'stopped', reason);
    });
  }

  /**
   * StopInstances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html): Hibernate
   * hibernates an instance enabled for hibernation at launch; otherwise the instance stops normally.
   */
  private stopInstances(p: URLSearchParams): string {
    const instances = this.found(p);
    for (const i of instances) {
      const refusal = stopRefusal(i);
      if (refusal) throw refusal;
    }
    const hibernate = p.get('Hibernate') === 'true';
    return this.transitions('StopInstancesResponse', instances, (i) =>
      this.stopInstance(i, hibernate, hibernate && i.launch.hibernationConfigured ? 'Client.UserInitiatedHibernate: User initiated hibernate' : 'Client.UserInitiatedShutdown: User initiated shutdown'),
    );
  }

  /** StartInstances (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html): stopped → pending → running. */
  private startInstances(p: URLSearchParams): string {
    const instances = this.found(p);
    for (const i of instances) {
      const refusal = startRefusal(i, i.interruptedBySpot ?? false);
      if (refusal) throw refusal;
      const fault = i.state === 'stopped' ? this.chaos.startInstances?.(jobOf(i), i.instanceType, i.launch.market) : undefined;
      if (fault) throw fault;
    }
    return this.transitions('StartInstancesResponse', instances, (i) => {
      if (i.state !== 'stopped') return;
      this.setState(i, 'pending', '');
      const ms = i.hibernated ? (this.timing.resumeMs ?? this.timing.startMs ?? this.timing.bootMs) : (this.timing.startMs ?? this.timing.bootMs);
      i.hibernated = false;
      this.later(ms, () => {
        if (i.state === 'pending') this.setState(i, 'running');
      });
    });
  }

  /**
   * A Spot interruption: the warning event, then after the notice (at once for hibernation) what the instance's
   * interruption behavior says. Only for Spot instances; an on-demand one is never interrupted.
   */
  interruptSpot(instance: SimInstance): void {
    const behavior = instance.launch.interruptionBehavior;
    if (instance.launch.market !== 'spot' || !behavior || isReleased(instance)) return;
    this.onEvent(interruptionWarning(instance.instanceId, behavior));
    const act = () => {
      if (behavior === 'terminate') this.terminate(instance, 'Server.SpotInstanceTermination: Spot instance termination');
      else {
        instance.interruptedBySpot = true;
        this.stopInstance(instance, behavior === 'hibernate', 'Server.SpotInstanceShutdown: Spot instance shutdown');
      }
    };
    if (behavior === 'hibernate') act();
    else this.later(this.timing.spotNoticeMs ?? this.timing.shutdownMs, act);
  }

  /** A response listing each instance's state before and after `change`. */
  private transitions(root: string, instances: SimInstance[], change: (i: SimInstance) => void): string {
    const items = instances.map((i) => {
      const previous = i.state;
      change(i);
      return `<item><instanceId>${i.instanceId}</instanceId><currentState><code>${STATE_CODES[i.state]}</code><name>${i.state}</name></currentState><previousState><code>${STATE_CODES[previous]}</code><name>${previous}</name></previousState></item>`;
    });
    return `<${root}><requestId>local</requestId><instancesSet>${items.join('')}</instancesSet></${root}>`;
  }

  private reservation(root: string, instances: SimInstance[]): string {
    return `<${root}><requestId>local</requestId><reservationId>r-local</reservationId><ownerId>000000000000</ownerId><instancesSet>${instances.map((i) => this.instanceXml(i)).join('')}</instancesSet></${root}>`;
  }

  private instanceXml(i: SimInstance): string {
    const tags = Object.entries(i.tags).map(([k, v]) => `<item><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></item>`).join('');
    const reason = i.stateReason ? `<stateReason><code>${xmlEscape(i.stateReason.split(':')[0])}</code><message>${xmlEscape(i.stateReason)}</message></stateReason>` : '';
    return `<item><instanceId>${i.instanceId}</instanceId><imageId>${i.imageId}</imageId><instanceState><code>${STATE_CODES[i.state]}</code><name>${i.state}</name></instanceState><instanceType>${i.instanceType}</instanceType><launchTime>${i.launchTime.toISOString()}</launchTime><subnetId>${i.subnetId}</subnetId>${i.launch.market === 'spot' ? '<instanceLifecycle>spot</instanceLifecycle>' : ''}<hibernationOptions><configured>${i.launch.hibernationConfigured}</configured></hibernationOptions>${reason}<tagSet>${tags}</tagSet></item>`;
  }
}

/**
 * One page of a DescribeInstances answer. With MaxResults, at most that many instances and a NextToken while more
 * remain; the next request passes the token to go on ("To get the next page of items, make another request with the
 * token returned in the output": MaxResults and NextToken in
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). Without MaxResults, every
 * match (an unpaginated request). The token is opaque: here the position after the last instance given and the
 * request's filters; a token from another request is refused (InvalidParameterValue, EC2's code for a bad parameter
 * value: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), as the docs give no other.
 */
function instancePage(found: readonly SimInstance[], p: URLSearchParams): { page: readonly SimInstance[]; nextToken: string | null } {
  const filters = [...p.entries()].filter(([k]) => k.startsWith('Filter.')).map(([k, v]) => `${k}=${v}`).sort().join('&');
  let from = 0;
  const token = p.get('NextToken');
  if (token !== null) {
    let decoded: { after?: unknown; filters?: unknown } = {};
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof decoded;
    } catch {
      // refused below
    }
    if (typeof decoded.after !== 'number' || decoded.filters !== filters) throw new AwsError('InvalidParameterValue', `Invalid value '${token}' for nextToken.`);
    from = decoded.after;
  }
  const max = p.get('MaxResults');
  if (max === null) return { page: found.slice(from), nextToken: null };
  const to = from + Number(max);
  const nextToken = to < found.length ? Buffer.from(JSON.stringify({ after: to, filters }), 'utf8').toString('base64url') : null;
  return { page: found.slice(from, to), nextToken };
}

/**
 * The DescribeInstances filters this simulation models (names from
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html): instance-id,
 * instance-state-name and tag:<key>; null for any other name.
 */
function instanceFilter(name: string, values: readonly string[]): ((i: SimInstance) => boolean) | null {
  if (name === 'instance-id') return (i) => values.includes(i.instanceId);
  if (name === 'instance-state-name') return (i) => values.includes(i.state);
  if (name.startsWith('tag:')) return (i) => values.includes(i.tags[name.slice(4)]);
  return null;
}
