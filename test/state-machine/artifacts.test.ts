import { buildJob } from '../fixtures/job';
import { execute } from './execute';

/** Several artifacts through the real ASL: the same states and transitions, the other artifacts' values passed on. */
describe('build-job.asl.json with several artifacts', () => {
  it('passes the other inputs\' URLs and outputs\' paths to the build, and the other outputs\' URLs to the upload, in as many transitions as one artifact', async () => {
    // GIVEN a job with a second input and a second output, and URLs signed for each
    const job = buildJob({ secondaryInputs: [{ name: 'Tools', bucket: 'b', key: 't.zip' }], secondaryOutputs: [{ name: 'reports', bucket: 'b', key: 'r.zip', path: 'test-results' }], secondaryOutputPaths: 'reports=test-results' });
    const single = await execute({}, { jobId: 'job', nonce: 'n', job: buildJob(), rejection: null });
    const { calls, inputs } = await execute(
      {
        'Get Input Artifact URL': () => ({ Payload: { url: 'http://in', expiresAt: '2026-11-22T10:30:00Z', refreshAfter: '2026-11-22T10:05:00Z', secondaryUrls: 'Tools=http://tools', environmentUrl: '', environmentDeleteUrl: '', cacheUrl: '' } }),
        'Get Output Upload URL': () => ({ Payload: { url: 'http://out', expiresAt: '2026-11-22T10:45:00Z', refreshAfter: null, secondaryUrls: 'reports=http://reports', exportsUrl: '', cacheUrl: '' } }),
      },
      { jobId: 'job', nonce: 'n', job, rejection: null },
    );
    // THEN the build command gets the first input's URL as before, and the others' beside it
    const parameters = (name: string) => (inputs.find((i) => i.name === name)!.input as { Parameters: Record<string, string[]> }).Parameters;
    expect(parameters('Run Build')).toMatchObject({ InputUrl: ['http://in'], SecondaryInputUrls: ['Tools=http://tools'], OutputArtifactPath: ['dist'], SecondaryOutputPaths: ['reports=test-results'] });
    expect(parameters('Upload Output Artifact')).toMatchObject({ OutputUrl: ['http://out'], SecondaryOutputUrls: ['reports=http://reports'] });
    // AND it takes the same states as a job with one artifact of each
    expect(calls).toEqual(single.calls);
  });
});
