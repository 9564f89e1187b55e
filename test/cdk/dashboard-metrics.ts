/** The metrics a synthesized template's dashboards and alarms read, for tests that compare them with what the functions emit. */

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, unknown>;
}

/** A dashboard body as CloudFormation would resolve it: its Fn::Join of text and references, the references as placeholders. */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`a dashboard body that is neither text nor Fn::Join: ${JSON.stringify(body).slice(0, 200)}`);
  return join[1].map((part) => (typeof part === 'string' ? part : `REF:${JSON.stringify(part).replace(/"/g, '')}`)).join(join[0]);
}

/**
 * Every metric of every dashboard's metric widgets: each `metrics` entry is [namespace, name, dimension, value, …,
 * options] (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html),
 * where "." repeats the entry before's value at that place.
 */
export function dashboardMetrics(resources: Resources): MetricRef[] {
  const refs: MetricRef[] = [];
  for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::CloudWatch::Dashboard')) {
    const body = JSON.parse(bodyText(r.Properties?.DashboardBody)) as { widgets: { type: string; properties: { metrics?: unknown[][] } }[] };
    for (const w of body.widgets.filter((x) => x.type === 'metric')) {
      let before: unknown[] = [];
      for (const entry of w.properties.metrics ?? []) {
        const parts = entry.filter((p) => typeof p !== 'object' || p === null).map((p, i) => (p === '.' ? before[i] : p));
        // A math expression's entry is its options alone ([{ expression, id, label }]): the metrics it uses have entries of their own.
        if (parts.length === 0) continue;
        before = parts;
        const dimensions: Record<string, unknown> = {};
        for (let i = 2; i + 1 < parts.length; i += 2) dimensions[String(parts[i])] = parts[i + 1];
        refs.push({ namespace: String(parts[0]), name: String(parts[1]), dimensions });
      }
    }
  }
  return refs;
}

/** Every metric the template's alarms read: a metric alarm's own, or each metric of its math expression. */
export function alarmMetrics(resources: Resources): MetricRef[] {
  const refs: MetricRef[] = [];
  const dims = (d: unknown) => Object.fromEntries(((d as { Name: string; Value: unknown }[] | undefined) ?? []).map((x) => [x.Name, x.Value]));
  for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::CloudWatch::Alarm')) {
    const p = r.Properties ?? {};
    if (typeof p.MetricName === 'string') refs.push({ namespace: p.Namespace as string, name: p.MetricName, dimensions: dims(p.Dimensions) });
    for (const m of (p.Metrics as { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown } } }[] | undefined) ?? []) {
      if (m.MetricStat) refs.push({ namespace: m.MetricStat.Metric.Namespace, name: m.MetricStat.Metric.MetricName, dimensions: dims(m.MetricStat.Metric.Dimensions) });
    }
  }
  return refs;
}
