import { LAMBDA_ACCOUNT, type AccountConcurrency } from '../lambda/account-concurrency';
import { METER } from './http';

/**
 * The API budget, measured: every request the local services receive (through http.ts's METER seam, before the
 * gate, so throttled and refused calls count as AWS counts them against a quota) and every Lambda invocation
 * (account-concurrency.ts's onInvoke, Step Functions' lambda:invoke and EventBridge's included: they never cross
 * HTTP here), counted per operation and per second on a clock of the caller's choosing (the local cloud's
 * simulated seconds in the benchmark), so that each operation's peak rate can be set beside its quota.
 */

/** One operation's figures. */
export interface OperationFigures {
  /** `Service:Operation`, e.g. `EC2:DescribeInstances`, `Lambda:Invoke`. */
  readonly operation: string;
  readonly calls: number;
  /** The most calls in one second of the meter's clock. */
  readonly peakPerSecond: number;
  /** The most calls in one second of real time (differs from peakPerSecond when the clock is simulated). */
  readonly peakPerRealSecond: number;
  /**
   * The shortest time between two calls in a row, every caller's, in seconds of the meter's clock (null for a single
   * call): how close a caller that paces itself (the readiness watcher's tick) let its requests arrive.
   */
  readonly closestSeconds: number | null;
}

export interface MeterReport {
  readonly totalCalls: number;
  /** Every operation called, most calls first. */
  readonly operations: OperationFigures[];
  /** The most Lambda invocations in flight at once, account-wide. */
  readonly peakLambdaConcurrency: number;
  /** Synchronous invocations Lambda refused for concurrency. */
  readonly lambdaThrottled: number;
  /** Each function's own peak of invocations in flight. */
  readonly peakLambdaConcurrencyByFunction: Readonly<Record<string, number>>;
}

/** Calls of one operation per whole second of a clock, and the shortest time between two in a row. */
class PerSecond {
  private readonly bins = new Map<number, number>();
  private last: number | null = null;
  private shortest: number | null = null;
  add(second: number): void {
    const s = Math.floor(second);
    this.bins.set(s, (this.bins.get(s) ?? 0) + 1);
    if (this.last !== null) this.shortest = Math.min(this.shortest ?? Infinity, second - this.last);
    this.last = second;
  }
  peak(): number {
    return Math.max(0, ...this.bins.values());
  }
  closest(): number | null {
    return this.shortest;
  }
}

export class ApiMeter {
  private readonly ops = new Map<string, { calls: number; clock: PerSecond; real: PerSecond }>();
  private account?: AccountConcurrency;

  /** `seconds`: the clock rates are measured on (the cloud's simulated seconds); `realSeconds`: wall-clock seconds. */
  constructor(
    private readonly seconds: () => number,
    private readonly realSeconds: () => number = () => performance.now() / 1000,
  ) {}

  /** Counts one call of `service`:`operation` now. */
  record(service: string, operation: string): void {
    const key = `${service}:${operation}`;
    let op = this.ops.get(key);
    if (!op) this.ops.set(key, (op = { calls: 0, clock: new PerSecond(), real: new PerSecond() }));
    op.calls++;
    op.clock.add(this.seconds());
    op.real.add(this.realSeconds());
  }

  /** Meters every local service's requests and `account`'s invocations until `uninstall`. One meter at a time. */
  install(account: AccountConcurrency = LAMBDA_ACCOUNT): void {
    if (METER.onCall || account.onInvoke) throw new Error('ApiMeter.install: another meter is installed');
    METER.onCall = (service, operation) => this.record(service, operation);
    account.onInvoke = () => this.record('Lambda', 'Invoke');
    account.resetFigures();
    this.account = account;
  }

  uninstall(): void {
    METER.onCall = undefined;
    if (this.account) this.account.onInvoke = undefined;
  }

  report(): MeterReport {
    const operations = [...this.ops.entries()]
      .map(([operation, o]) => ({ operation, calls: o.calls, peakPerSecond: o.clock.peak(), peakPerRealSecond: o.real.peak(), closestSeconds: o.clock.closest() }))
      .sort((a, b) => b.calls - a.calls || a.operation.localeCompare(b.operation));
    const figures = this.account?.figures();
    return {
      totalCalls: operations.reduce((n, o) => n + o.calls, 0),
      operations,
      peakLambdaConcurrency: figures?.peakConcurrency ?? 0,
      lambdaThrottled: figures?.throttled ?? 0,
      peakLambdaConcurrencyByFunction: figures?.peakByFunction ?? {},
    };
  }

  /** One operation's figures (zeros when it was never called). */
  operation(key: string): OperationFigures {
    return this.report().operations.find((o) => o.operation === key) ?? { operation: key, calls: 0, peakPerSecond: 0, peakPerRealSecond: 0, closestSeconds: null };
  }
}
