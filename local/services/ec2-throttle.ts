import { AwsError } from './aws-error';

/**
 * EC2's API throttling, as "Request throttling for the Amazon EC2 API" describes it
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html, cited below as THROTTLING):
 * one set of token buckets per account and Region, whoever makes the request. Every request takes one token from
 * its action's request bucket; RunInstances, StartInstances, StopInstances and TerminateInstances also take one token
 * per instance from the action's resource bucket. An empty bucket answers RequestLimitExceeded.
 *
 * Buckets are per action, not per category: "each API is evaluated individually ... requests for other API are
 * not affected" and "Limits are applied to individual API actions, not API action categories" (THROTTLING). The
 * category only gives an action its size and refill rate.
 */

/** A bucket's size and refill rate (tokens a second). */
export interface BucketLimit {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** Seconds on some clock: real seconds, or the local cloud's simulated ones. */
export type Clock = () => number;
export const realSeconds: Clock = () => performance.now() / 1000;

/**
 * A token bucket, full at first. Refilled continuously at its rate (THROTTLING gives rates in tokens a second and
 * fractional ones such as 0.1; whether tokens arrive in whole-second steps is not said: a steady rate takes the
 * same tokens over any second as a step would, and allows no burst a step would not).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly limit: BucketLimit,
    private readonly now: Clock,
  ) {
    this.tokens = limit.capacity;
    this.last = now();
  }

  /** Tokens in the bucket now. */
  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.limit.capacity, this.tokens + Math.max(0, t - this.last) * this.limit.refillPerSecond);
    this.last = t;
    return this.tokens;
  }

  /** Takes n tokens if there are that many; otherwise takes none. */
  take(n = 1): boolean {
    if (this.available() < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes up to n tokens (what another client's requests would use); returns how many it took. */
  drain(n: number): number {
    const taken = Math.min(n, Math.floor(this.available()));
    this.tokens -= taken;
    return taken;
  }
}

// Sizes and refill rates from THROTTLING's tables "Request token bucket sizes and refill rates" and "Resource token
// bucket sizes and refill rates".
/** Non-mutating actions (Describe*, List*, Search*, Get* not in another category): 100, refill 20/s. */
const NON_MUTATING: BucketLimit = { capacity: 100, refillPerSecond: 20 };
/** Unfiltered and unpaginated non-mutating actions (DescribeInstances among them): 50, refill 10/s. */
const UNFILTERED_NON_MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 10 };
/** Mutating actions that are neither resource-intensive nor uncategorized (StopInstances): 50, refill 5/s. */
const MUTATING: BucketLimit = { capacity: 50, refillPerSecond: 5 };

/** How one action is throttled. */
export interface ActionThrottling {
  /** Its request bucket. */
  readonly request: BucketLimit;
  /** Its smaller request bucket when asked without a filter and without pagination (THROTTLING's "Unfiltered and unpaginated"). */
  readonly unfiltered?: BucketLimit;
  /** Its resource bucket, and the number of resources (instances) a request asks for. */
  readonly resource?: BucketLimit & { readonly count: (p: URLSearchParams) => number };
}

/** A Query-protocol list's length (Prefix.1, Prefix.2, ...). */
function listLength(p: URLSearchParams, prefix: string): number {
  let n = 0;
  while (p.has(`${prefix}.${n + 1}`)) n++;
  return n;
}
const instanceIds = (p: URLSearchParams) => listLength(p, 'InstanceId');

/**
 * Every action the local EC2 serves. An action missing here is refused at start (ec2.ts), so a new action cannot
 * go unthrottled.
 */
export const EC2_THROTTLING: Readonly<Record<string, ActionThrottling>> = {
  // A Describe* action not listed elsewhere: non-mutating.
  DescribeImages: { request: NON_MUTATING },
  // Also a Describe* action not listed elsewhere.
  DescribeInstanceTypes: { request: NON_MUTATING },
  // Listed among the unfiltered and unpaginated non-mutating actions. THROTTLING does not say whether InstanceId.N
  // counts as a filter: only Filter.N does here (the stricter reading), so DescribeInstances by id alone takes from
  // the smaller bucket; MaxResults or NextToken make it paginated. THROTTLING says such requests "use tokens from a
  // smaller token bucket", instead of the standard one: they take from that one only.
  DescribeInstances: {
    request: NON_MUTATING,
    unfiltered: UNFILTERED_NON_MUTATING,
  },
  // Uncategorized action: request bucket 5, refill 2/s; resource bucket 1000, refill 2/s. A request counts MaxCount
  // instances (it may launch that many; MinCount when MaxCount is absent, else 1): THROTTLING counts "the number of
  // resources that are impacted by the request" and does not say which of the two.
  RunInstances: {
    request: { capacity: 5, refillPerSecond: 2 },
    resource: { capacity: 1000, refillPerSecond: 2, count: (p) => Number(p.get('MaxCount') ?? p.get('MinCount') ?? 1) || 1 },
  },
  // Uncategorized: request 5, refill 2/s; resource 1000, refill 2/s, one per instance id.
  StartInstances: {
    request: { capacity: 5, refillPerSecond: 2 },
    resource: { capacity: 1000, refillPerSecond: 2, count: instanceIds },
  },
  // Not uncategorized nor resource-intensive: a mutating action (50, refill 5/s); resource 1000, refill 20/s.
  StopInstances: {
    request: MUTATING,
    resource: { capacity: 1000, refillPerSecond: 20, count: instanceIds },
  },
  // Uncategorized: request 100, refill 5/s; resource 1000, refill 20/s.
  TerminateInstances: {
    request: { capacity: 100, refillPerSecond: 5 },
    resource: { capacity: 1000, refillPerSecond: 20, count: instanceIds },
  },
  // Uncategorized: request 100, refill 10/s. No resource bucket is documented for it.
  CreateTags: { request: { capacity: 100, refillPerSecond: 10 } },
};

/** THROTTLING: "If you exceed an API throttling limit, you get the RequestLimitExceeded error code" (503, as EC2's server errors). */
export const requestLimitExceeded = () => new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);

