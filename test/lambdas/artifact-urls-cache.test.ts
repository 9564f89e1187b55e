import { CodePipelineClient, GetJobDetailsCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import type { ArtifactUrls } from '../../lambdas/artifact-urls/handler';
import { cacheKey, cacheOwner } from '../../lambdas/shared/cache-paths';
import { buildJob, JOB_ID, polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

/**
 * CachePaths' URL: a GET signed beside the input artifact's URL, a PUT beside the output's, for the action's own object
 * in the job bucket (one archive of its directories), signed by the function's role (never the job's artifact
 * credentials, which reach only the artifact store).
 */
process.env.JOB_BUCKET_NAME = 'jobs';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDFUNCTIONROLE';
process.env.AWS_SECRET_ACCESS_KEY = 'function-role-secret';
const codepipeline = mockClient(CodePipelineClient);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/artifact-urls/handler') as typeof import('../../lambdas/artifact-urls/handler');

const context = { pipelineName: 'app', pipelineExecutionId: '', stageName: 'Build', actionName: 'Compile', sourceRevision: '' };
const caching = (overrides: Parameters<typeof buildJob>[0] = {}) => buildJob({ context, ...overrides, properties: { ...buildJob().properties, cachePaths: 'node_modules,/root/.m2' } });
const urlsOf = (out: ArtifactUrls) => (out.cacheUrl ? [new URL(out.cacheUrl)] : []);

describe('artifact URLs: the caches', () => {
  beforeAll(() => jest.useFakeTimers({ now: new Date('2026-11-22T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterAll(() => jest.useRealTimers());
  beforeEach(() => codepipeline.on(GetJobDetailsCommand).resolves({ jobDetails: { id: JOB_ID, data: polledJob().data } }));
  afterEach(() => codepipeline.reset());

  it('signs a GET beside the input, and a PUT beside the output, for the action\'s own object', async () => {
    const keys = [cacheKey(cacheOwner(context)!, 'node_modules,/root/.m2')];
    for (const [direction, method] of [['input', 'GET'], ['output', 'PUT']] as const) {
      const urls = urlsOf(await invoke(handler, { job: caching(), direction, executionName: 'exec-1' }, 'artifact-urls'));
      expect(urls.map((u) => u.pathname)).toEqual(keys.map((k) => `/${k}`));
      for (const url of urls) {
        expect(url.hostname).toBe('jobs.s3.us-east-1.amazonaws.com');
        expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDFUNCTIONROLE\//);
        expect(url.searchParams.get('X-Amz-Expires')).toBe('1800');
        expect(url.searchParams.get('x-id')).toBe(method === 'GET' ? 'GetObject' : 'PutObject');
      }
    }
  });

  it('signs caches for an action with no input and no output artifact, saying when to sign again', async () => {
    const job = caching({ input: null, output: null });
    const input: ArtifactUrls = await invoke(handler, { job, direction: 'input', executionName: 'exec-1' }, 'artifact-urls');
    expect(urlsOf(input)).toHaveLength(1);
    expect(input).toMatchObject({ url: '', expiresAt: '2026-11-22T10:30:00.000Z', refreshAfter: '2026-11-22T10:05:00.000Z' });
    const output: ArtifactUrls = await invoke(handler, { job, direction: 'output', executionName: 'exec-1' }, 'artifact-urls');
    expect(output.url).toBe('');
    expect(urlsOf(output)).toHaveLength(1);
  });

  it('signs nothing when the job caches nothing, or when CodePipeline did not name its stage and action', async () => {
    expect((await invoke(handler, { job: buildJob({ context }), direction: 'input', executionName: 'exec-1' }, 'artifact-urls')).cacheUrl).toBe('');
    expect((await invoke(handler, { job: caching({ context: { ...context, actionName: '' } }), direction: 'output', executionName: 'exec-1' }, 'artifact-urls')).cacheUrl).toBe('');
  });
});
