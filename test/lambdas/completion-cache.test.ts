import { decideOutcome } from '../../lambdas/completion/outcome';
import type { CommandResult, CompletionInput, ExecutionState } from '../../lambdas/shared/types';
import { buildJob } from '../fixtures/job';

/** What CodePipeline is told of a job's caches (CachePaths): hit or miss and sizes, and never a failure. */
const instance = { instanceId: 'i-0abc', instanceType: 'c7i.large', subnetId: null, launchedAt: '2026-01-01T00:00:00Z', capacitySource: 'launched', market: 'on-demand' } as const;
const ok: CommandResult = { commandId: 'c1', status: 'Success', exitCode: 0, outputTail: 'done', errorTail: '' };
const caching = buildJob({ properties: { ...buildJob().properties, cachePaths: 'node_modules' } });
const input = (state: Partial<ExecutionState>, job = caching): CompletionInput => ({
  state: { jobId: job.jobId, pipeline: { name: 'app', executionId: 'pe-1', stage: 'Build', action: 'Ec2' }, nonce: 'n', rejection: null, job, ...state },
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Build:job',
  executionStartTime: '2026-01-01T00:00:00Z',
});

describe('the job\'s result: its caches', () => {
  it('says hit or miss and the sizes in the summary', () => {
    const build = { ...ok, errorTail: 'ec2-build-action-cache restore=hit bytes=52000000 ms=900\nec2-build-action-cache archive bytes=53000000 ms=1200\n' };
    const upload = { ...ok, errorTail: 'ec2-build-action-cache save=saved bytes=53000000 ms=700\n' };
    const out = decideOutcome(input({ instance, build, upload }), new Date('2026-01-01T00:03:12Z'));
    expect(out).toEqual({ status: 'Succeeded', summary: 'Built in 3m12s on i-0abc (c7i.large). Cache: hit (restored 52.0 MB), saved 53.0 MB.' });
  });

  it('keeps the cache report out of a failed build\'s last lines', () => {
    const build = { ...ok, status: 'Failed', exitCode: 2, errorTail: 'ec2-build-action-cache restore=miss bytes=0 ms=3\nmake: *** [all] Error 2' };
    const out = decideOutcome(input({ instance, build }));
    expect(out).toMatchObject({ status: 'Failed', failureType: 'JobFailed' });
    expect(out.status === 'Failed' && out.message).not.toContain('ec2-build-action-cache');
  });

  it('succeeds when the upload that only saved caches failed (signing or the command itself)', () => {
    const job = buildJob({ output: null, properties: { ...buildJob().properties, outputArtifactPath: '', cachePaths: 'node_modules' } });
    const build = { ...ok, errorTail: 'ec2-build-action-cache restore=miss bytes=0 ms=3\n' };
    const signing = { Error: 'Lambda.ServiceException', Cause: 'Rate exceeded' };
    expect(decideOutcome(input({ instance, build, errors: { prepareOutput: signing } }, job))).toMatchObject({ status: 'Succeeded', summary: expect.stringContaining('Cache: miss.') });
    expect(decideOutcome(input({ instance, build, upload: { ...ok, status: 'Failed', statusDetails: 'Undeliverable', exitCode: -1 } }, job))).toMatchObject({ status: 'Succeeded' });
    // An output artifact's upload still decides.
    expect(decideOutcome(input({ instance, build, upload: { ...ok, status: 'Failed', exitCode: 1 } }))).toMatchObject({ status: 'Failed' });
  });
});
