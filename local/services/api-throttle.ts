import { AwsError } from './aws-error';
import { realSeconds, TokenBucket, type BucketLimit, type Clock } from './ec2-throttle';
import type { Operation } from './http';

/**
 * Request throttling for the JSON-protocol services (Systems Manager, Step Functions, CodePipeline): one token bucket
 * per operation (or per group of operations that share a quota) per account and Region, as EC2's are
 * (./ec2-throttle.ts, whose TokenBucket this reuses). A request takes one token; an empty bucket answers the
 * service's own throttling error. The quotas, with their sources, are in ./api-quotas.ts.
 */

/** One operation's quota: its bucket, where the figure comes from, and whether AWS publishes it. */
export interface OperationQuota extends BucketLimit {
  /** The page that gives the figure, or that was searched and does not (see `published`). */
  readonly source: string;
  /**
   * Whether AWS publishes this quota. When false the figures are an assumption (stated in `note`): the design must
   * keep this operation's rate flat in the number of builds, whatever the real quota is.
   */
  readonly published: boolean;
  /** Operations that share one quota name the same bucket (Parameter Store's GetParameter and GetParameters). */
  readonly bucket?: string;
  /** Where the figure differs by Region: the larger Regions' figures (the local cloud enforces the smaller). */
  readonly largerRegions?: BucketLimit & { readonly regions: string };
  /** Why this figure: an assumption's reasoning, or what the source says beside the number. */
  readonly note?: string;
}

/** A service's quotas and the error its empty buckets answer. */
export interface ServiceThrottling {
  /** The service as the local endpoints name it (serveJsonProtocol's name). */
  readonly service: string;
  /** The error code and HTTP status of a throttled request. */
  readonly error: { readonly code: string; readonly status: number; readonly source: string };
  /** Every operation the local service answers. */
  readonly quotas: Readonly<Record<string, OperationQuota>>;
}

/** One account's buckets for one service (one set per local cloud). */
export class ApiThrottle {
  private readonly buckets = new Map<string, TokenBucket>();
  /** Requests refused, by bucket name: what flooded. */
  readonly refused = new Map<string, number>();

  constructor(
    readonly table: ServiceThrottling,
    private readonly now: Clock = realSeconds,
  ) {}

  /** Whether an operation has a quota here. */
  knows(operation: string): boolean {
    return operation in this.table.quotas;
  }

  /** The bucket an operation takes from: its shared bucket's name, or its own. */
  bucketOf(operation: string): string {
    const quota = this.table.quotas[operation];
    if (!quota) throw new Error(`no ${this.table.service} quota for ${operation}`);
    return quota.bucket ?? operation;
  }

  /** The bucket of that name (an operation or a shared bucket), created full on first use. */
  bucket(name: string): TokenBucket {
    let b = this.buckets.get(name);
    if (!b) {
      const quota = Object.entries(this.table.quotas).find(([operation, q]) => (q.bucket ?? operation) === name)?.[1];
      if (!quota) throw new Error(`no ${this.table.service} bucket named ${name}`);
      b = new TokenBucket({ capacity: quota.capacity, refillPerSecond: quota.refillPerSecond }, this.now);
      this.buckets.set(name, b);
    }
    return b;
  }

  /** A request to `operation`: takes its token, or throws the service's throttling error. */
  admit(operation: string): void {
    const name = this.bucketOf(operation);
    if (this.bucket(name).take()) return;
    this.refused.set(name, (this.refused.get(name) ?? 0) + 1);
    const { code, status } = this.table.error;
    throw new AwsError(code, 'Rate exceeded', status);
  }

  /** Another client in the same account spends up to n tokens of a bucket; returns how many it got. */
  consume(name: string, n: number): number {
    return this.bucket(name).drain(n);
  }

  /**
   * The operations, each taking its token before it runs. An operation without a quota is refused here, so a service
   * cannot answer an operation unthrottled (as LocalEc2.start refuses one without buckets).
   */
  gate(operations: Record<string, Operation>): Record<string, Operation> {
    const missing = Object.keys(operations).filter((operation) => !this.knows(operation));
    if (missing.length) throw new Error(`${this.table.service}: no throttling quota for ${missing.join(', ')} (local/services/api-quotas.ts)`);
    return Object.fromEntries(Object.entries(operations).map(([operation, op]) => [operation, (body: Record<string, unknown>) => {
      this.admit(operation);
      return op(body);
    }]));
  }
}

/** The operations gated by `throttle`, or as they are when there is none (a bare service in a service test). */
export function gated(throttle: ApiThrottle | undefined, operations: Record<string, Operation>): Record<string, Operation> {
  return throttle ? throttle.gate(operations) : operations;
}
