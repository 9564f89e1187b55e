import { CodePipelineClient, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { lineSummary, ordinal, renewJob, type Line } from '../../lambdas/renew/renew';
import { enqueue, leaveLine, oldestQueued, placeInLine, type PoolTable } from '../../lambdas/shared/pool-table';
import type { JobFleet, JobRenewal } from '../../lambdas/shared/types';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * "Report Place In Line": a job waiting in its fleet's line renews its job with a summary that gives its place (what
 * CodePipeline shows on the action while it waits), read from the real line (dynalite); past maxQueueMinutes it leaves
 * the line and fails with LineWaitExceeded, without renewing.
 */
const fleet: JobFleet = { name: 'linux', imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', maxConcurrent: 4, maxQueueMinutes: 30, queueTimeoutSeconds: 1800, lineRefreshSeconds: 300, lineFirstReportSeconds: 30, pools: [] };
const codepipeline = mockClient(CodePipelineClient);
let stop: () => Promise<void>;
let t: PoolTable;
let line: Line;

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('report-test'));
  line = { placeOf: (l) => placeInLine(t, l.fleet.name, l.sk), leave: (l) => leaveLine(t, l.fleet.name, l.sk) };
});
afterAll(() => stop());
beforeEach(() => codepipeline.on(PutJobSuccessResultCommand).resolves({}));
afterEach(() => codepipeline.reset());

async function join(n: number, enqueuedAt: string): Promise<string> {
  const e = await enqueue(t, fleet.name, { executionName: `exec-${n}`, executionArn: `arn:exec-${n}`, jobId: `job-${n}`, taskToken: null, enqueuedAt, expiresAt: 4_000_000_000 });
  return e.sk;
}
const inLine = (sk: string, enqueuedAt: string): JobRenewal => ({
  taskToken: 'report-token',
  jobId: 'job-3',
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:S-BuildJob:exec-3',
  executionName: 'exec-3',
  readyAt: enqueuedAt,
  waitTimeoutSeconds: fleet.queueTimeoutSeconds,
  renewalSeconds: fleet.lineRefreshSeconds,
  line: { fleet, sk },
});

it('renews the job with the execution as continuation token and a summary giving its place, its wait and its bound', async () => {
  const now = Date.now();
  const times = [3, 2, 1].map((m) => new Date(now - m * 60_000).toISOString());
  await join(1, times[0]);
  await join(2, times[1]);
  const sk = await join(3, times[2]);
  expect(await renewJob(inLine(sk, times[2]), now, line)).toBe('reported');
  const sent = codepipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input;
  expect(sent).toMatchObject({ jobId: 'job-3', continuationToken: 'exec-3' });
  expect(sent.executionDetails?.summary).toBe('Waiting for a build slot of fleet "linux": 3rd in line; all 4 (maxConcurrent) are in use. Waited 1m00s so far; gives up after 30 min (maxQueueMinutes).');
  // One ahead leaves: the next report says 2nd.
  await leaveLine(t, fleet.name, (await oldestQueued(t, fleet.name, 1))[0].sk);
  await renewJob(inLine(sk, times[2]), now, line);
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)[1].args[0].input.executionDetails?.summary).toMatch(/: 2nd in line;/);
});

it('says a slot came free when the entry has left the line (a free handed it the slot)', () => {
  const r = inLine('QUEUE#x', new Date(Date.now() - 90_000).toISOString());
  expect(lineSummary(r, r.line!, 0, Date.now())).toMatch(/^A build slot of fleet "linux" came free after 1m30s in line; the build starts\.$/);
});

it('leaves the line and fails with LineWaitExceeded past maxQueueMinutes, naming the fleet, the settings and the fix, without renewing', async () => {
  const enqueuedAt = new Date(Date.now() - 31 * 60_000).toISOString();
  const sk = await join(9, enqueuedAt);
  await expect(renewJob(inLine(sk, enqueuedAt), Date.now(), line)).rejects.toMatchObject({
    name: 'LineWaitExceeded',
    message: expect.stringMatching(/waited 31m00s in line for fleet "linux", whose 4 builds at once \(maxConcurrent\) were all taken, and gave up \(maxQueueMinutes 30\)\. Retry the stage later, or raise/),
  });
  expect(await placeInLine(t, fleet.name, sk)).toBe(0);
  expect(codepipeline).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
});

it('counts a wait within a second of its bound as over (its last round ended on a whole second), rather than renewing once more', async () => {
  const enqueuedAt = new Date(Date.now() - 1800_000 + 600).toISOString();
  const sk = await join(10, enqueuedAt);
  await expect(renewJob(inLine(sk, enqueuedAt), Date.now(), line)).rejects.toMatchObject({ name: 'LineWaitExceeded' });
  expect(codepipeline).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
});

it('refuses to renew a job in line without the line to read its place from', async () => {
  await expect(renewJob(inLine('QUEUE#x', new Date().toISOString()), Date.now())).rejects.toThrow(TypeError);
});

it.each([[1, '1st'], [2, '2nd'], [3, '3rd'], [4, '4th'], [11, '11th'], [12, '12th'], [13, '13th'], [21, '21st'], [22, '22nd'], [101, '101st'], [111, '111th']])('says place %i as %s', (n, text) => {
  expect(ordinal(n)).toBe(text);
});
