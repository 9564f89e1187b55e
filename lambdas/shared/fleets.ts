import { cronProblem, timeZoneProblem } from './cron';
import { expandImageAlias, IMAGE_ALIAS_NAMES, isImageAlias } from './image-aliases';
import { IMAGE_ID, INSTANCE_TYPE, MAX_INSTANCE_TYPES } from './properties';

/**
 * Fleets: named capacity profiles set when the stack is deployed (the `ec2-build-action:fleets` context key, the
 * provider's `fleets` prop, the local runner's `--fleets FILE`). One parser serves all of them and, later, the
 * functions, so a fleet means the same thing everywhere. Pure TypeScript: no SDK, no CDK.
 */

/** The context key that holds a stack's fleets as JSON (`cdk deploy -c ec2-build-action:fleets=…`, the local runner's synth). */
export const FLEETS_CONTEXT = 'ec2-build-action:fleets';

/**
 * A fleet's Spot circuit breaker: after `threshold` interruptions within `windowMinutes`, its launches go on-demand for
 * `openMinutes`. EC2 interrupts when it needs the capacity back, and a pool that keeps being interrupted would rerun
 * every build twice; three in half an hour is well above a market's usual rate and an hour lets it settle.
 */
export const SPOT_BREAKER = { threshold: 3, windowMinutes: 30, openMinutes: 60 } as const;

/** Where a job's instances come from when EC2 offers a choice of purchase. */
export const MARKETS = ['on-demand', 'spot', 'spot-then-on-demand'] as const;
export type Market = (typeof MARKETS)[number];

/** Pool sizes that take effect each time `cron` fires, in `timezone`, until the fleet's next schedule fires. */
export interface FleetSchedule {
  /** EventBridge Scheduler's six cron fields, e.g. `0 8 ? * MON-FRI *` (without `cron( )`). */
  readonly cron: string;
  /** IANA time zone the cron is read in, e.g. `Europe/Berlin`. */
  readonly timezone: string;
  readonly hotPool: number;
  readonly stoppedPool: number;
}

/** A fleet as written: the optional settings may be left out. */
export interface FleetProps {
  /**
   * An AMI ID (`ami-…`), `resolve:ssm:` and the name of a Parameter Store parameter holding one, read at each launch,
   * or an alias of a stock image (`al2023`, `al2023-arm64`, `ubuntu-24.04`, `ubuntu-24.04-arm64`, `windows-2022`:
   * lambdas/shared/image-aliases.ts), which the parsed fleet holds as its `resolve:ssm:` parameter.
   */
  readonly imageId: string;
  /** Instance types, tried in order when EC2 has no capacity for one (1 to 5). */
  readonly instanceTypes: readonly string[];
  /** `on-demand`, `spot`, or `spot-then-on-demand` (Spot, and on-demand when Spot has no capacity or is interrupted). */
  readonly market: Market;
  /** Instances kept running with their agent online, ready to build (0 to 100). */
  readonly hotPool: number;
  /**
   * Instances booted once so their agent registered, then stopped (0 to 100). On-demand instances: a Spot instance
   * stops only under a persistent Spot request, and EC2 restarts or relaunches those itself, so a `spot` fleet keeps
   * none and a `spot-then-on-demand` fleet's stopped pool is on-demand.
   */
  readonly stoppedPool: number;
  /** Builds at once on this fleet; further jobs wait in line (1 to 1000, at least hotPool + stoppedPool). */
  readonly maxConcurrent: number;
  /** How long a job waits in line before it fails as SystemUnavailable (0 to 1440; 0 fails at once). */
  readonly maxQueueMinutes: number;
  /**
   * Pool sizes that follow schedules, e.g. office hours (up to 10). At any moment the schedule that fired most
   * recently (looking back up to a year) decides the sizes, so a fleet deployed at 10:00 on a weekday has its
   * office-hours sizes at once; the sizes above hold only while no schedule has fired within that year
   * (lambdas/shared/fleet-sizes.ts).
   * @default - the pool sizes above, always
   */
  readonly schedules?: readonly FleetSchedule[];
  /**
   * Pool instances older than this are replaced (60 to 10080).
   * @default 1440
   */
  readonly maxAgeMinutes?: number;
  /**
   * Stopped pool instances hibernate instead of shutting down, where the instance type and AMI support it.
   * @default false
   */
  readonly hibernate?: boolean;
}

/** A fleet checked, with its defaults applied. */
export type Fleet = Required<FleetProps>;

