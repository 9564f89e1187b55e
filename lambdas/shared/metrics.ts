import { Metrics } from '@aws-lambda-powertools/metrics';
import { MissingConfigError } from './config';
import { METRICS, METRIC_DIMENSIONS, METRICS_NAMESPACE, METRICS_STACK_VARIABLE, type MetricKey } from './metric-names';

/**
 * One function's metrics, through Powertools Metrics: each flush is one line of CloudWatch's embedded metric format
 * on standard output, which CloudWatch Logs turns into metrics with no API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Every metric has the dimension set [Stack]; a metric with a breakdown (metric-names.ts) is emitted again with
 * [Stack, <breakdown>], in a line of its own, so that each metric gets exactly the dimension sets it is read by
 * (Powertools applies a line's dimension sets to every metric in it). Handlers flush with `publish()`.
 */
export class BuildMetrics {
  private readonly total: Metrics;
  /**
   * Per process, as the functions run on standard Lambda (one invocation at a time per environment). Were they ever
   * run with several invocations at once in one environment (Lambda Managed Instances' multi-concurrency), this Map
   * would have to become invocation-scoped as Powertools' own stores then are: one invocation's publish() clears it.
   */
  private readonly byBreakdown = new Map<string, Metrics>();

  constructor(
    private readonly stack: string,
    private readonly serviceName: string,
  ) {
    this.total = this.instance({});
  }

  /** Records one value of a metric; `breakdown` is the fleet or failure type for a metric that has one (ignored otherwise). */
  add(key: MetricKey, value: number, breakdown?: string): this {
    const spec: { name: string; unit: string; breakdown?: string } = METRICS[key];
    const unit = spec.unit as Parameters<Metrics['addMetric']>[1];
    this.total.addMetric(spec.name, unit, value);
    if (spec.breakdown && breakdown) {
      const id = `${spec.breakdown}=${breakdown}`;
      let m = this.byBreakdown.get(id);
      if (!m) this.byBreakdown.set(id, (m = this.instance({ [spec.breakdown]: breakdown })));
      m.addMetric(spec.name, unit, value);
    }
    return this;
  }

  /** Writes what was recorded (nothing when nothing was: Powertools would warn about an empty flush) and clears it. */
  publish(): void {
    for (const m of [this.total, ...this.byBreakdown.values()]) if (m.hasStoredMetrics()) m.publishStoredMetrics();
    this.byBreakdown.clear();
  }

  private instance(extra: Record<string, string>): Metrics {
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.serviceName });
    // Powertools adds a `service` dimension by default: the stack's metrics are read by stack, not by function.
    m.clearDefaultDimensions();
    m.setDefaultDimensions({ [METRIC_DIMENSIONS.stack]: this.stack, ...extra });
    return m;
  }
}

/** The function's metrics, its stack read once at cold start (MissingConfigError names the variable when unset). */
export function createMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): BuildMetrics {
  const stack = env[METRICS_STACK_VARIABLE];
  if (stack === undefined || stack.trim() === '') throw new MissingConfigError(METRICS_STACK_VARIABLE);
  return new BuildMetrics(stack, serviceName);
}
