import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ASYNC_PAYLOAD_LIMIT, LambdaServiceError, LocalLambda, MAX_ENVIRONMENTS, SYNC_PAYLOAD_LIMIT, type FunctionSpec } from '../../local/lambda/invoker';

/** Handlers written as bundles are: CommonJS files exporting `handler`. */
const HANDLERS = `
let count = 0;
exports.echo = async (event) => event;
exports.context = async (_event, context, callback) => ({
  functionName: context.functionName,
  awsRequestId: context.awsRequestId,
  remaining: context.getRemainingTimeInMillis(),
  callback: typeof callback,
});
exports.dates = async () => ({ at: new Date(0), gone: undefined, kept: null });
exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return 'woke'; };
exports.big = async (event) => 'x'.repeat(event.bytes);
exports.fails = async () => { class JobConfigurationError extends Error { name = 'JobConfigurationError'; } throw new JobConfigurationError('ImageId is missing'); };
exports.clock = async (_event, now = new Date()) => now.getTime();
exports.count = async (event) => { count++; await new Promise((r) => setTimeout(r, event.ms ?? 0)); return count; };
exports.unhandled = async (event) => { if (event.reject) Promise.reject(new Error('nobody awaits me')); await new Promise((r) => setTimeout(r, 50)); return 'done'; };
exports.env = async () => ({ role: process.env.AWS_ACCESS_KEY_ID, own: process.env.OWN });
`;

let dir: string;
const lambdas: LocalLambda[] = [];

