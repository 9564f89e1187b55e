/**
 * CloudWatch's metric extraction from the functions' logs: a line a function prints that is an embedded metric format
 * (EMF) document becomes metrics (on Lambda, writing it to standard output is enough). Each such line is checked
 * against the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
 * CloudWatch drops an invalid one (and counts it in AWS/Logs EMFValidationErrors), so here it is kept apart, for the
 * runner and the tests to see, never counted as metrics.
 */

/** The units a MetricDefinition may name: the specification's JSON schema, as MetricDatum's Unit lists them. */
export const EMF_UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits',
  'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
  'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
] as const;

/**
 * The specification's bounds. Its current page allows 30 dimension keys a set and documents of 1 MB; an earlier
 * edition said 9 keys and 256 KB: the smaller figures are enforced here, so a line valid here is valid under both.
 */
export const EMF_LIMITS = { metricsPerDirective: 100, valuesPerMetric: 100, keysPerDimensionSet: 9, maxBytes: 256 * 1024, nameLength: 255 } as const;

export interface EmfMetricDefinition {
  readonly Name: string;
  readonly Unit?: string;
  readonly StorageResolution?: number;
}

export interface EmfDirective {
  readonly Namespace: string;
  readonly Dimensions: string[][];
  readonly Metrics: EmfMetricDefinition[];
}

export interface EmfDocument {
  readonly _aws: { readonly Timestamp: number; readonly CloudWatchMetrics: EmfDirective[] };
  readonly [member: string]: unknown;
}

/**
 * A dimension's name and value as CloudWatch's Dimension takes them: ASCII only, no control characters, at least one
 * character that is not whitespace; a name never starts with a colon; a value is 1 to 1024 characters
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html). The specification says less
 * about them: the API's rules are the stricter reading.
 */
const DIMENSION_VALUE_MAX = 1024;
const isDimensionText = (v: string) => /^[\x20-\x7e]+$/.test(v) && /\S/.test(v);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= EMF_LIMITS.nameLength;
const extra = (o: Record<string, unknown>, allowed: readonly string[]) => Object.keys(o).filter((k) => !allowed.includes(k));

/** Whether a printed line is meant as an EMF document: a JSON object with an `_aws` member. */
export function looksLikeEmf(line: string): boolean {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return false;
  try {
    return isObject(JSON.parse(line)) && '_aws' in (JSON.parse(line) as object);
  } catch {
    return false;
  }
}

