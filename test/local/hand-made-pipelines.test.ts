import { handMadeOperations, type HandMadeJob } from '../../local/services/hand-made-pipelines';

/** The local runner's jobs stand for a one-action pipeline: the sweeper sees their action as CodePipeline would show it. */

const PE = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 12, 0, s));
const job = (actionExecutionId: string, status: string, created: Date, endedAt?: Date, pipelineExecutionId = PE): HandMadeJob => ({
  actionExecutionId,
  status,
  created,
  endedAt,
  data: { pipelineContext: { pipelineName: 'local-pipeline', pipelineExecutionId, stage: { name: 'Build' }, action: { name: 'BuildOnEc2' } } },
});

function operations(jobs: HandMadeJob[], served: Record<string, (b: Record<string, unknown>) => unknown> = {}) {
  return handMadeOperations(() => jobs, served);
}

describe('local CodePipeline: ListActionExecutions and GetPipelineExecution for jobs made by hand', () => {
  it.each([
    ['InProgress', 'InProgress', 'InProgress'],
    ['Dispatched', 'InProgress', 'InProgress'],
    ['Abandoned', 'Abandoned', 'Stopped'],
    ['TimedOut', 'Failed', 'Failed'],
    ['Failed', 'Failed', 'Failed'],
    ['Succeeded', 'Succeeded', 'Succeeded'],
  ])('a job %s is an action %s in a pipeline execution %s', async (jobStatus, actionStatus, pipelineStatus) => {
    const ops = operations([job('ae-1', jobStatus, at(0), jobStatus === 'InProgress' || jobStatus === 'Dispatched' ? undefined : at(30))]);
    const list = (await ops.ListActionExecutions({ pipelineName: 'local-pipeline', filter: { pipelineExecutionId: PE } })) as { actionExecutionDetails: Record<string, unknown>[] };
    expect(list.actionExecutionDetails).toEqual([
      expect.objectContaining({ pipelineExecutionId: PE, actionExecutionId: 'ae-1', stageName: 'Build', actionName: 'BuildOnEc2', status: actionStatus, startTime: at(0).getTime() / 1000 }),
    ]);
    // The action changed when its job ended, not when it was created (the sweeper's grace counts from it).
    if (actionStatus !== 'InProgress') expect(list.actionExecutionDetails[0].lastUpdateTime).toBe(at(30).getTime() / 1000);
    expect(await ops.GetPipelineExecution({ pipelineName: 'local-pipeline', pipelineExecutionId: PE })).toEqual({
      pipelineExecution: expect.objectContaining({ pipelineExecutionId: PE, status: pipelineStatus }),
    });
  });

  it('keeps a renewed action in progress: its newest job counts, not the one that succeeded with a continuation token', async () => {
    const ops = operations([job('ae-1', 'Succeeded', at(0), at(10)), job('ae-1', 'Queued', at(10))]);
    const list = (await ops.ListActionExecutions({ pipelineName: 'local-pipeline' })) as { actionExecutionDetails: { status: string }[] };
    expect(list.actionExecutionDetails.map((a) => a.status)).toEqual(['InProgress']);
  });

  it('refuses a pipeline execution no job names, and hands an unknown pipeline to the pipeline API, else PipelineNotFoundException', async () => {
    const served = { GetPipelineExecution: jest.fn(() => ({ pipelineExecution: { status: 'Succeeded' } })) };
    const ops = operations([job('ae-1', 'InProgress', at(0))], served);
    expect(() => ops.GetPipelineExecution({ pipelineName: 'local-pipeline', pipelineExecutionId: 'ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee' })).toThrow(
      expect.objectContaining({ code: 'PipelineExecutionNotFoundException' }),
    );
    expect(await ops.GetPipelineExecution({ pipelineName: 'made-by-verify', pipelineExecutionId: PE })).toEqual({ pipelineExecution: { status: 'Succeeded' } });
    expect(served.GetPipelineExecution).toHaveBeenCalledWith({ pipelineName: 'made-by-verify', pipelineExecutionId: PE });
    expect(() => ops.ListActionExecutions({ pipelineName: 'made-by-verify' })).toThrow(expect.objectContaining({ code: 'PipelineNotFoundException' }));
  });
});
