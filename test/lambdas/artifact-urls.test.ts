import { CodePipelineClient, GetJobDetailsCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambdas/artifact-urls/handler';
import { buildJob, JOB_ID, polledJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

const details = { jobDetails: { id: JOB_ID, data: polledJob().data } };

describe('artifact URLs', () => {
  const codepipeline = mockClient(CodePipelineClient);
  beforeAll(() => {
    process.env.AWS_REGION = 'us-east-1';
    jest.useFakeTimers({ now: new Date('2026-11-22T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterAll(() => jest.useRealTimers());
  afterEach(() => codepipeline.reset());

  it('signs the input download with the job\'s fresh credentials, valid 30 minutes, to be signed again after 5', async () => {
    codepipeline.on(GetJobDetailsCommand).resolves(details);
    const out = await invoke(handler, { job: buildJob(), direction: 'input' }, 'artifact-urls');
    expect(codepipeline).toHaveReceivedCommandWith(GetJobDetailsCommand, { jobId: JOB_ID });
    expect(out).toEqual({ url: expect.any(String), expiresAt: '2026-11-22T10:30:00.000Z', refreshAfter: '2026-11-22T10:05:00.000Z', secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' });
    const url = new URL(out.url);
    expect(url.pathname).toContain('app/Src/in.zip');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIASECRETID\//);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('secret-session-token');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('1800');
    expect(out.url).not.toContain('super-secret-key');
  });

  it('signs the output upload only with the SSE-KMS headers of the job\'s key', async () => {
    codepipeline.on(GetJobDetailsCommand).resolves(details);
    const out = await invoke(handler, { job: buildJob({ kmsKeyId: 'alias/artifacts' }), direction: 'output' }, 'artifact-urls');
    const url = new URL(out.url);
    expect(url.pathname).toContain('app/Out/out.zip');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id');
  });

  it('signs every artifact of a direction with one GetJobDetails: the others as name=url, each output for its own object with SSE-KMS', async () => {
    codepipeline.on(GetJobDetailsCommand).resolves(details);
    const job = buildJob({
      kmsKeyId: 'alias/artifacts',
      secondaryInputs: [{ name: 'Tools', bucket: 'artifacts', key: 'app/Tools/t.zip' }, { name: 'lib-2', bucket: 'artifacts', key: 'app/lib/l.zip' }],
      secondaryOutputs: [{ name: 'reports', bucket: 'artifacts', key: 'app/reports/r.zip', path: 'test-results' }],
    });
    const input = await invoke(handler, { job, direction: 'input' }, 'artifact-urls');
    const pairs = input.secondaryUrls.split(' ').map((p) => [p.slice(0, p.indexOf('=')), new URL(p.slice(p.indexOf('=') + 1))] as const);
    expect(pairs.map(([name, url]) => [name, url.pathname])).toEqual([['Tools', '/app/Tools/t.zip'], ['lib-2', '/app/lib/l.zip']].map(([n, k]) => [n, expect.stringContaining(k)]));
    expect(pairs.every(([, url]) => url.searchParams.get('X-Amz-Security-Token') === 'secret-session-token')).toBe(true);
    const output = await invoke(handler, { job, direction: 'output' }, 'artifact-urls');
    expect(new URL(output.url).pathname).toContain('app/Out/out.zip');
    const [name, url] = [output.secondaryUrls.slice(0, output.secondaryUrls.indexOf('=')), new URL(output.secondaryUrls.slice(output.secondaryUrls.indexOf('=') + 1))];
    expect([name, url.pathname]).toEqual(['reports', expect.stringContaining('app/reports/r.zip')]);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-amz-server-side-encryption;x-amz-server-side-encryption-aws-kms-key-id');
    expect(codepipeline).toHaveReceivedCommandTimes(GetJobDetailsCommand, 2);
  });

  it('returns an empty URL, with nothing to refresh, when the action has no input artifact', async () => {
    expect(await invoke(handler, { job: buildJob({ input: null }), direction: 'input' }, 'artifact-urls')).toEqual({ url: '', expiresAt: null, refreshAfter: null, secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' });
    expect(codepipeline).not.toHaveReceivedCommand(GetJobDetailsCommand);
  });

  it('refuses an output URL when the action has no output artifact (ConfigurationError)', async () => {
    await expect(invoke(handler, { job: buildJob({ output: null }), direction: 'output' }, 'artifact-urls')).rejects.toMatchObject({ name: 'JobConfigurationError' });
  });

  it('fails when CodePipeline hands out no artifact credentials', async () => {
    codepipeline.on(GetJobDetailsCommand).resolves({ jobDetails: { id: JOB_ID, data: { ...polledJob().data, artifactCredentials: undefined } } });
    await expect(invoke(handler, { job: buildJob(), direction: 'input' }, 'artifact-urls')).rejects.toThrow('GetJobDetails returned no artifact credentials');
  });
});
