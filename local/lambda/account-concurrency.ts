/**
 * Lambda's concurrency, account-wide: every function of the account (here: of the local cloud) draws from one pool
 * of concurrent executions per Region, 1,000 by default ("Concurrent executions: 1,000", Lambda quotas,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). An invocation holds one from the moment
 * Lambda accepts it until it ends, whether or not this machine has a worker free for it yet (LocalLambda.acquire
 * queues on two cores what AWS would run at once): the count is what AWS would count.
 *
 * Beyond the limit:
 * - a synchronous invocation (RequestResponse: Step Functions' lambda:invoke, a console test) is refused with
 *   TooManyRequestsException, HTTP 429 (Invoke API, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html;
 *   its Reason ConcurrentInvocationLimitExceeded), which Step Functions raises as Lambda.TooManyRequestsException
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html);
 * - an asynchronous one (Event: EventBridge rules and schedules, a Task's InvocationType Event) is not refused:
 *   "For throttling errors (429) and system errors (500-series), Lambda returns the event to the queue and attempts
 *   to run the function again for up to 6 hours by default"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Here it waits, first come
 *   first served, for an execution to end. The 6-hour maximum event age is not simulated (the queue here never
 *   holds an event near that long; a run that did would show it as an invocation that never ends).
 */

export const DEFAULT_CONCURRENCY_LIMIT = 1000;

/** Lambda's throttling of an invocation beyond the account's concurrency. */
export class ConcurrencyLimitExceeded extends Error {
  override readonly name = 'ConcurrencyLimitExceeded';
  constructor(readonly limit: number) {
    super('Rate Exceeded.');
  }
}

/** What the account saw, for the benchmark's budget. */
export interface ConcurrencyFigures {
  /** Invocations asked for (refused ones too), by function name. */
  readonly invocations: Readonly<Record<string, number>>;
  /** Synchronous invocations refused for concurrency. */
  readonly throttled: number;
  /** The most invocations in flight at once, across every function. */
  readonly peakConcurrency: number;
  /** Each function's own most invocations in flight at once (which function holds the account's concurrency). */
  readonly peakByFunction: Readonly<Record<string, number>>;
}

export class AccountConcurrency {
  /** The account's concurrent executions (a test sets it low). */
  limit = DEFAULT_CONCURRENCY_LIMIT;
  /** Called for every invocation asked for, before it is admitted or refused (the API meter counts it). */
  onInvoke?: (functionName: string) => void;
  private inFlight = 0;
  private peak = 0;
  private refused = 0;
  private readonly counts = new Map<string, number>();
  private readonly runningBy = new Map<string, number>();
  private readonly peakBy = new Map<string, number>();
  /** Asynchronous invocations waiting for an execution to end. */
  private readonly queue: (() => void)[] = [];

  get running(): number {
    return this.inFlight;
  }

  /** Invocations in flight now, by function (those with none left out). */
  runningByFunction(): Record<string, number> {
    return Object.fromEntries([...this.runningBy].filter(([, n]) => n > 0));
  }

  /**
   * Admits one invocation of `functionName`: at once under the limit; beyond it, a synchronous one is refused
   * (ConcurrencyLimitExceeded) and an asynchronous one waits for a free execution. Call `leave` when it ends.
   */
  async enter(functionName: string, synchronous: boolean): Promise<void> {
    this.counts.set(functionName, (this.counts.get(functionName) ?? 0) + 1);
    this.onInvoke?.(functionName);
    if (this.inFlight < this.limit) this.take();
    else if (synchronous) {
      this.refused++;
      throw new ConcurrencyLimitExceeded(this.limit);
    } else await new Promise<void>((resolve) => this.queue.push(resolve));
    const running = (this.runningBy.get(functionName) ?? 0) + 1;
    this.runningBy.set(functionName, running);
    this.peakBy.set(functionName, Math.max(running, this.peakBy.get(functionName) ?? 0));
  }

  /** An invocation of `functionName` ended: its execution goes to the oldest queued event, if any, or back to the pool. */
  leave(functionName: string): void {
    this.runningBy.set(functionName, (this.runningBy.get(functionName) ?? 1) - 1);
    const next = this.queue.shift();
    if (next) next();
    else this.inFlight--;
  }

  private take(): void {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
  }

  figures(): ConcurrencyFigures {
    return { invocations: Object.fromEntries(this.counts), throttled: this.refused, peakConcurrency: this.peak, peakByFunction: Object.fromEntries(this.peakBy) };
  }

  /** Forgets what was counted (the limit and the invocations in flight stay). */
  resetFigures(): void {
    this.counts.clear();
    this.peakBy.clear();
    this.refused = 0;
    this.peak = this.inFlight;
  }
}

/** The account the local cloud's functions run in (one local cloud per process). */
export const LAMBDA_ACCOUNT = new AccountConcurrency();
