import { AcknowledgeJobCommand, CodePipelineClient, InvalidNonceException, JobNotFoundException } from '@aws-sdk/client-codepipeline';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { buildJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

process.env.JOB_BUCKET_NAME = 'jobs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/acknowledge/handler') as typeof import('../../lambdas/acknowledge/handler');

describe('acknowledge job', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const s3 = mockClient(S3Client);
  const ssm = mockClient(SSMClient);
  afterEach(() => [codepipeline, s3, ssm].forEach((c) => c.reset()));

  it('acknowledges with the nonce and returns the job status', async () => {
    codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
    await expect(invoke(handler, { jobId: 'j', nonce: 'n' }, 'acknowledge')).resolves.toEqual({ status: 'InProgress', rejection: null });
    expect(codepipeline).toHaveReceivedCommandWith(AcknowledgeJobCommand, { jobId: 'j', nonce: 'n' });
  });

  it('says NotOurs when another worker acknowledged the job first', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
    await expect(invoke(handler, { jobId: 'j', nonce: 'old' }, 'acknowledge')).resolves.toEqual({ status: 'NotOurs', rejection: null });
  });

  it('fails on other errors, for the state machine to retry', async () => {
    codepipeline.on(AcknowledgeJobCommand).rejects(new JobNotFoundException({ message: 'gone', $metadata: {} }));
    await expect(invoke(handler, { jobId: 'j', nonce: 'n' }, 'acknowledge')).rejects.toThrow('gone');
  });

  describe('a job with environment variables', () => {
    const job = buildJob({ properties: { ...buildJob().properties, environmentVariables: [{ name: 'STAGE', value: 'prod', type: 'PLAINTEXT' }, { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' }] } });

    it('stores its resolved environment as the execution\'s object before anything is launched', async () => {
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
      ssm.on(GetParameterCommand, { Name: '/builds/token', WithDecryption: true }).resolves({ Parameter: { Value: 's3cr3t' } });
      s3.on(PutObjectCommand).resolves({});
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).resolves.toEqual({ status: 'InProgress', rejection: null });
      const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
      expect(put).toMatchObject({ Bucket: 'jobs', Key: 'environment/exec-1' });
      // The parameter's value is masked in the build's output (a first record names it); the plain one is not.
      expect(Buffer.from(put.Body as Buffer).toString()).toBe('!mask=TOKEN\0STAGE=prod\0TOKEN=s3cr3t\0');
    });

    it('rejects the job, naming the variable, when a parameter it names does not exist (nothing is stored)', async () => {
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
      ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
      const out = await invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge');
      expect(out).toEqual({ status: 'InProgress', rejection: expect.stringMatching(/EnvironmentVariables: variable "TOKEN" names parameter \/builds\/token, which does not exist/) });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    });

    it('fails for a retry when a parameter cannot be read for a passing reason (throttled)', async () => {
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
      ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).rejects.toThrow('Rate exceeded');
    });

    it('deletes what it stored when another worker owns the job, and stores nothing for a job the poller rejected (no job)', async () => {
      codepipeline.on(AcknowledgeJobCommand).rejects(new InvalidNonceException({ message: 'stale', $metadata: {} }));
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 's3cr3t' } });
      s3.on(PutObjectCommand).resolves({}).on(DeleteObjectCommand).resolves({});
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).resolves.toEqual({ status: 'NotOurs', rejection: null });
      expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'jobs', Key: 'environment/exec-1' }]);
      s3.resetHistory();
      ssm.resetHistory();
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
      await invoke(handler, { jobId: 'j', nonce: 'n', job: null, executionName: 'exec-1' }, 'acknowledge');
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    });

    it('stores before it acknowledges: a failed store fails the task without acknowledging, so a retry acknowledges once', async () => {
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'InProgress' });
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 's3cr3t' } });
      s3.on(PutObjectCommand).rejects(Object.assign(new Error('Slow Down'), { name: 'SlowDown' }));
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).rejects.toThrow('Slow Down');
      expect(codepipeline.commandCalls(AcknowledgeJobCommand)).toHaveLength(0);
    });

    it('a job that is not its to run (owned but no longer waiting) keeps no environment and gets no rejection', async () => {
      codepipeline.on(AcknowledgeJobCommand).resolves({ status: 'TimedOut' });
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 's3cr3t' } });
      s3.on(PutObjectCommand).resolves({}).on(DeleteObjectCommand).resolves({});
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).resolves.toEqual({ status: 'TimedOut', rejection: null });
      expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'jobs', Key: 'environment/exec-1' }]);
      // nor one it could not have run anyway: a missing parameter is no rejection for a job that is not its
      s3.resetHistory();
      ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
      await expect(invoke(handler, { jobId: 'j', nonce: 'n', job, executionName: 'exec-1' }, 'acknowledge')).resolves.toEqual({ status: 'TimedOut', rejection: null });
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });
});
