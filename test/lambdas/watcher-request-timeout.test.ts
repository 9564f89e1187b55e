import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The readiness watcher's requests to Systems Manager and EC2 are given up after a timeout (watch.ts gives each 5 real
 * seconds): the SDK's request handler gives a request no time limit of its own, and a request that hangs would hold the
 * watcher, and every build waiting on it, until Lambda ended the invocation.
 */
let server: http.Server;
let received = 0;
let sharedSsm: typeof import('../../lambdas/shared/ssm');
let sharedEc2: typeof import('../../lambdas/shared/ec2');

beforeAll(async () => {
  // A Systems Manager endpoint that takes requests and never answers.
  server = http.createServer(() => void received++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { AWS_ENDPOINT_URL_SSM: endpoint, AWS_ENDPOINT_URL_EC2: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' });
  // The module builds its SDK client when loaded: after the endpoint is set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedSsm = require('../../lambdas/shared/ssm') as typeof import('../../lambdas/shared/ssm');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedEc2 = require('../../lambdas/shared/ec2') as typeof import('../../lambdas/shared/ec2');
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  received = 0;
});

describe("the readiness watcher's requests", () => {
  it('gives up a request that gets no answer when the signal its pace hands it aborts', async () => {
    // GIVEN a pace that gives each request 200 ms
    const signals: AbortSignal[] = [];
    // WHEN the watcher asks about an instance and Systems Manager never answers
    const asking = sharedSsm.onlineAgents(['i-0123456789abcdef0'], (send) => {
      const signal = AbortSignal.timeout(200);
      signals.push(signal);
      return send(signal);
    });
    // THEN the ask fails once the signal aborts (without the signal, it hangs past the test's timeout), having reached
    // the endpoint once
    await expect(asking).rejects.toMatchObject({ name: expect.stringMatching(/Abort|Timeout/) });
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(received).toBe(1);
  }, 3000);

  it("gives up EC2's look at instances that gets no answer after the timeout it is given", async () => {
    // WHEN the watcher asks EC2 about instances, giving the request 200 ms, and EC2 never answers
    // THEN the look fails (without the timeout, it hangs past the test's), having reached the endpoint once
    await expect(sharedEc2.watchedInstanceStates(['i-0123456789abcdef0'], 200)).rejects.toMatchObject({ name: expect.stringMatching(/Abort|Timeout/) });
    expect(received).toBe(1);
  }, 3000);
});