/**
 * Limits, and why:
 * - names: letters, digits, - and _ (the characters every place a name goes accepts: an action property value, a
 *   DynamoDB key, a tag value, and EventBridge Scheduler schedule names, which are 1 to 64 of [0-9a-zA-Z-_.]:
 *   https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html), at most 32 so a name plus
 *   a prefix and a schedule number still fits in 64.
 * - fleets: 20, more than the images times sizes a team keeps up, and a bound on the refill function's work (it
 *   passes over every fleet each time it runs) and on the schedules the stack creates (20 x 10).
 * - pools: 100 each, a guard against a typo launching a thousand idle machines.
 * - maxConcurrent: at least 1 (0 would queue every job until it times out; remove the fleet instead), at most 1000;
 *   and at least hotPool + stoppedPool, at all times: the cap counts builds, and at most maxConcurrent pool
 *   instances can ever be claimed before releases free slots, so a larger pool is idle capacity that only costs.
 * - maxQueueMinutes: up to 720 (12 hours): a job in line renews its job to show its place (every 5 minutes,
 *   lambdas/poller/job.ts), so the wait is not bound by a job's horizon; the bound keeps the execution's own
 *   TimeoutSeconds, which covers the longest wait plus the longest build (lib/longest-job.ts), within what the ASL
 *   sets. 0 fails at once when full.
 * - maxAgeMinutes: default a day, so pool instances are at most a day behind the image's updates for the price of
 *   one boot per pool slot a day; at least an hour, so instances are not replaced about as fast as they boot; at
 *   most a week.
 */
export const FLEET_LIMITS = {
  name: /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/,
  fleets: 20,
  schedules: 10,
  pool: { min: 0, max: 100 },
  maxConcurrent: { min: 1, max: 1000 },
  maxQueueMinutes: { min: 0, max: 720 },
  maxAgeMinutes: { min: 60, max: 10080, default: 1440 },
} as const;

/**
 * `resolve:ssm:` and a parameter, the alias RunInstances takes instead of an AMI ID and resolves at launch
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-systems-manager-parameter-to-find-AMI.html; the caller
 * needs ssm:GetParameters on it: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html;
 * the forms, with versions and labels: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/create-launch-template.html#use-an-ssm-parameter-instead-of-an-ami-id;
 * AWS's public AMI parameters: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html):
 * - a public parameter AWS publishes under /aws/service/ (e.g. /aws/service/ami-amazon-linux-latest/…,
 *   /aws/service/ami-windows-latest/…), with no version or label (the documented form for public parameters);
 * - a parameter of the account, optionally with `:version` or `:label`. Names are a-zA-Z0-9_.-, with a leading / and
 *   / between levels in a hierarchy of up to 15 levels, at most 1011 characters, and never begin with aws or ssm
 *   (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html);
 *   labels are up to 100 of letters, digits, . - _ and never begin with a digit, aws or ssm
 *   (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_LabelParameterVersion.html).
 * Parameters shared from another account (by ARN) are not taken: the launcher's grants name parameters of its own
 * account and AWS's public ones.
 */
const PUBLIC_PARAMETER = /^resolve:ssm:\/aws\/service(\/[A-Za-z0-9_.-]+){1,13}$/;
const OWN_PARAMETER = /^resolve:ssm:((?:\/[A-Za-z0-9_.-]+){1,15}|[A-Za-z0-9_.-]+)(?::([1-9]\d{0,9}|[A-Za-z._-][A-Za-z0-9._-]{0,99}))?$/;
const RESERVED = /^(aws|ssm)/i;

const IMAGE_ID_EXPECTED = `an AMI ID (ami-0123456789abcdef0), resolve:ssm: and a parameter (resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64, resolve:ssm:/builds/golden-ami:prod) or one of the stock image aliases ${IMAGE_ALIAS_NAMES.join(', ')}`;

