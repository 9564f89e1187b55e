import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { buildJob } from '../fixtures/job';
import { invoke } from '../fixtures/lambda';

process.env.JOB_BUCKET_NAME = 'jobs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../lambdas/build-environment/handler') as typeof import('../../lambdas/build-environment/handler');

describe('Store Build Environment', () => {
  const s3 = mockClient(S3Client);
  const ssm = mockClient(SSMClient);
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => [s3, ssm, secrets].forEach((c) => c.reset()));
  const job = buildJob({
    properties: {
      ...buildJob().properties,
      environmentVariables: [
        { name: 'STAGE', value: 'prod', type: 'PLAINTEXT' },
        { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' },
        { name: 'DB', value: 'builds/db', type: 'SECRETS_MANAGER' },
      ],
    },
  });
  const event = { job, executionName: 'exec-1' };

  it('stores the resolved environment as the execution\'s object in the job bucket', async () => {
    ssm.on(GetParameterCommand, { Name: '/builds/token', WithDecryption: true }).resolves({ Parameter: { Value: 's3cr3t' } });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'pa55' });
    s3.on(PutObjectCommand).resolves({});
    await expect(invoke(handler, event, 'build-environment')).resolves.toEqual({ rejection: null });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'jobs', Key: 'environment/exec-1' });
    // The parameter's and the secret's values are masked in the build's output (a first record names them); the plain one is not.
    expect(Buffer.from(put.Body as Buffer).toString()).toBe('!mask=TOKEN,DB\0STAGE=prod\0TOKEN=s3cr3t\0DB=pa55\0');
  });

  it('rejects the job, naming the variable and never a value, when a parameter it names does not exist (nothing is stored)', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'pa55' });
    const out = await invoke(handler, event, 'build-environment');
    expect(out.rejection).toMatch(/^EnvironmentVariables: variable "TOKEN" names parameter \/builds\/token, which does not exist/);
    expect(out.rejection).not.toContain('pa55');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it.each([
    ['a read that stays throttled', () => ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} })), 'Rate exceeded'],
    ['a write S3 refuses', () => (ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 's3cr3t' } }), s3.on(PutObjectCommand).rejects(Object.assign(new Error('Slow Down'), { name: 'SlowDown', $metadata: {} }))), 'Slow Down'],
  ])('fails the task on %s, for the state machine to retry and then report (no rejection: the job is not wrong)', async (_, arrange, message) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'pa55' });
    arrange();
    await expect(invoke(handler, event, 'build-environment')).rejects.toThrow(message);
  });

  it('stores nothing for an empty list (a job from the poller of the version before, during a deployment)', async () => {
    const empty = buildJob({ properties: { ...buildJob().properties, environmentVariables: [] } });
    await expect(invoke(handler, { job: empty, executionName: 'exec-1' }, 'build-environment')).resolves.toEqual({ rejection: null });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('turns throttling into a typed error (the state machine retries it; it is not counted as unexpected)', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    await expect(invoke(handler, event, 'build-environment')).rejects.toMatchObject({ name: 'Throttled', message: expect.stringContaining('ThrottlingException: Rate exceeded') });
  });

  it('refuses an event without the execution\'s name, which names the object', async () => {
    await expect(invoke(handler, { job, executionName: '' }, 'build-environment')).rejects.toThrow(/execution's name/);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });
});
