import { LocalMetrics, emfProblems } from '../../local/services/metrics';

/**
 * The local cloud's check of embedded-metric-format lines, rule by rule, against the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * the page's own valid example passes, and each broken rule is named.
 */
const VALID = {
  _aws: { Timestamp: 1574109732004, CloudWatchMetrics: [{ Namespace: 'lambda-function-metrics', Dimensions: [['functionVersion']], Metrics: [{ Name: 'time', Unit: 'Milliseconds' }] }] },
  functionVersion: '$LATEST',
  time: 100,
  requestId: '989ffbf8-9ace-4817-a57c-e4dd734019ee',
};
const directive = (change: Record<string, unknown>) => ({ ...VALID, _aws: { ...VALID._aws, CloudWatchMetrics: [{ ...VALID._aws.CloudWatchMetrics[0], ...change }] } });
const problems = (doc: unknown) => emfProblems(JSON.stringify(doc));

describe('the embedded metric format check', () => {
  it('passes the specification\'s example, and an array of values', () => {
    expect(problems(VALID)).toEqual([]);
    expect(problems({ ...VALID, time: [1, 2, 3] })).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['text around the JSON', null, /one JSON object/],
    ['no _aws', { time: 1 }, /_aws must be an object/],
    ['a Timestamp in seconds with a fraction', { ...VALID, _aws: { ...VALID._aws, Timestamp: 1574109732.004 } }, /Timestamp must be a whole number of milliseconds/],
    ['no Timestamp', { ...VALID, _aws: { CloudWatchMetrics: VALID._aws.CloudWatchMetrics } }, /Timestamp/],
    ['no Namespace', directive({ Namespace: undefined }), /Namespace must be a string of 1 to 255/],
    ['no dimension set', directive({ Dimensions: [] }), /Dimensions must be a non-empty array/],
    ['a dimension missing from the root', directive({ Dimensions: [['functionVersion', 'stage']] }), /dimension "stage" must be a member of the root with a string value/],
    ['a dimension that is a number', { ...VALID, functionVersion: 1 }, /dimension "functionVersion" must be a member of the root with a string value/],
    ['a dimension value of spaces', { ...VALID, functionVersion: '   ' }, /dimension "functionVersion"'s value must be 1 to 1024 printable ASCII characters/],
    ['an empty dimension value', { ...VALID, functionVersion: '' }, /dimension "functionVersion"'s value must be 1 to 1024/],
    ['a dimension value that is not ASCII', { ...VALID, functionVersion: 'v1\u00e9' }, /dimension "functionVersion"'s value must be 1 to 1024 printable ASCII/],
    ['a dimension value with a control character', { ...VALID, functionVersion: 'v1\n' }, /dimension "functionVersion"'s value must be 1 to 1024 printable ASCII/],
    ['a dimension value of 1025 characters', { ...VALID, functionVersion: 'v'.repeat(1025) }, /dimension "functionVersion"'s value must be 1 to 1024/],
    ['a dimension key starting with a colon', { ...directive({ Dimensions: [[':stage']] }), ':stage': 'prod' }, /dimension key ":stage" must be printable ASCII .*not starting with a colon/],
    ['ten dimension keys in a set', directive({ Dimensions: [Array.from({ length: 10 }, (_, i) => `d${i}`)] }), /has 10 keys \(at most 9\)/],
    ['101 metric definitions', directive({ Metrics: Array.from({ length: 101 }, () => ({ Name: 'time' })) }), /101 definitions \(at most 100\)/],
    ['a metric without its value', directive({ Metrics: [{ Name: 'latency' }] }), /metric latency must have a numeric value/],
    ['a metric whose value is text', { ...VALID, time: '100' }, /metric time must have a numeric value/],
    ['101 values of a metric', { ...VALID, time: Array.from({ length: 101 }, () => 1) }, /at most 100 numbers/],
    ['a unit CloudWatch does not have', directive({ Metrics: [{ Name: 'time', Unit: 'Minutes' }] }), /Unit "Minutes" is not a CloudWatch unit/],
    ['a member the specification does not define', directive({ Unit: 'Count' }), /has a member the specification does not define: Unit/],
    ['a document over 256 KB', { ...VALID, padding: 'x'.repeat(256 * 1024) }, /bytes \(at most 262144\)/],
  ])('names %s', (_what, doc, expected) => {
    const line = doc === null ? `INFO ${JSON.stringify(VALID)}` : JSON.stringify(doc);
    expect(emfProblems(line).join('\n')).toMatch(expected);
  });

  it('keeps a line CloudWatch would drop apart from the metrics, and lets other output through', () => {
    const metrics = new LocalMetrics();
    expect(metrics.accept('fn', JSON.stringify(VALID))).toBe(true);
    expect(metrics.accept('fn', JSON.stringify({ ...VALID, time: 'slow' }))).toBe(true);
    expect(metrics.accept('fn', JSON.stringify({ level: 'INFO', message: 'job result reported' }))).toBe(false);
    expect(metrics.accept('fn', 'plain text')).toBe(false);
    expect(metrics.lines).toHaveLength(1);
    expect(metrics.rejected).toHaveLength(1);
    expect([...metrics.metricNames()]).toEqual(['lambda-function-metrics/time']);
  });
});