function fn(handler: string, overrides: Partial<FunctionSpec> = {}): LocalLambda {
  const lambda = new LocalLambda({
    name: `fn-${handler}`,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:fn-${handler}`,
    codeDir: dir,
    handler: `index.${handler}`,
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memoryMB: 128,
    env: { AWS_ACCESS_KEY_ID: 'LOCALSomeRole', OWN: handler },
    region: 'us-east-1',
    accountId: '000000000000',
    ...overrides,
  });
  lambdas.push(lambda);
  return lambda;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invoker-'));
  fs.writeFileSync(path.join(dir, 'index.js'), HANDLERS);
});

afterAll(async () => {
  await Promise.all(lambdas.map((l) => l.stop()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the local invoker runs a function as Lambda does', () => {
  it('passes a Lambda-shaped context as the second argument and a callback as the third', async () => {
    // WHEN
    const out = await fn('context', { timeoutSeconds: 7 }).invoke({});
    // THEN
    const payload = (out as { payload: { functionName: string; awsRequestId: string; remaining: number; callback: string } }).payload;
    expect(payload.functionName).toBe('fn-context');
    expect(payload.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.remaining).toBeGreaterThan(5000);
    expect(payload.remaining).toBeLessThanOrEqual(7000);
    expect(payload.callback).toBe('function');
  });

  it('fails a handler that takes the context for a clock, as the sweeper did on Lambda', async () => {
    const out = await fn('clock').invoke({});
    expect(out).toEqual({ error: expect.objectContaining({ errorType: 'TypeError', errorMessage: expect.stringMatching(/getTime is not a function/) }) });
  });

  it('round-trips the event and the result through JSON', async () => {
    // GIVEN an event with a Date and an undefined member
    const event = { at: new Date(0), gone: undefined };
    // WHEN
    const echoed = await fn('echo').invoke(event);
    const dated = await fn('dates').invoke({});
    // THEN the function saw, and the caller receives, JSON
    expect(echoed).toEqual({ payload: { at: '1970-01-01T00:00:00.000Z' } });
    expect(dated).toEqual({ payload: { at: '1970-01-01T00:00:00.000Z', kept: null } });
  });

  it('ends an invocation that outlives the function Timeout as Lambda reports it, and starts a fresh environment next', async () => {
    const sleeper = fn('sleep', { timeoutSeconds: 1 });
    const started = Date.now();
    const out = await sleeper.invoke({ ms: 5000 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out).toEqual({ error: { errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/), trace: [] } });
    expect(await sleeper.invoke({ ms: 10 })).toEqual({ payload: 'woke' });
  });

  it('refuses a synchronous request over 6 MB and an asynchronous one over 1 MB with RequestTooLargeException', async () => {
    const echo = fn('echo');
    await expect(echo.invoke('x'.repeat(SYNC_PAYLOAD_LIMIT))).rejects.toEqual(expect.objectContaining({ name: 'RequestTooLargeException', statusCode: 413 }));
    await expect(echo.invoke('x'.repeat(ASYNC_PAYLOAD_LIMIT), 'Event')).rejects.toBeInstanceOf(LambdaServiceError);
    // just under each limit (the JSON string's quotes count) goes through
    await expect(echo.invoke('x'.repeat(ASYNC_PAYLOAD_LIMIT - 2), 'Event')).resolves.toEqual({ payload: expect.any(String) });
  });

  it('fails a synchronous invocation whose response is over 6 MB', async () => {
    const big = fn('big');
    expect(await big.invoke({ bytes: SYNC_PAYLOAD_LIMIT })).toEqual({ error: expect.objectContaining({ errorType: 'Function.ResponseSizeTooLarge' }) });
    expect(await big.invoke({ bytes: 10 })).toEqual({ payload: 'xxxxxxxxxx' });
  });

  it('returns a thrown error as { errorType, errorMessage, trace }', async () => {
    const out = await fn('fails').invoke({});
    expect(out).toEqual({ error: { errorType: 'JobConfigurationError', errorMessage: 'ImageId is missing', trace: expect.arrayContaining([expect.stringContaining('index.js')]) } });
  });

  it('fails an invocation that leaves a promise rejection unhandled, as the Node.js runtime does, and starts a fresh environment next', async () => {
    const unhandled = fn('unhandled');
    expect(await unhandled.invoke({ reject: true })).toEqual({ error: expect.objectContaining({ errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: 'Error: nobody awaits me' }) });
    expect(await unhandled.invoke({})).toEqual({ payload: 'done' });
  });

  it('gives each function its own environment variables and each concurrent invocation its own environment', async () => {
    // GIVEN two functions with their own variables
    expect(await fn('env').invoke({})).toEqual({ payload: { role: 'LOCALSomeRole', own: 'env' } });
    expect(process.env.OWN).toBeUndefined();
    // WHEN two invocations overlap, THEN each runs in a fresh environment (module state of its own); a later one reuses one
    const counter = fn('count');
    const both = await Promise.all([counter.invoke({ ms: 200 }), counter.invoke({ ms: 200 })]);
    expect(both).toEqual([{ payload: 1 }, { payload: 1 }]);
    expect(await counter.invoke({})).toEqual({ payload: 2 });
  });

  it('runs more concurrent invocations than it keeps environments: the rest wait for one, none is lost or throttled', async () => {
    // WHEN three times as many invocations overlap as one function keeps environments
    const counter = fn('count');
    const all = await Promise.all(Array.from({ length: 3 * MAX_ENVIRONMENTS }, () => counter.invoke({ ms: 100 })));
    // THEN every one ran; no more environments than the cap started (each counts its own invocations)
    const counts = all.map((o) => ('payload' in o ? (o.payload as number) : -1));
    expect(counts.filter((c) => c === 1)).toHaveLength(MAX_ENVIRONMENTS);
    // and each environment counted 1, 2, ... up to its share: an n-th invocation only where an (n-1)-th was (the shares
    // need not be equal: an environment that started later on a loaded machine serves fewer)
    expect(counts.every((c) => c >= 1)).toBe(true);
    for (let n = 2; n <= Math.max(...counts); n++) expect(counts.filter((c) => c === n).length).toBeLessThanOrEqual(counts.filter((c) => c === n - 1).length);
  });
});
