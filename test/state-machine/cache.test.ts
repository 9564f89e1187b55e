import { buildJob } from '../fixtures/job';
import { execute, ok } from './execute';

/**
 * CachePaths in the real ASL: the cache's GET travels to the build command with the input's URL, its PUT to the
 * upload command with the output's, and a job that caches but has no output artifact still uploads, after a
 * successful build only. No state is added: a job with an output artifact goes through the same states as before.
 */
const caching = (overrides: Parameters<typeof buildJob>[0] = {}) => ({
  jobId: 'job',
  nonce: 'n',
  rejection: null,
  job: buildJob({ ...overrides, properties: { ...buildJob().properties, ...overrides.properties, cachePaths: 'node_modules,/root/.m2' } }),
});
const signed = {
  'Get Input Artifact URL': () => ({ Payload: { url: 'http://in', expiresAt: '2026-11-22T10:30:00Z', refreshAfter: '2026-11-22T10:05:00Z', secondaryUrls: '', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: 'http://get' } }),
  'Get Output Upload URL': () => ({ Payload: { url: '', expiresAt: null, refreshAfter: null, secondaryUrls: '', exportsUrl: '', cacheUrl: 'http://put' } }),
};
const parametersOf = (inputs: { name: string; input: Record<string, unknown> }[], state: string) => (inputs.find((i) => i.name === state)?.input as { Parameters: Record<string, string[]> } | undefined)?.Parameters;

describe('build-job.asl.json: caches', () => {
  it('hands the build command its cache directories and GET URL, and the upload command the PUT URL', async () => {
    const { calls, inputs } = await execute(signed, caching());
    expect(calls).toEqual(['Acknowledge Job', 'Launch Instance', 'Get Input Artifact URL', 'Is Instance Ready?', 'Run Build', 'Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Report Result']);
    expect(parametersOf(inputs, 'Run Build')).toMatchObject({ CachePaths: ['node_modules,/root/.m2'], CacheUrl: ['http://get'] });
    expect(parametersOf(inputs, 'Upload Output Artifact')).toMatchObject({ CacheUrl: ['http://put'] });
  });

  it('uploads the caches of an action with no output artifact, and only after a successful build', async () => {
    const noOutput = caching({ output: null, properties: { ...buildJob().properties, outputArtifactPath: '' } });
    const { calls } = await execute(signed, noOutput);
    expect(calls.slice(-4)).toEqual(['Get Output Upload URL', 'Upload Output Artifact', 'Release Instance', 'Report Result']);
    const failed = await execute({ ...signed, 'Run Build': () => ({ ...ok, status: 'Failed', exitCode: 2 }) }, noOutput);
    expect(failed.calls).not.toContain('Get Output Upload URL');
    expect(failed.calls).not.toContain('Upload Output Artifact');
  });

  it('uploads nothing for an action with no output artifact, no exports and no caches', async () => {
    const { calls } = await execute({}, { jobId: 'job', nonce: 'n', rejection: null, job: buildJob({ output: null, properties: { ...buildJob().properties, outputArtifactPath: '' } }) });
    expect(calls).not.toContain('Get Output Upload URL');
  });
});
