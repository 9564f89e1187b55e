import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AccountConcurrency, DEFAULT_CONCURRENCY_LIMIT, LAMBDA_ACCOUNT } from '../../local/lambda/account-concurrency';
import { invokeForStateMachine, type DeployedFunction } from '../../local/lambda/functions';
import { LambdaServiceError, LocalLambda, MAX_ENVIRONMENTS, type FunctionSpec } from '../../local/lambda/invoker';

/** Lambda's account concurrency (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): 1,000 by default, shared by every function. */

const HANDLERS = `exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return 'woke'; };`;

let dir: string;
const lambdas: LocalLambda[] = [];

function fn(name: string, account: AccountConcurrency): LocalLambda {
  const spec: FunctionSpec = {
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    codeDir: dir,
    handler: 'index.sleep',
    runtime: 'nodejs22.x',
    timeoutSeconds: 5,
    memoryMB: 128,
    env: { AWS_ACCESS_KEY_ID: 'LOCALSomeRole' },
    region: 'us-east-1',
    accountId: '000000000000',
  };
  const lambda = new LocalLambda(spec, account);
  lambdas.push(lambda);
  return lambda;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concurrency-'));
  fs.writeFileSync(path.join(dir, 'index.js'), HANDLERS);
});

afterAll(async () => {
  await Promise.all(lambdas.map((l) => l.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the local invoker holds every function to the account's concurrent executions", () => {
  it('defaults to the 1,000 concurrent executions Lambda gives an account per Region', () => {
    expect(DEFAULT_CONCURRENCY_LIMIT).toBe(1000);
    expect(LAMBDA_ACCOUNT.limit).toBe(1000);
  });

  it('refuses a synchronous invocation beyond the limit with TooManyRequestsException (429), counted across functions', async () => {
    // GIVEN an account of 2 concurrent executions, busy with one invocation of each of two functions
    const account = new AccountConcurrency();
    account.limit = 2;
    const a = fn('fn-a', account);
    const b = fn('fn-b', account);
    const busy = [a.invoke({ ms: 400 }), b.invoke({ ms: 400 })];
    // WHEN a third arrives, for either function
    const third = a.invoke({ ms: 10 });
    // THEN Lambda refuses it, as the Invoke API does, and the two running ones finish
    await expect(third).rejects.toEqual(expect.objectContaining({ name: 'TooManyRequestsException', statusCode: 429 }));
    await expect(third).rejects.toBeInstanceOf(LambdaServiceError);
    expect(await Promise.all(busy)).toEqual([{ payload: 'woke' }, { payload: 'woke' }]);
    expect(account.figures()).toEqual({ invocations: { 'fn-a': 2, 'fn-b': 1 }, throttled: 1, peakConcurrency: 2, peakByFunction: { 'fn-a': 1, 'fn-b': 1 } });
    // AND once they ended, the next one runs
    expect(await b.invoke({ ms: 10 })).toEqual({ payload: 'woke' });
  });

  it('raises it in a Task state as Lambda.TooManyRequestsException, which the state machine retries', async () => {
    const account = new AccountConcurrency();
    account.limit = 1;
    const lambda = fn('fn-task', account);
    const deployed = { name: 'fn-task', lambda } as unknown as DeployedFunction;
    const running = lambda.invoke({ ms: 300 });
    await expect(invokeForStateMachine(deployed, { ms: 1 })).rejects.toEqual(expect.objectContaining({ name: 'Lambda.TooManyRequestsException' }));
    await running;
  });

  it('queues an asynchronous invocation beyond the limit instead of refusing it, and runs it when an execution ends', async () => {
    // GIVEN an account of 1 concurrent execution, busy
    const account = new AccountConcurrency();
    account.limit = 1;
    const lambda = fn('fn-async', account);
    const started = Date.now();
    const busy = lambda.invoke({ ms: 300 }, 'Event');
    // WHEN two more events arrive
    const queued = [lambda.invoke({ ms: 10 }, 'Event'), lambda.invoke({ ms: 10 }, 'Event')];
    // THEN none is refused: each runs after the one before it ended, never two at once
    expect(await Promise.all([busy, ...queued])).toEqual([{ payload: 'woke' }, { payload: 'woke' }, { payload: 'woke' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(account.figures()).toEqual({ invocations: { 'fn-async': 3 }, throttled: 0, peakConcurrency: 1, peakByFunction: { 'fn-async': 1 } });
    expect(account.running).toBe(0);
  });

  it('counts invocations waiting locally for a worker as running, as Lambda would run them at once', async () => {
    // GIVEN more concurrent invocations of one function than this machine keeps environments for it
    const account = new AccountConcurrency();
    const lambda = fn('fn-many', account);
    const n = MAX_ENVIRONMENTS + 3;
    await Promise.all(Array.from({ length: n }, () => lambda.invoke({ ms: 100 })));
    // THEN the peak is every invocation, not the workers
    expect(account.figures().peakConcurrency).toBe(n);
  });
});
