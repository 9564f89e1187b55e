import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { OUTPUT_VARIABLES_MAX_BYTES, outputVariables } from '../../lambdas/completion/exports';
import { JobObjects, JobObjectTooLargeError } from '../../lambdas/shared/job-objects';

/**
 * Reading a build's exports from the job bucket as S3 answers: a missing object is AccessDenied to a caller without
 * s3:ListBucket (the completion function), NoSuchKey to one with it
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"), and nothing caps the upload.
 */
const s3 = mockClient(S3Client);
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:BuildJob:exec-1';
const objects = () => new JobObjects('jobs', false);
/** A response body as the SDK hands it: read whole with transformToByteArray, or dropped (destroy); each use recorded. */
const used: string[] = [];
const body = (text: string) =>
  ({
    transformToByteArray: () => (used.push('read'), Promise.resolve(new Uint8Array(Buffer.from(text)))),
    destroy: () => void used.push('destroyed'),
  }) as never;
const named = (name: string) => Object.assign(new Error(name), { name });

beforeAll(() => {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCOMPLETION';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
});
afterEach(() => {
  s3.reset();
  used.length = 0;
});

describe('the exports of a build, read from the job bucket', () => {
  it('reports the exported values', async () => {
    const records = 'VERSION=1.4.2\0TAG=abc';
    s3.on(GetObjectCommand).resolves({ Body: body(records), ContentLength: records.length });
    expect(await outputVariables('VERSION,TAG', EXECUTION, objects)).toEqual({ variables: { VERSION: '1.4.2', TAG: 'abc' } });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: 'jobs', Key: expect.stringMatching(/^exports\/.*exec-1/) });
  });

  it.each(['AccessDenied', 'NoSuchKey'])('says they never arrived when S3 answers %s for the object', async (code) => {
    s3.on(GetObjectCommand).rejects(named(code));
    const out = await outputVariables('VERSION', EXECUTION, objects);
    expect(out.failure).toMatchObject({ status: 'Failed', failureType: 'JobFailed', message: expect.stringContaining('never arrived') });
  });

  it('refuses an upload larger than CodePipeline takes without reading its body', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('x'), ContentLength: OUTPUT_VARIABLES_MAX_BYTES + 100 });
    const out = await outputVariables('VERSION', EXECUTION, objects);
    expect(out.failure).toMatchObject({ message: expect.stringContaining(`more than the ${OUTPUT_VARIABLES_MAX_BYTES} bytes CodePipeline allows`) });
    await expect(objects().read('exports/x', 10)).rejects.toBeInstanceOf(JobObjectTooLargeError);
    expect(used).toEqual(['destroyed', 'destroyed']);
  });

  it('leaves other errors (throttling, a fault) to the state machine\'s retries', async () => {
    s3.on(GetObjectCommand).rejects(named('SlowDown'));
    await expect(outputVariables('VERSION', EXECUTION, objects)).rejects.toMatchObject({ name: 'SlowDown' });
  });
});