function directiveProblems(root: Record<string, unknown>, d: unknown, at: string): string[] {
  if (!isObject(d)) return [`${at} must be an object (a MetricDirective)`];
  const problems: string[] = extra(d, ['Namespace', 'Dimensions', 'Metrics']).map((k) => `${at} has a member the specification does not define: ${k}`);
  if (!isName(d.Namespace)) problems.push(`${at}.Namespace must be a string of 1 to 255 characters`);
  if (!Array.isArray(d.Dimensions) || d.Dimensions.length === 0) problems.push(`${at}.Dimensions must be a non-empty array of DimensionSets`);
  else {
    d.Dimensions.forEach((set: unknown, i) => {
      if (!Array.isArray(set)) return problems.push(`${at}.Dimensions[${i}] must be an array of dimension keys`);
      if (set.length > EMF_LIMITS.keysPerDimensionSet) problems.push(`${at}.Dimensions[${i}] has ${set.length} keys (at most ${EMF_LIMITS.keysPerDimensionSet})`);
      for (const key of set) {
        if (!isName(key)) problems.push(`${at}.Dimensions[${i}] holds ${JSON.stringify(key)}: a key is a string of 1 to 255 characters`);
        else if (!isDimensionText(key as string) || (key as string).startsWith(':')) problems.push(`dimension key ${JSON.stringify(key)} must be printable ASCII with a non-whitespace character, not starting with a colon`);
        else if (typeof root[key as string] !== 'string') problems.push(`dimension ${JSON.stringify(key)} must be a member of the root with a string value`);
        else if (!isDimensionText(root[key as string] as string) || (root[key as string] as string).length > DIMENSION_VALUE_MAX) problems.push(`dimension ${JSON.stringify(key)}'s value must be 1 to ${DIMENSION_VALUE_MAX} printable ASCII characters, one of them not whitespace`);
      }
      return undefined;
    });
  }
  if (!Array.isArray(d.Metrics)) return [...problems, `${at}.Metrics must be an array of MetricDefinitions`];
  if (d.Metrics.length > EMF_LIMITS.metricsPerDirective) problems.push(`${at}.Metrics has ${d.Metrics.length} definitions (at most ${EMF_LIMITS.metricsPerDirective})`);
  d.Metrics.forEach((m: unknown, i) => {
    const where = `${at}.Metrics[${i}]`;
    if (!isObject(m)) return problems.push(`${where} must be an object (a MetricDefinition)`);
    problems.push(...extra(m, ['Name', 'Unit', 'StorageResolution']).map((k) => `${where} has a member the specification does not define: ${k}`));
    if (!isName(m.Name)) return problems.push(`${where}.Name must be a string of 1 to 255 characters`);
    if (m.Unit !== undefined && !(EMF_UNITS as readonly unknown[]).includes(m.Unit)) problems.push(`${where}.Unit ${JSON.stringify(m.Unit)} is not a CloudWatch unit`);
    if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60) problems.push(`${where}.StorageResolution must be 1 or 60`);
    const value = root[m.Name as string];
    const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (Array.isArray(value)) {
      if (value.length > EMF_LIMITS.valuesPerMetric || !value.every(numeric)) problems.push(`metric ${m.Name as string}'s values must be at most ${EMF_LIMITS.valuesPerMetric} numbers`);
    } else if (!numeric(value)) problems.push(`metric ${m.Name as string} must have a numeric value (or an array of them) at the root`);
    return undefined;
  });
  return problems;
}

/** What makes a line an invalid EMF document: [] when it is valid. */
export function emfProblems(line: string): string[] {
  if (Buffer.byteLength(line) > EMF_LIMITS.maxBytes) return [`the document is ${Buffer.byteLength(line)} bytes (at most ${EMF_LIMITS.maxBytes})`];
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return ['the log event must be one JSON object, with nothing before or after it'];
  }
  if (!isObject(root)) return ['the document must be a JSON object'];
  const aws = root._aws;
  if (!isObject(aws)) return ['_aws must be an object (the metadata)'];
  const problems = extra(aws, ['Timestamp', 'CloudWatchMetrics']).map((k) => `_aws has a member the specification does not define: ${k}`);
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0) problems.push('_aws.Timestamp must be a whole number of milliseconds since the epoch');
  if (!Array.isArray(aws.CloudWatchMetrics)) return [...problems, '_aws.CloudWatchMetrics must be an array of MetricDirectives'];
  aws.CloudWatchMetrics.forEach((d: unknown, i) => problems.push(...directiveProblems(root, d, `_aws.CloudWatchMetrics[${i}]`)));
  return problems;
}

/** The metric lines the functions printed, as CloudWatch would receive them. */
export class LocalMetrics {
  /** Valid EMF lines, in the order printed, with the function that printed them. */
  readonly lines: { readonly functionName: string; readonly text: string }[] = [];
  /** Lines meant as EMF that CloudWatch would drop, and why. */
  readonly rejected: { readonly functionName: string; readonly text: string; readonly problems: string[] }[] = [];

  /** Takes a line a function printed: true when it was meant as metrics (kept here, valid or not), false for any other output. */
  accept(functionName: string, text: string): boolean {
    if (!looksLikeEmf(text)) return false;
    const problems = emfProblems(text);
    if (problems.length) this.rejected.push({ functionName, text, problems });
    else this.lines.push({ functionName, text });
    return true;
  }

  /** The metric names in the valid lines, by namespace: `${namespace}/${name}`. */
  metricNames(): Set<string> {
    const names = new Set<string>();
    for (const { text } of this.lines) {
      for (const d of (JSON.parse(text) as EmfDocument)._aws.CloudWatchMetrics) for (const m of d.Metrics) names.add(`${d.Namespace}/${m.Name}`);
    }
    return names;
  }
}
