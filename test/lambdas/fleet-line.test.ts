import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { free, take, waitInLine, type LineRequest } from '../../lambdas/fleet-slots/slots';
import { enqueue, oldestQueued, slotHolders, type PoolTable } from '../../lambdas/shared/pool-table';
import type { JobFleet } from '../../lambdas/shared/types';
import { startPoolTable } from '../fixtures/pool-table';

/**
 * A fleet's cap and line (lambdas/fleet-slots/slots.ts) against a real DynamoDB implementation (dynalite), with
 * Step Functions mocked: a job takes a slot or joins the line without a task; its wait stores the task's token; a free
 * resumes a waiting task, keeps the slot for a job between waits while its execution runs, and gives back the slot of
 * one that ended.
 */
let stop: () => Promise<void>;
let t: PoolTable;
let fleetNo = 0;
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-east-1:123456789012:execution:S-BuildJob:';

function fleetOf(maxConcurrent: number, maxQueueMinutes = 5): JobFleet {
  return { name: `line-${++fleetNo}`, imageId: 'ami-0a1b2c3d4e5f67890', instanceTypes: ['t3.medium'], market: 'on-demand', maxConcurrent, maxQueueMinutes, queueTimeoutSeconds: maxQueueMinutes * 60, lineRefreshSeconds: 300, lineFirstReportSeconds: 30, pools: [] };
}
const job = (fleet: JobFleet, name: string): LineRequest => ({ fleet, jobId: `job-${name}`, executionName: name, executionArn: `${ARN}${name}` });
const resumed = () => sfn.commandCalls(SendTaskSuccessCommand).map((c) => ({ token: c.args[0].input.taskToken, output: JSON.parse(c.args[0].input.output ?? '{}') as Record<string, unknown> }));
const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s));

beforeAll(async () => {
  ({ table: t, stop } = await startPoolTable('line-test'));
});
afterAll(() => stop());
beforeEach(() => {
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
});

