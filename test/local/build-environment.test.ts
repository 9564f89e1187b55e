import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PutJobSuccessResultCommand, CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { LOCAL_USER } from '../../local/iam/gate';
import { FAULTS } from '../../local/faults';
import { runJob, type JobSummary } from '../../local/job';
import { ENVIRONMENT_STATEMENTS } from './environment-statements';

/**
 * EnvironmentVariables and ExportedVariables through the real poller, state machine, functions and document, on a
 * stack deployed to let builds read parameters under /builds/ and secrets named builds/… (issue #13).
 */
const SECRET = 'pa55-from-secrets-manager';
const PARAMETER = 'token-from-parameter-store';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start(undefined, { environmentScope: { parameterPrefixes: ['/builds/'], secretPrefixes: ['builds/'] } });
  cloud.secrets.put('builds/db', JSON.stringify({ user: 'app', password: SECRET }));
  cloud.ssm.parameters.set('/builds/token', PARAMETER, 'SecureString');
}, 300_000);
afterAll(() => cloud.stop());

function job(command: string, properties: Record<string, string>): Promise<JobSummary> {
  return runJob(cloud, { source: path.join(__dirname, '../../examples/hello'), command, properties });
}

/** Everything a person with read access to the account's control planes could see of the job. */
async function visible(jobId: string): Promise<string> {
  const executions = [...cloud.sfn.executions.values()].filter((e) => e.name.startsWith(jobId));
  const ssm = new SSMClient({ credentials: credentialsFor(LOCAL_USER) });
  const commands = await ssm.send(new ListCommandsCommand({}));
  const logs = cloud.stack.resources('AWS::Logs::LogGroup').map(([id]) => cloud.stack.ref(id)).flatMap((group) => cloud.logs.streams(group).map((s) => cloud.logs.events(group, s)));
  return JSON.stringify({ executions, commands: commands.Commands, logs, results: cloud.codepipeline.results(jobId) });
}

const buildLog = () => JSON.stringify(cloud.stack.resources('AWS::Logs::LogGroup').map(([id]) => cloud.stack.ref(id)).flatMap((g) => cloud.logs.streams(g).map((s) => cloud.logs.events(g, s))));

