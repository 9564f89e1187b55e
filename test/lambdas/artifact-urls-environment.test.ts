import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { ArtifactUrls } from '../../lambdas/artifact-urls/handler';
import { buildJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

/**
 * "Get Input Artifact URL" for an action with no input artifact but an environment: the environment's URL is all the
 * build downloads, so it says when to sign again, as the input's would (the state machine re-signs after refreshAfter),
 * and when it expires: sooner than an artifact's URL, since it opens the job's secrets.
 */
process.env.JOB_BUCKET_NAME = 'jobs';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDFUNCTIONROLE';
process.env.AWS_SECRET_ACCESS_KEY = 'function-role-secret';
const s3 = mockClient(S3Client);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/artifact-urls/handler') as typeof import('../../lambdas/artifact-urls/handler');

describe('artifact URLs: the environment of an action with no input artifact', () => {
  beforeAll(() => jest.useFakeTimers({ now: new Date('2026-11-22T10:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterAll(() => jest.useRealTimers());

  it('says when to sign its URL again, as an input artifact\'s would', async () => {
    s3.on(PutObjectCommand).resolves({});
    const stored = 'STAGE=prod\0';
    s3.on(GetObjectCommand, { Bucket: 'jobs', Key: 'environment/exec-1' }).resolves({ ContentLength: stored.length, Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(stored)) } as never });
    const job = buildJob({ input: null, properties: { ...buildJob().properties, environmentVariables: [{ name: 'STAGE', value: 'prod', type: 'PLAINTEXT' }] } });
    const out: ArtifactUrls = await invoke(handler, { job, direction: 'input', executionName: 'exec-1' }, 'artifact-urls');
    expect(out.url).toBe('');
    expect(out.environmentUrl).toMatch(/^https:\/\//);
    expect(out).toMatchObject({ expiresAt: '2026-11-22T10:10:00.000Z', refreshAfter: '2026-11-22T10:05:00.000Z' });
    // A bearer key to the job's secrets until the build reads the object: it lives 10 minutes, not the artifacts' 30.
    expect(new URL(out.environmentUrl!).searchParams.get('X-Amz-Expires')).toBe('600');
    expect(new URL(out.environmentDeleteUrl!).searchParams.get('X-Amz-Expires')).toBe('600');
    // The object was written by Store Build Environment, before the launch: this function copies it to the one the instance reads
    // (and deletes), so that a build that runs again gets one too, and signs that copy's URLs.
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ Bucket: 'jobs', Key: 'environment/exec-1.read' })]);
    expect(Buffer.from(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as Buffer).toString()).toBe(stored);
    expect(new URL(out.environmentUrl!).pathname).toMatch(/\/environment\/exec-1\.read$/);
  });

  it('fails, for the state machine to retry and then report, when Store Build Environment\'s object is missing', async () => {
    s3.reset();
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const job = buildJob({ input: null, properties: { ...buildJob().properties, environmentVariables: [{ name: 'STAGE', value: 'prod', type: 'PLAINTEXT' }] } });
    await expect(invoke(handler, { job, direction: 'input', executionName: 'exec-2' }, 'artifact-urls')).rejects.toThrow(/environment object of exec-2 is missing/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});