describe("a fleet's line", () => {
  it('takes a free slot at once, and puts the next job in line with its place and no waiting task', async () => {
    const fleet = fleetOf(1);
    expect(await take(t, job(fleet, 'a'), at(0))).toEqual({ granted: true, queued: false, waitedMs: 0, position: 0, line: null });
    const b = await take(t, job(fleet, 'b'), at(1));
    expect(b).toMatchObject({ granted: false, queued: true, position: 1, line: { enqueuedAt: at(1).toISOString() } });
    expect(await take(t, job(fleet, 'c'), at(2))).toMatchObject({ granted: false, position: 2 });
    expect((await oldestQueued(t, fleet.name, 10)).map((e) => [e.executionName, e.taskToken])).toEqual([['b', null], ['c', null]]);
    expect(await slotHolders(t, fleet.name)).toEqual(['a']);
  });

  it('refuses a job when full if the fleet keeps no line (FleetFull), naming the fleet and the settings', async () => {
    const fleet = fleetOf(1, 0);
    await take(t, job(fleet, 'a'), at(0));
    await expect(take(t, job(fleet, 'b'), at(1))).rejects.toMatchObject({ name: 'FleetFull', message: expect.stringMatching(new RegExp(`fleet "${fleet.name}".*maxConcurrent.*maxQueueMinutes 0`)) });
    expect(await oldestQueued(t, fleet.name, 10)).toEqual([]);
  });

  it('resumes the waiting task of the oldest job when a slot is freed, with how long it waited', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    expect(await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'token-b', line: b.line! }, at(2))).toEqual({ outcome: 'waiting', position: 1 });
    expect(resumed()).toEqual([]);
    expect(await free(t, fleet, 'a', at(31))).toEqual({ resumed: 1 });
    expect(resumed()).toEqual([{ token: 'token-b', output: { granted: true, queued: true, waitedMs: 30_000, position: 0, line: null } }]);
    expect(await slotHolders(t, fleet.name)).toEqual(['b']);
    expect(await oldestQueued(t, fleet.name, 10)).toEqual([]);
  });

  it('keeps a freed slot for a job that waits on no task now (joining, or reporting its place), which finds it when it waits', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    // WHEN the slot is freed before b's wait stored a token
    expect(await free(t, fleet, 'a', at(5))).toEqual({ resumed: 0 });
    // THEN b holds it (its execution runs), nobody was resumed, and its wait starts it at once
    expect(await slotHolders(t, fleet.name)).toEqual(['b']);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([`${ARN}b`]);
    expect(await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'token-b2', line: b.line! }, at(6))).toEqual({ outcome: 'granted' });
    expect(resumed()).toEqual([{ token: 'token-b2', output: expect.objectContaining({ granted: true, waitedMs: 5000 }) }]);
  });

  it('keeps the slot for a job whose earlier wait timed out while it reports its place, and starts it at its next wait', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'timed-out', line: b.line! }, at(2));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'timed-out' }).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    expect(await free(t, fleet, 'a', at(9))).toEqual({ resumed: 0 });
    expect(await slotHolders(t, fleet.name)).toEqual(['b']);
    expect(await waitInLine(t, { ...job(fleet, 'b'), jobId: 'job-b-continued', taskToken: 'token-b3', line: b.line! }, at(10))).toEqual({ outcome: 'granted' });
    expect(resumed().map((r) => r.token)).toEqual(['timed-out', 'token-b3']);
  });

  it('gives back a slot the line would hand to an execution that is not running, and hands it to the next job', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    await take(t, job(fleet, 'gone'), at(1));
    const c = await take(t, job(fleet, 'c'), at(2));
    await waitInLine(t, { ...job(fleet, 'c'), taskToken: 'token-c', line: c.line! }, at(3));
    sfn.on(DescribeExecutionCommand, { executionArn: `${ARN}gone` }).resolves({ status: 'ABORTED' });
    expect(await free(t, fleet, 'a', at(4))).toEqual({ resumed: 1 });
    expect(await slotHolders(t, fleet.name)).toEqual(['c']);
    expect(resumed().map((r) => r.token)).toEqual(['token-c']);
  });

  it('takes a job that ends while in line out of it, and never keeps a freed slot for the execution that frees one', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    const c = await take(t, job(fleet, 'c'), at(2));
    await waitInLine(t, { ...job(fleet, 'c'), taskToken: 'token-c', line: c.line! }, at(3));
    // WHEN b gives up (its line place given) THEN it leaves the line, and a's slot is untouched
    expect(await free(t, fleet, 'b', at(4), b.line)).toEqual({ resumed: 0 });
    expect((await oldestQueued(t, fleet.name, 10)).map((e) => e.executionName)).toEqual(['c']);
    expect(await slotHolders(t, fleet.name)).toEqual(['a']);
  });

  it('never keeps a freed slot for the execution that frees it, when an entry of its own is still in line', async () => {
    // GIVEN d holds the only slot and, stale, still has an entry in line ahead of e, which waits on its task
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'd'), at(0));
    await enqueue(t, fleet.name, { executionName: 'd', executionArn: `${ARN}d`, jobId: 'job-d', taskToken: null, enqueuedAt: at(1).toISOString(), expiresAt: 4_000_000_000 });
    const e = await take(t, job(fleet, 'e'), at(2));
    await waitInLine(t, { ...job(fleet, 'e'), taskToken: 'token-e', line: e.line! }, at(3));
    // WHEN d frees its slot (no place given: its Take failed after joining, say)
    expect(await free(t, fleet, 'd', at(4))).toEqual({ resumed: 1 });
    // THEN its entry is gone and the slot went to e, not back to d
    expect(await slotHolders(t, fleet.name)).toEqual(['e']);
    expect(await oldestQueued(t, fleet.name, 10)).toEqual([]);
    expect(resumed().map((r) => r.token)).toEqual(['token-e']);
  });

  it('keeps the slot for a job whose resume failed (throttled), and fails the free to be retried; the job starts at its next wait', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'token-b', line: b.line! }, at(2));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'token-b' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(free(t, fleet, 'a', at(3))).rejects.toThrow('Rate exceeded');
    expect(await slotHolders(t, fleet.name)).toEqual(['b']);
    expect(await oldestQueued(t, fleet.name, 10)).toEqual([]);
    expect(await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'token-b2', line: b.line! }, at(9))).toEqual({ outcome: 'granted' });
  });

  it('puts a job whose entry vanished without a slot back in line at its place', async () => {
    const fleet = fleetOf(1);
    await take(t, job(fleet, 'a'), at(0));
    const b = await take(t, job(fleet, 'b'), at(1));
    await take(t, job(fleet, 'c'), at(2));
    const { leaveLine } = await import('../../lambdas/shared/pool-table');
    await leaveLine(t, fleet.name, b.line!.sk);
    expect(await waitInLine(t, { ...job(fleet, 'b'), taskToken: 'token-b', line: b.line! }, at(3))).toEqual({ outcome: 'waiting', position: 1 });
    expect((await oldestQueued(t, fleet.name, 10)).map((e) => e.executionName)).toEqual(['b', 'c']);
  });

  it('lets 20 jobs race for 3 slots: 3 get one, 17 wait in line in order, and every free hands exactly one slot on', async () => {
    const fleet = fleetOf(3);
    const names = Array.from({ length: 20 }, (_, i) => `r${String(i).padStart(2, '0')}`);
    const taken = await Promise.all(names.map((n, i) => take(t, job(fleet, n), at(i))));
    expect(taken.filter((s) => s.granted)).toHaveLength(3);
    const waiting = names.filter((_, i) => !taken[i].granted);
    await Promise.all(waiting.map((n) => waitInLine(t, { ...job(fleet, n), taskToken: `token-${n}`, line: taken[names.indexOf(n)].line! }, at(30))));
    const holders = await slotHolders(t, fleet.name);
    expect(holders).toHaveLength(3);
    for (const h of holders) await free(t, fleet, h, at(40));
    expect(await slotHolders(t, fleet.name)).toHaveLength(3);
    const line = [...waiting].sort((x, y) => taken[names.indexOf(x)].line!.enqueuedAt.localeCompare(taken[names.indexOf(y)].line!.enqueuedAt));
    expect(resumed().map((r) => r.token)).toEqual(line.slice(0, 3).map((n) => `token-${n}`));
  });
});