/** The name of a bucket: an action (its request bucket), "<action>:unfiltered", or "<action>:resources". */
export type BucketName = string;

/** Whether a DescribeInstances-like request names a filter or pagination. */
function filteredOrPaginated(p: URLSearchParams): boolean {
  return p.has('Filter.1.Name') || p.has('MaxResults') || p.has('NextToken');
}

/** One account's EC2 buckets (one set per local cloud). */
export class Ec2Throttle {
  private readonly buckets = new Map<BucketName, TokenBucket>();
  /** Requests refused, by bucket name: what flooded. */
  readonly refused = new Map<BucketName, number>();

  constructor(
    private readonly now: Clock = realSeconds,
    private readonly table: Readonly<Record<string, ActionThrottling>> = EC2_THROTTLING,
  ) {}

  /** Whether an action has its buckets here. */
  knows(action: string): boolean {
    return action in this.table;
  }

  /** The bucket of that name (created full on first use). */
  bucket(name: BucketName): TokenBucket {
    let b = this.buckets.get(name);
    if (!b) {
      const [action, kind] = name.split(':');
      const t = this.table[action];
      const limit = !t ? undefined : kind === 'unfiltered' ? t.unfiltered : kind === 'resources' ? t.resource : kind === undefined ? t.request : undefined;
      if (!limit) throw new Error(`no EC2 bucket named ${name}`);
      b = new TokenBucket({ capacity: limit.capacity, refillPerSecond: limit.refillPerSecond }, this.now);
      this.buckets.set(name, b);
    }
    return b;
  }

  /**
   * A request to `action`: takes its request token, then its resources' tokens, or throws RequestLimitExceeded.
   * Whether a request refused for want of resource tokens still spent its request token is not documented: it
   * does here (the stricter answer).
   */
  admit(action: string, p: URLSearchParams): void {
    const t = this.table[action];
    if (!t) throw new Error(`no EC2 throttling for ${action}`);
    const requestBucket = t.unfiltered && !filteredOrPaginated(p) ? `${action}:unfiltered` : action;
    this.spend(requestBucket, 1);
    if (t.resource) this.spend(`${action}:resources`, t.resource.count(p));
  }

  /**
   * Another client in the same account spends up to n tokens of a bucket (e.g. "DescribeInstances" or
   * "DescribeInstances:unfiltered"); returns how many it got.
   */
  consume(name: BucketName, n: number): number {
    return this.bucket(name).drain(n);
  }

  private spend(name: BucketName, n: number): void {
    if (this.bucket(name).take(n)) return;
    this.refused.set(name, (this.refused.get(name) ?? 0) + 1);
    throw requestLimitExceeded();
  }
}
