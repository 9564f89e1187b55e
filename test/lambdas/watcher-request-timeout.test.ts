import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The readiness watcher's requests to Systems Manager, EC2, Step Functions and its table are given up after a timeout (watch.ts gives
 * each 5 real seconds): the SDK's request handler gives a request no time limit of its own, and a request that hangs
 * would hold the watcher, and every build waiting on it, until Lambda ended the invocation.
 */
let server: http.Server;
/** Requests the endpoint took, by service (its X-Amz-Target's prefix; EC2's query protocol has none). */
const received = new Map<string, number>();
let sharedSsm: typeof import('../../lambdas/shared/ssm');
let sharedEc2: typeof import('../../lambdas/shared/ec2');
let poolStore: typeof import('../../lambdas/shared/pool-store');
let readinessTable: typeof import('../../lambdas/shared/readiness-table');
let sharedSfn: typeof import('../../lambdas/shared/sfn');
/** Long enough for a loaded machine to send the request before it is given up. */
const TIMEOUT_MS = 1000;

beforeAll(async () => {
  // An endpoint for all four that takes requests and never answers.
  server = http.createServer((req) => {
    const service = String(req.headers['x-amz-target'] ?? 'EC2').split('.')[0];
    received.set(service, (received.get(service) ?? 0) + 1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { AWS_ENDPOINT_URL_SSM: endpoint, AWS_ENDPOINT_URL_EC2: endpoint, AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_SFN: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' });
  // The modules build their SDK clients when loaded: after the endpoints are set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedSsm = require('../../lambdas/shared/ssm') as typeof import('../../lambdas/shared/ssm');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedEc2 = require('../../lambdas/shared/ec2') as typeof import('../../lambdas/shared/ec2');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  poolStore = require('../../lambdas/shared/pool-store') as typeof import('../../lambdas/shared/pool-store');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  readinessTable = require('../../lambdas/shared/readiness-table') as typeof import('../../lambdas/shared/readiness-table');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedSfn = require('../../lambdas/shared/sfn') as typeof import('../../lambdas/shared/sfn');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("the readiness watcher's requests", () => {
  it('gives up a request to Systems Manager that gets no answer when the signal its pace hands it aborts', async () => {
    // GIVEN a pace that gives each request a second
    const signals: AbortSignal[] = [];
    // WHEN the watcher asks about an instance and Systems Manager never answers
    const asking = sharedSsm.onlineAgents(['i-0123456789abcdef0'], (send) => {
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      signals.push(signal);
      return send(signal);
    });
    // THEN the ask fails once the signal aborts (without the signal, it hangs past the test's timeout), having reached
    // the endpoint once
    await expect(asking).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(received.get('AmazonSSM')).toBe(1);
  }, 8000);

  it("gives up EC2's look at instances that gets no answer after the timeout it is given", async () => {
    // WHEN the watcher asks EC2 about instances, giving the request a second, and EC2 never answers
    // THEN the look fails (without the timeout, it hangs past the test's), having reached the endpoint once
    await expect(sharedEc2.watchedInstanceStates(['i-0123456789abcdef0'], TIMEOUT_MS)).rejects.toMatchObject({ name: 'AbortError' });
    expect(received.get('EC2')).toBe(1);
  }, 8000);

  it('gives up a read of its table that gets no answer, each attempt after the timeout its table was made with', async () => {
    // GIVEN the watcher's table, made with a 1 s timeout (with the SDK's own retries)
    const table = poolStore.poolTableFromEnv({ POOL_TABLE_NAME: 'pool' }, { requestTimeoutMs: TIMEOUT_MS });
    // WHEN it reads the waiting builds and the table never answers
    // THEN the read fails (without the timeout, it hangs past the test's), each attempt having reached the endpoint
    await expect(readinessTable.listWaiterHeads(table)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(received.get('DynamoDB_20120810')).toBeGreaterThanOrEqual(1);
  }, 15_000);

  it("gives up settling a build when Step Functions gets no answer after the timeout it is given, whole, with the SDK's retries", async () => {
    // WHEN the watcher resumes one build and fails another, giving each call a second, and Step Functions never answers
    // THEN each call fails (without the timeout, each hangs past the test's), having reached the endpoint
    const started = Date.now();
    await expect(sharedSfn.resumeTask('token-1', { readyAt: 'now' }, TIMEOUT_MS)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sharedSfn.failTask('token-2', 'AgentNotOnline', 'never online', TIMEOUT_MS)).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(4 * TIMEOUT_MS);
    expect(received.get('AWSStepFunctions')).toBe(2);
  }, 8000);
});
