import { LambdaServiceError, type InvokeOutcome } from '../../local/lambda/invoker';
import { LocalEventBus, rateSeconds, type RuleTarget } from '../../local/services/events';

const failing: InvokeOutcome = { error: { errorType: 'TypeError', errorMessage: 'now.getTime is not a function', trace: [] } };

function target(outcomes: (InvokeOutcome | Error)[], calls: unknown[]): RuleTarget {
  return {
    functionName: 'fn',
    deliveryRetries: 8,
    functionRetries: 2,
    invoke: async (event) => {
      calls.push(event);
      const next = outcomes.shift() ?? { payload: null };
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('the local event bus invokes its targets as EventBridge and Lambda asynchronous invocation do', () => {
  it('runs a failing function three times in all (Lambda retries function errors twice, not the rule RetryPolicy times), then records the dropped event', async () => {
    // GIVEN a rule whose target always fails
    const bus = new LocalEventBus();
    bus.msPerSecond = 0.1;
    const calls: unknown[] = [];
    bus.addRule({ name: 'Rule', arn: 'arn:aws:events:us-east-1:000000000000:rule/Rule', pattern: { source: ['aws.ssm'] }, targets: [target([failing, failing, failing, failing], calls)] });
    // WHEN an event matches
    bus.put({ source: 'aws.ssm', 'detail-type': 'x', detail: {} });
    await bus.drain();
    // THEN three attempts, and the failure is not swallowed
    expect(calls).toHaveLength(3);
    expect(bus.dropped).toEqual([{ rule: 'Rule', functionName: 'fn', error: failing.error }]);
  });

  it('drops an event the Lambda service refuses as too large at once, and records it', async () => {
    const bus = new LocalEventBus();
    const calls: unknown[] = [];
    bus.addRule({ name: 'Rule', arn: 'arn', pattern: { source: ['aws.ssm'] }, targets: [target([new LambdaServiceError('RequestTooLargeException', 'too large', 413)], calls)] });
    bus.put({ source: 'aws.ssm' });
    await bus.drain();
    expect(calls).toHaveLength(1);
    expect(bus.dropped[0].error.errorType).toBe('RequestTooLargeException');
  });

  it('delivers a full EventBridge envelope, and a scheduled event naming its rule', async () => {
    const bus = new LocalEventBus();
    const calls: Record<string, unknown>[] = [];
    const t = target([], calls);
    bus.addRule({ name: 'Matched', arn: 'arn:rule/Matched', pattern: { detail: { state: ['STARTED'] } }, targets: [t] });
    bus.addRule({ name: 'Schedule', arn: 'arn:rule/Schedule', schedule: 'rate(5 minutes)', targets: [t] });
    bus.put({ source: 'aws.codepipeline', detail: { state: 'STARTED' } });
    bus.put({ source: 'aws.codepipeline', detail: { state: 'FAILED' } });
    bus.startSchedules(() => 20);
    await new Promise((r) => setTimeout(r, 50));
    bus.stopSchedules();
    await bus.drain();
    expect(calls[0]).toEqual(expect.objectContaining({ version: '0', id: expect.any(String), account: '000000000000', region: 'us-east-1', detail: { state: 'STARTED' } }));
    expect(calls.slice(1)).toContainEqual(expect.objectContaining({ 'detail-type': 'Scheduled Event', source: 'aws.events', resources: ['arn:rule/Schedule'] }));
    expect(calls.filter((c) => (c.detail as { state?: string }).state === 'FAILED')).toEqual([]);
  });

  it('reads rate() schedules and refuses what it does not simulate', () => {
    expect(rateSeconds('rate(5 minutes)')).toBe(300);
    expect(rateSeconds('rate(1 hour)')).toBe(3600);
    expect(() => rateSeconds('cron(0 12 * * ? *)')).toThrow(/only rate\(\)/);
  });
});