/** Why a fleet's imageId cannot be launched, or null. */
export function imageIdProblem(value: string): string | null {
  if (IMAGE_ID.test(value) || PUBLIC_PARAMETER.test(value) || isImageAlias(value)) return null;
  const own = OWN_PARAMETER.exec(value);
  if (own && own[1].length <= 1011 && !RESERVED.test(own[1].replace(/^\//, '')) && !RESERVED.test(own[2] ?? '')) return null;
  return IMAGE_ID_EXPECTED;
}

/** A fleets value that cannot be used; the message names the path and echoes the value. */
export class FleetValueError extends Error {
  override readonly name = 'FleetValueError';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly value: unknown,
  ) {
    super(`${path} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

const FLEET_KEYS = ['imageId', 'instanceTypes', 'market', 'hotPool', 'stoppedPool', 'maxConcurrent', 'maxQueueMinutes', 'schedules', 'maxAgeMinutes', 'hibernate'] as const;
const SCHEDULE_KEYS = ['cron', 'timezone', 'hotPool', 'stoppedPool'] as const;

const MARKET_EXPECTED = `one of ${MARKETS.join(', ')}`;

type Bag = Record<string, unknown>;

function object(path: string, value: unknown, keys: readonly string[], what: string): Bag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FleetValueError(path, `an object (${what})`, value);
  const bag = value as Bag;
  for (const key of Object.keys(bag)) {
    if (!keys.includes(key)) throw new FleetValueError(`${path}.${key}`, `left out: there is no such setting (the settings are ${keys.join(', ')})`, bag[key]);
  }
  return bag;
}

function required(path: string, bag: Bag, key: string, expected: string): unknown {
  if (bag[key] === undefined) throw new FleetValueError(`${path}.${key}`, `set: ${expected}`, undefined);
  return bag[key];
}

function whole(path: string, value: unknown, range: { min: number; max: number }, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new FleetValueError(path, `a whole number${unit} from ${range.min} to ${range.max}`, value);
  }
  return value;
}

function text(path: string, value: unknown, problem: (s: string) => string | null, expected: string): string {
  const why = typeof value === 'string' ? problem(value) : expected;
  if (why !== null) throw new FleetValueError(path, why, value);
  return value as string;
}

function instanceTypes(path: string, value: unknown): string[] {
  const expected = `a list of 1 to ${MAX_INSTANCE_TYPES} instance types (c7i.large), tried in order`;
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_INSTANCE_TYPES) throw new FleetValueError(path, expected, value);
  value.forEach((item: unknown, i) => text(`${path}[${i}]`, item, (s) => (INSTANCE_TYPE.test(s) ? null : 'an instance type (c7i.large)'), 'an instance type (c7i.large)'));
  if (new Set(value).size !== value.length) throw new FleetValueError(path, 'a list without repeats', value);
  return [...(value as string[])];
}

function flag(path: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new FleetValueError(path, 'true or false', value);
  return value;
}

function schedule(path: string, value: unknown): FleetSchedule {
  const bag = object(path, value, SCHEDULE_KEYS, 'cron, timezone, hotPool, stoppedPool');
  return {
    cron: text(`${path}.cron`, required(path, bag, 'cron', 'six cron fields'), cronProblem, 'six cron fields such as "0 8 ? * MON-FRI *"'),
    timezone: text(`${path}.timezone`, required(path, bag, 'timezone', 'an IANA time zone'), timeZoneProblem, 'an IANA time zone name such as Europe/Berlin'),
    hotPool: whole(`${path}.hotPool`, required(path, bag, 'hotPool', 'a pool size'), FLEET_LIMITS.pool),
    stoppedPool: whole(`${path}.stoppedPool`, required(path, bag, 'stoppedPool', 'a pool size'), FLEET_LIMITS.pool),
  };
}

function schedules(path: string, value: unknown): FleetSchedule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > FLEET_LIMITS.schedules) throw new FleetValueError(path, `a list of at most ${FLEET_LIMITS.schedules} schedules`, value);
  const list = value.map((item: unknown, i) => schedule(`${path}[${i}]`, item));
  const seen = new Set<string>();
  list.forEach((s, i) => {
    const when = `${s.cron} ${s.timezone}`;
    if (seen.has(when)) throw new FleetValueError(`${path}[${i}]`, 'a schedule of its own: another one fires at the same time', value[i]);
    seen.add(when);
  });
  return list;
}

function fleet(path: string, value: unknown): Fleet {
  const bag = object(path, value, FLEET_KEYS, 'a fleet');
  const get = (key: string, expected: string) => required(path, bag, key, expected);
  const parsed: Fleet = {
    // An alias becomes the resolve:ssm: parameter it names: the refill, the grants (lib/fleet-pools.ts) and the claims
    // then treat it as any public parameter.
    imageId: expandImageAlias(text(`${path}.imageId`, get('imageId', 'an AMI ID or alias'), imageIdProblem, IMAGE_ID_EXPECTED)),
    instanceTypes: instanceTypes(`${path}.instanceTypes`, get('instanceTypes', 'a list of instance types')),
    market: text(`${path}.market`, get('market', MARKET_EXPECTED), (s) => ((MARKETS as readonly string[]).includes(s) ? null : MARKET_EXPECTED), MARKET_EXPECTED) as Market,
    hotPool: whole(`${path}.hotPool`, get('hotPool', 'a pool size'), FLEET_LIMITS.pool),
    stoppedPool: whole(`${path}.stoppedPool`, get('stoppedPool', 'a pool size'), FLEET_LIMITS.pool),
    maxConcurrent: whole(`${path}.maxConcurrent`, get('maxConcurrent', 'a number of builds'), FLEET_LIMITS.maxConcurrent),
    maxQueueMinutes: whole(`${path}.maxQueueMinutes`, get('maxQueueMinutes', 'a number of minutes'), FLEET_LIMITS.maxQueueMinutes, ' of minutes'),
    schedules: schedules(`${path}.schedules`, bag.schedules),
    maxAgeMinutes: bag.maxAgeMinutes === undefined ? FLEET_LIMITS.maxAgeMinutes.default : whole(`${path}.maxAgeMinutes`, bag.maxAgeMinutes, FLEET_LIMITS.maxAgeMinutes, ' of minutes'),
    hibernate: bag.hibernate === undefined ? false : flag(`${path}.hibernate`, bag.hibernate),
  };
  checkTogether(path, parsed);
  return parsed;
}

/**
 * The rules between settings: the cap holds every pool size the fleet will have; a `spot` fleet keeps no stopped
 * pool, since a Spot instance can be stopped only under a persistent request, which EC2 restarts when it interrupted
 * it and relaunches when its instance ends ("Only Amazon EC2 can restart an interrupted stopped Spot Instance":
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/interruption-behavior.html; persistent requests from
 * RunInstances need the stop or hibernate behavior: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SpotMarketOptions.html),
 * so pool members would not be ours to start or end; and hibernate needs a stopped pool.
 */
function checkTogether(path: string, parsed: Fleet): void {
  const sizes = [{ where: 'hotPool + stoppedPool', hot: parsed.hotPool, stopped: parsed.stoppedPool }].concat(
    parsed.schedules.map((s, i) => ({ where: `hotPool + stoppedPool of schedules[${i}]`, hot: s.hotPool, stopped: s.stoppedPool })),
  );
  for (const { where, hot, stopped } of sizes) {
    if (hot + stopped > parsed.maxConcurrent) {
      throw new FleetValueError(`${path}.maxConcurrent`, `at least ${where} (${hot + stopped}): a pool larger than the cap is never claimed at once`, parsed.maxConcurrent);
    }
  }
  if (parsed.market === 'spot') {
    const stopped = [{ at: 'stoppedPool', n: parsed.stoppedPool }, ...parsed.schedules.map((s, i) => ({ at: `schedules[${i}].stoppedPool`, n: s.stoppedPool }))].find((s) => s.n > 0);
    if (stopped) throw new FleetValueError(`${path}.${stopped.at}`, '0 on a spot fleet: a Spot instance stops only under a persistent request, which EC2 restarts itself (spot-then-on-demand keeps an on-demand stopped pool)', stopped.n);
  }
  if (parsed.hibernate && sizes.every((s) => s.stopped === 0)) {
    throw new FleetValueError(`${path}.hibernate`, "false when the fleet never keeps a stopped pool (stoppedPool and every schedule's are 0)", parsed.hibernate);
  }
}

/**
 * Checks a fleets value (an object keyed by fleet name) and applies the defaults. `where` names the value in errors:
 * `fleets`, a context key, a file. Throws FleetValueError naming the path (`fleets.linux.hotPool`) and echoing the value.
 */
export function parseFleets(value: unknown, where: string): Record<string, Fleet> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FleetValueError(where, 'an object of fleets keyed by name', value);
  const names = Object.keys(value);
  if (names.length > FLEET_LIMITS.fleets) throw new FleetValueError(where, `at most ${FLEET_LIMITS.fleets} fleets`, names);
  const fleets: Record<string, Fleet> = {};
  const byCase = new Map<string, string>();
  for (const name of names) {
    if (!FLEET_LIMITS.name.test(name)) throw new FleetValueError(where, 'keyed by fleet names of 1 to 32 letters, digits, - or _, starting with a letter or digit', name);
    const other = byCase.get(name.toLowerCase());
    if (other !== undefined) throw new FleetValueError(where, `keyed by names that differ in more than case (${JSON.stringify(other)} is there)`, name);
    byCase.set(name.toLowerCase(), name);
    fleets[name] = fleet(`${where}.${name}`, (value as Bag)[name]);
  }
  return fleets;
}
