import { randomUUID } from 'node:crypto';
import type { FunctionError, InvokeOutcome } from '../lambda/invoker';

/** A rule's target: a function, invoked asynchronously (InvocationType Event), as EventBridge invokes Lambda. */
export interface RuleTarget {
  readonly functionName: string;
  readonly invoke: (event: unknown) => Promise<InvokeOutcome>;
  /**
   * The target's RetryPolicy.MaximumRetryAttempts: EventBridge retries a delivery the Lambda service
   * refused with a retryable error (throttling, 5xx); it does not see the function's own errors
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html). Default 185.
   */
  readonly deliveryRetries: number;
  /**
   * Lambda's asynchronous retries of a function error: "by default Lambda attempts to run it two more
   * times, with a one-minute wait between the first two attempts, and two minutes between the second
   * and third" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
   */
  readonly functionRetries: number;
}

export interface EventRule {
  readonly name: string;
  readonly arn: string;
  /** The rule's EventPattern, as the template has it. */
  readonly pattern?: Record<string, unknown>;
  /** The rule's ScheduleExpression. */
  readonly schedule?: string;
  readonly targets: readonly RuleTarget[];
}

/** A final failure of an asynchronous invocation: every retry spent, the event dropped. */
export interface FailedDelivery {
  readonly rule: string;
  readonly functionName: string;
  readonly error: FunctionError;
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (Array.isArray(rule)) {
    return rule.some((r: unknown) => {
      if (r && typeof r === 'object' && 'anything-but' in r) return !(r['anything-but'] as unknown[]).includes(value);
      return r === value;
    });
  }
  if (rule && typeof rule === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(rule).every(([k, r]) => matchValue(r, (value as Record<string, unknown>)[k]));
  }
  return false;
}

/** EventBridge's matching of the patterns the stack uses (exact values, anything-but, nesting). */
export function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => matchValue(rule, event[key]));
}

/** A schedule's period in seconds: rate(N minute|minutes|hour|hours|day|days) (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html). */
export function rateSeconds(expression: string): number {
  const m = expression.match(/^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/);
  if (!m) throw new Error(`schedule ${JSON.stringify(expression)}: only rate() expressions are simulated locally`);
  const unit = { minute: 60, hour: 3600, day: 86400 }[m[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'];
  return Number(m[1]) * unit;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A local event bus with the template's rules, delivering to functions as EventBridge and Lambda's asynchronous invocation do. */
export class LocalEventBus {
  private readonly rules: EventRule[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Asynchronous invocations that failed every attempt (Lambda would drop the event). */
  readonly dropped: FailedDelivery[] = [];
  /** Called for each dropped event, and with each result (the local cloud's own bookkeeping). */
  onDropped?: (failure: FailedDelivery) => void;
  onResult?: (functionName: string, payload: unknown) => void;

  /** EventBridge's delivery delay, in ms (zero for tests; the benchmark sets it). */
  deliveryDelayMs = 0;
  /** Real ms per simulated second, for Lambda's retry waits. */
  msPerSecond = 1000;

  addRule(rule: EventRule): void {
    this.rules.push(rule);
  }

  put(event: Record<string, unknown>): void {
    const full = { version: '0', id: randomUUID(), account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], ...event };
    for (const rule of this.rules) {
      if (rule.pattern && matches(rule.pattern, full)) this.deliver(rule, full);
    }
  }

  /** Runs each scheduled rule every `periodMs(rule)` real ms. */
  startSchedules(periodMs: (rule: EventRule) => number): void {
    for (const rule of this.rules.filter((r) => r.schedule)) {
      const tick = () =>
        this.deliver(rule, { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [rule.arn], detail: {} });
      this.timers.push(setInterval(tick, periodMs(rule)));
    }
  }

  stopSchedules(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  private deliver(rule: EventRule, event: Record<string, unknown>): void {
    for (const target of rule.targets) {
      const delivery = this.invokeAsync(rule, target, event);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  private async invokeAsync(rule: EventRule, target: RuleTarget, event: Record<string, unknown>): Promise<void> {
    if (this.deliveryDelayMs > 0) await sleep(this.deliveryDelayMs);
    const waits = [60, 120];
    let error: FunctionError;
    let refusals = 0;
    for (let attempt = 0; ; attempt++) {
      let outcome: InvokeOutcome;
      try {
        outcome = await target.invoke(event);
      } catch (err) {
        // The Lambda service refused the event: EventBridge retries a throttle or a 5xx under the
        // target's RetryPolicy, and drops the event at once on another error (RequestTooLargeException).
        const e = err as Error & { statusCode?: number };
        error = { errorType: e.name, errorMessage: e.message, trace: [] };
        const retryable = e.statusCode === 429 || (e.statusCode ?? 0) >= 500;
        if (!retryable || refusals++ >= target.deliveryRetries) break;
        attempt--;
        await sleep(this.msPerSecond);
        continue;
      }
      if ('payload' in outcome) {
        this.onResult?.(target.functionName, outcome.payload);
        return;
      }
      error = outcome.error;
      if (attempt >= target.functionRetries) break;
      await sleep((waits[attempt] ?? 120) * this.msPerSecond);
    }
    const failure = { rule: rule.name, functionName: target.functionName, error };
    this.dropped.push(failure);
    this.onDropped?.(failure);
  }

  /**
   * An asynchronous invocation made outside a rule (a Task state's lambda:invoke with InvocationType Event): the
   * Lambda service queues it and retries the function's errors as it does for any asynchronous invocation; a
   * failure nobody sees is recorded as the rules' are. `source` names the caller in that record.
   */
  invokeEvent(source: string, target: Omit<RuleTarget, 'deliveryRetries'>, event: Record<string, unknown>): void {
    const delivery = this.invokeAsync({ name: source, targets: [] } as unknown as EventRule, { ...target, deliveryRetries: 0 }, event);
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
