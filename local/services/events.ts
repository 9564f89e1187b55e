import type { EventPattern } from 'aws-cdk-lib/aws-events';

type Target = (event: Record<string, unknown>) => Promise<unknown>;

interface Rule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly target: Target;
  /** EventBridge retries a failed asynchronous Lambda invocation; so do we. */
  readonly retries: number;
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (Array.isArray(rule)) {
    return rule.some((r) => {
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
export function matches(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const field = key === 'detailType' ? 'detail-type' : key;
    return matchValue(rule, event[field]);
  });
}

/** A local event bus with the stack's rules. */
export class LocalEventBus {
  private readonly rules: Rule[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Errors of targets that failed every retry (EventBridge would drop the event). */
  readonly dropped: { rule: string; error: string }[] = [];

  /** EventBridge's delivery delay, in ms (zero for tests; the benchmark sets it). */
  deliveryDelayMs = 0;

  addRule(name: string, pattern: EventPattern, target: Target, retries = 2): void {
    this.rules.push({ name, pattern, target, retries });
  }

  put(event: Record<string, unknown>): void {
    for (const rule of this.rules) {
      if (!matches(rule.pattern, event)) continue;
      const delivery = (async () => {
        if (this.deliveryDelayMs > 0) await new Promise((r) => setTimeout(r, this.deliveryDelayMs));
        for (let attempt = 0; ; attempt++) {
          try {
            return await rule.target(JSON.parse(JSON.stringify(event)));
          } catch (err) {
            if (attempt >= rule.retries) {
              this.dropped.push({ rule: rule.name, error: String(err) });
              return undefined;
            }
          }
        }
      })();
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
    }
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