describe('a build\'s environment variables and exported variables, end to end', () => {
  it('gives the build its secret and parameter values, which appear nowhere else, and exports variables as the final result\'s outputVariables', async () => {
    // GIVEN a build that proves it sees the values (their hashes) without printing them, and exports two variables
    // (and looks whether its environment object is still there to read: the document deletes it once read)
    const summary = await job('echo "db=$(printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64) token=$(printf %s "$TOKEN" | sha256sum | cut -c1-64) stage=$STAGE"; echo "object=$(curl -s -o /dev/null -w %{http_code} "$SSM_EnvironmentUrl")"; export VERSION=1.2.3; TAG="a b"', {
      EnvironmentVariables: JSON.stringify([
        { name: 'STAGE', value: 'prod' },
        { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' },
        { name: 'DB_PASSWORD', value: 'builds/db:password', type: 'SECRETS_MANAGER' },
      ]),
      ExportedVariables: 'VERSION,TAG',
    });
    // THEN the build succeeded with both values in its environment
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, outputVariables: { VERSION: '1.2.3', TAG: 'a b' } });
    expect(buildLog()).toContain(`db=${sha256(SECRET)} token=${sha256(PARAMETER)} stage=prod`);
    // AND its environment object was gone before the build command ran: its URL, a command parameter, reads nothing
    expect(buildLog()).toContain('object=404');
    // AND neither value is in the execution's history, the commands' parameters, the logs or the job's result
    const seen = await visible(summary.jobId);
    expect(seen).toContain('builds/db:password');
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain(PARAMETER);
    // AND the job's objects are gone from the job bucket
    const [bucket] = cloud.stack.resources('AWS::S3::Bucket').map(([id]) => cloud.stack.ref(id));
    expect((await cloud.s3.client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
  }, 120_000);

  it('masks secret values in the build\'s output: an echoed secret reaches neither the log nor the failure message', async () => {
    // GIVEN a build that prints its secret and its parameter (and a plain value), then fails
    const summary = await job('echo "db=$DB_PASSWORD token=[$TOKEN] stage=$STAGE"; exit 3', {
      EnvironmentVariables: JSON.stringify([
        { name: 'STAGE', value: 'prod' },
        { name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' },
        { name: 'DB_PASSWORD', value: 'builds/db:password', type: 'SECRETS_MANAGER' },
      ]),
    });
    // THEN the failure message's tail and the log show *** in their place; the plain value as it is
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'JobFailed', jobResults: 1 });
    expect(summary.failureMessage).toContain('db=*** token=[***] stage=prod');
    expect(buildLog()).toContain('db=*** token=[***] stage=prod');
    const seen = await visible(summary.jobId);
    expect(seen).not.toContain(SECRET);
    expect(seen).not.toContain(PARAMETER);
  }, 120_000);

  it('fails a job naming a missing secret with a ConfigurationError naming the variable, before anything is launched', async () => {
    const summary = await job('true', { EnvironmentVariables: JSON.stringify([{ name: 'API_KEY', value: 'builds/missing', type: 'SECRETS_MANAGER' }]) });
    expect(summary).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', jobResults: 1, instancesLaunched: 0 });
    expect(summary.failureMessage).toMatch(/EnvironmentVariables: variable "API_KEY" names secret builds\/missing, which does not exist in this account and Region \(ResourceNotFoundException\)/);
  }, 120_000);

  it('reports a job whose environment cannot be stored (Parameter Store keeps throttling its parameter) as SystemUnavailable, with nothing launched', async () => {
    // GIVEN a parameter whose every read Systems Manager throttles, past the SDK's and the state machine's retries
    cloud.ssm.parameters.set('/builds/busy', 'value-of-busy', 'SecureString');
    cloud.ssm.parameters.throttled.add('/builds/busy');
    try {
      const summary = await job('true', { EnvironmentVariables: JSON.stringify([{ name: 'BUSY', value: '/builds/busy', type: 'PARAMETER_STORE' }]) });
      // THEN the job gets one result, which names the step and the cause and asks for a retry; nothing was launched
      expect(summary).toMatchObject({ status: 'Failed', failureType: 'SystemUnavailable', jobResults: 1, instancesLaunched: 0 });
      expect(summary.failureMessage).toMatch(/Step "Store Build Environment" failed: AWS throttled reading or storing the build's environment \(ThrottlingException: Rate exceeded\), past every retry\. Retry the stage later/);
      // AND one execution owned it throughout (the store's retries are its own task's; no offer went unanswered)
      expect([...cloud.sfn.executions.values()].filter((e) => e.name.startsWith(summary.jobId))).toHaveLength(1);
    } finally {
      cloud.ssm.parameters.throttled.delete('/builds/busy');
    }
  }, 180_000);

  it('refuses, before any launch, a parameter outside the stack\'s paths and bad JSON, naming the variable and the setting', async () => {
    const outside = await job('true', { EnvironmentVariables: JSON.stringify([{ name: 'TOKEN', value: '/other/token', type: 'PARAMETER_STORE' }]) });
    expect(outside).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(outside.failureMessage).toMatch(/variable "TOKEN" names parameter \/other\/token, but this stack lets builds read only parameters under \/builds\/\. Add its path to the stack's ec2-build-action:parameterPrefixes context key/);
    const bad = await job('true', { EnvironmentVariables: '[{"name":"A",' });
    expect(bad).toMatchObject({ status: 'Failed', failureType: 'ConfigurationError', instancesLaunched: 0 });
    expect(bad.failureMessage).toMatch(/^EnvironmentVariables is not valid JSON/);
  }, 120_000);

  it('an execution told the job is not its own (NotOurs) stores no environment; the execution that owns it builds with its own', async () => {
    // GIVEN CodePipeline offers the job again (a new nonce) before the first execution acknowledges it
    const summary = await runJob(
      cloud,
      { source: path.join(__dirname, '../../examples/hello'), command: 'echo "token=$(printf %s "$TOKEN" | sha256sum | cut -c1-64)"', properties: { EnvironmentVariables: JSON.stringify([{ name: 'TOKEN', value: '/builds/token', type: 'PARAMETER_STORE' }]) } },
      FAULTS.find((f) => f.name === 'acknowledged-too-late'),
    );
    // THEN the execution of the new offer built it, with the value, once
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1, instancesReleased: 1 });
    expect(buildLog()).toContain(`token=${sha256(PARAMETER)}`);
    const executions = [...cloud.sfn.executions.values()].filter((e) => e.name.startsWith(summary.jobId));
    expect(executions.length).toBeGreaterThanOrEqual(2);
    // AND only the execution that owns the job stored its environment: the one told NotOurs never got to the store
    const stores = executions.map((e) => [e.status, (e.tasks ?? []).filter((t) => t.state === 'Store Build Environment').length]);
    expect(stores.filter(([, n]) => n === 1)).toHaveLength(1);
    expect(stores.filter(([, n]) => n !== 0 && n !== 1)).toEqual([]);
    // AND no environment object is left behind
    const [bucket] = cloud.stack.resources('AWS::S3::Bucket').map(([id]) => cloud.stack.ref(id));
    const left = await cloud.s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'environment/' }));
    expect(left.KeyCount).toBe(0);
  }, 120_000);

  it('serves Secrets Manager and Parameter Store as strictly as AWS: by the caller\'s role, by the published model, decrypted only when asked', async () => {
    const as = (path: string) => credentialsFor(cloud.functionAt(path).roleLogicalId);
    const resolver = new SecretsManagerClient({ credentials: as('Tasks/BuildEnvironment'), maxAttempts: 1 });
    expect((await resolver.send(new GetSecretValueCommand({ SecretId: 'builds/db' }))).SecretString).toContain(SECRET);
    await expect(resolver.send(new GetSecretValueCommand({ SecretId: 'other/db' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(resolver.send(new GetSecretValueCommand({ SecretId: 'builds/none' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(resolver.send(new GetSecretValueCommand({ SecretId: 'builds/db', VersionStage: 'AWSPREVIOUS' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(resolver.send(new GetSecretValueCommand({ SecretId: `builds/${'x'.repeat(2049)}` }))).rejects.toMatchObject({ name: 'ValidationException' });
    const poller = new SecretsManagerClient({ credentials: as('Poller/Function'), maxAttempts: 1 });
    await expect(poller.send(new GetSecretValueCommand({ SecretId: 'builds/db' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // The signing function reads none of them, nor does the acknowledging one: Store Build Environment resolved them, before launch.
    const acknowledger = new SecretsManagerClient({ credentials: as('Tasks/Acknowledge'), maxAttempts: 1 });
    await expect(acknowledger.send(new GetSecretValueCommand({ SecretId: 'builds/db' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const signer = new SecretsManagerClient({ credentials: as('Tasks/ArtifactUrls'), maxAttempts: 1 });
    await expect(signer.send(new GetSecretValueCommand({ SecretId: 'builds/db' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const ssm = new SSMClient({ credentials: as('Tasks/BuildEnvironment'), maxAttempts: 1 });
    expect((await ssm.send(new GetParameterCommand({ Name: '/builds/token', WithDecryption: true }))).Parameter).toMatchObject({ Type: 'SecureString', Value: PARAMETER });
    expect((await ssm.send(new GetParameterCommand({ Name: '/builds/token' }))).Parameter?.Value).not.toBe(PARAMETER);
  });

  it('refuses output variables beyond CodePipeline\'s 122880 bytes, and any beside a continuation token', async () => {
    const completion = new CodePipelineClient({ credentials: credentialsFor(cloud.functionAt('Tasks/Completion').roleLogicalId), maxAttempts: 1 });
    const put = (input: Record<string, unknown>) => completion.send(new PutJobSuccessResultCommand({ jobId: '00000000-0000-0000-0000-000000000000', ...input }));
    await expect(put({ outputVariables: { BIG: 'x'.repeat(122_880) } })).rejects.toMatchObject({ name: 'OutputVariablesSizeExceededException' });
    await expect(put({ outputVariables: { 'BAD NAME': 'x' } })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(put({ outputVariables: { A: 'x' }, continuationToken: 'c' })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('used every statement that only builds with an environment need (the faults\' runs leave them out)', () => {
    const statements = cloud.authorizer.allStatements().filter((s) => ENVIRONMENT_STATEMENTS.test(s));
    expect(statements).toHaveLength(7);
    expect(statements.filter((s) => !cloud.authorizer.usedStatements.has(s))).toEqual([]);
  });
});
