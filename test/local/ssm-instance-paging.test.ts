import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SimInstance } from '../../local/services/ec2';
import { LocalSsm } from '../../local/services/ssm';
import { AccountConcurrency } from '../../local/lambda/account-concurrency';
import { ApiMeter } from '../../local/services/api-meter';
import type { Paced } from '../../lambdas/shared/ssm';

/**
 * DescribeInstanceInformation pages as AWS does: at most MaxResults nodes (5 to 50) and a NextToken while more are
 * left (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html); the
 * functions' callers follow it.
 */

const ssm = new LocalSsm({ documentName: 'BuildDoc', timing: { registerMs: 1 }, disksDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ssm-paging-')), onEvent: () => undefined });
let client: SSMClient;
let poolEc2: typeof import('../../lambdas/shared/pool-ec2');
let sharedSsm: typeof import('../../lambdas/shared/ssm');
const ids = Array.from({ length: 120 }, (_, i) => `i-${(0x1000 + i).toString(16).padStart(17, '0')}`);
const offline = ids.filter((_, i) => i % 7 === 0);
const online = ids.filter((id) => !offline.includes(id));

beforeAll(async () => {
  const endpoint = await ssm.start();
  Object.assign(process.env, { AWS_ENDPOINT_URL_SSM: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local' });
  client = new SSMClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
  // The module builds its SDK client when loaded: after the endpoint is set.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  poolEc2 = require('../../lambdas/shared/pool-ec2') as typeof import('../../lambdas/shared/pool-ec2');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sharedSsm = require('../../lambdas/shared/ssm') as typeof import('../../lambdas/shared/ssm');
  // Each agent registers a moment after its instance runs.
  for (const instanceId of online) ssm.instanceChanged({ instanceId, state: 'running', tags: {} } as unknown as SimInstance);
  await new Promise((r) => setTimeout(r, 50));
});
afterAll(() => ssm.stop());

const ask = (Values: string[], more: { MaxResults?: number; NextToken?: string } = {}) => client.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values }], ...more }));

describe('the local SSM pages DescribeInstanceInformation', () => {
  it('returns 10 nodes and a NextToken when MaxResults is not given, and the rest on the next page', async () => {
    // GIVEN 12 online nodes asked for by ID
    const twelve = online.slice(0, 12);
    // WHEN asked without MaxResults
    const first = await ask(twelve);
    // THEN a page of 10, then the 2 others and no token
    expect(first.InstanceInformationList).toHaveLength(10);
    expect(first.NextToken).toBeTruthy();
    const second = await ask(twelve, { NextToken: first.NextToken });
    expect(second.NextToken).toBeFalsy();
    const seen = [...(first.InstanceInformationList ?? []), ...(second.InstanceInformationList ?? [])].map((i) => i.InstanceId);
    expect(seen.sort()).toEqual([...twelve].sort());
  });

  it('holds each page to MaxResults, every node once over the pages', async () => {
    const asked = ids.slice(0, 100);
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await ask(asked, { MaxResults: 7, NextToken });
      expect((out.InstanceInformationList ?? []).length).toBeLessThanOrEqual(7);
      seen.push(...(out.InstanceInformationList ?? []).map((i) => i.InstanceId ?? ''));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    const expected = asked.filter((id) => online.includes(id));
    expect(seen.sort()).toEqual(expected.sort());
    expect(pages).toBe(Math.ceil(expected.length / 7));
  });

  it('refuses MaxResults outside 5 to 50, and a token issued for another filter', async () => {
    await expect(ask(online.slice(0, 3), { MaxResults: 4 })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(ask(online.slice(0, 3), { MaxResults: 51 })).rejects.toMatchObject({ name: 'ValidationException' });
    const first = await ask(online.slice(0, 12), { MaxResults: 5 });
    await expect(ask(online.slice(0, 11), { MaxResults: 5, NextToken: first.NextToken })).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });
});

describe("the functions' callers follow NextToken", () => {
  it('agentsOnline finds every online node of 120, asked 50 at a time', async () => {
    expect([...(await poolEc2.agentsOnline(ids))].sort()).toEqual([...online].sort());
  });

  it('the readiness watcher\'s onlineAgents finds every online node of 120, and leaves a throttled call to the watcher\'s next round (one call, no SDK retry)', async () => {
    const unpaced: Paced = (send) => send(AbortSignal.timeout(5000));
    expect([...(await sharedSsm.onlineAgents(ids, unpaced))].sort()).toEqual([...online].sort());
    // Every request it sends goes through the watcher's pace, one at a time: 3 for 120 instances
    let paced = 0;
    let inFlight = 0;
    const meter = new ApiMeter(() => 0);
    meter.install(new AccountConcurrency());
    try {
      const found = await sharedSsm.onlineAgents(ids, async (send) => {
        paced++;
        expect(++inFlight).toBe(1);
        try {
          return await send(new AbortController().signal);
        } finally {
          inFlight--;
        }
      });
      expect([...found].sort()).toEqual([...online].sort());
    } finally {
      meter.uninstall();
    }
    expect(meter.operation('SSM:DescribeInstanceInformation').calls).toBe(3);
    expect(paced).toBe(3);
    let calls = 0;
    // (the local SSM throttles a call by the job of its first instance, known from EC2)
    ssm.instanceState = (instanceId) => ({ instanceId, state: 'running', tags: {} }) as unknown as SimInstance;
    ssm.chaos = { throttle: (_service, operation) => operation === 'DescribeInstanceInformation' && ++calls > 0 };
    try {
      await expect(sharedSsm.onlineAgents(online.slice(0, 5), unpaced)).rejects.toMatchObject({ name: 'ThrottlingException' });
      expect(calls).toBe(1);
    } finally {
      ssm.chaos = {};
      ssm.instanceState = () => undefined;
    }
  });
});
