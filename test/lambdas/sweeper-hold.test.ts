import type { LatestAction } from '../../lambdas/shared/codepipeline';
import { holdRuns, holdStillWanted } from '../../lambdas/sweeper/hold';

/** A held build: its failure reported in pipeline execution pe-1 (action execution ae-1), its instance kept until 11:00. */
const NOW = new Date('2026-11-22T10:30:00Z');
const UNTIL = '2026-11-22T11:00:00.000Z';
const pipeline = { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2', actionExecutionId: 'ae-1' };
const answering = (run: LatestAction | null) => {
  const asked: string[][] = [];
  return { asked, latest: (...args: string[]) => (asked.push(args), Promise.resolve(run)) };
};

describe('the sweeper and a build held on failure', () => {
  it('keeps it while its hold runs and its action\'s latest run is still the failed one', async () => {
    const q = answering({ pipelineExecutionId: 'pe-1', actionExecutionId: 'ae-1', status: 'Failed' });
    expect(await holdStillWanted(pipeline, UNTIL, NOW, q.latest)).toMatchObject({ awaited: true });
    expect(q.asked).toEqual([['app', 'Build', 'Ec2']]);
  });

  it.each([
    ['the stage was retried (a newer action execution)', { pipelineExecutionId: 'pe-1', actionExecutionId: 'ae-2', status: 'InProgress' }, /was retried/],
    ['the stage ran again in a newer pipeline execution', { pipelineExecutionId: 'pe-2', actionExecutionId: 'ae-3', status: 'InProgress' }, /ran again in pipeline execution pe-2/],
    ['the pipeline is gone', null, /no longer exists/],
  ])('ends the hold when %s', async (_why, run, reason) => {
    const verdict = await holdStillWanted(pipeline, UNTIL, NOW, answering(run).latest);
    expect(verdict).toMatchObject({ awaited: false, why: expect.stringMatching(reason) });
  });

  it('ends a hold that ran out without asking CodePipeline, and takes a hold tag past the longest hold (12 hours) or unreadable as run out', async () => {
    const q = answering({ pipelineExecutionId: 'pe-1', actionExecutionId: 'ae-1', status: 'Failed' });
    expect(await holdStillWanted(pipeline, '2026-11-22T10:29:59.000Z', NOW, q.latest)).toMatchObject({ awaited: false, why: expect.stringMatching(/hold on failure ended/) });
    expect(q.asked).toEqual([]);
    expect(holdRuns(UNTIL, NOW)).toBe(true);
    expect(holdRuns('2026-11-22T22:31:00.000Z', NOW)).toBe(false);
    expect(holdRuns('soon', NOW)).toBe(false);
    expect(holdRuns(undefined, NOW)).toBe(false);
  });

  it('without the action execution\'s id (older job data), takes a running action for a retry', async () => {
    const { actionExecutionId: _id, ...older } = pipeline;
    expect(await holdStillWanted(older, UNTIL, NOW, answering({ pipelineExecutionId: 'pe-1', status: 'InProgress' }).latest)).toMatchObject({ awaited: false });
    expect(await holdStillWanted(older, UNTIL, NOW, answering({ pipelineExecutionId: 'pe-1', status: 'Failed' }).latest)).toMatchObject({ awaited: true });
  });
});
