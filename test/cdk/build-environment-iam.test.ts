import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT, readSettings } from '../../lib/context';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { ACCOUNT, decide, decide as decideBy, PARTITION, REGION, rolePolicies } from './simulate-policies';

/** The stack's template without bundling the functions (their code plays no part in IAM). */
function template(context: Record<string, string> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new Ec2BuildActionStack(app, 'Ec2BuildAction', { ...readSettings(app.node), stackName: undefined }));
}

// The resource types' ARN formats (Service Authorization Reference): parameter/${Name without its leading /}, and a
// secret's name with the hyphen and six characters Secrets Manager appends.
const parameter = (name: string) => `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter/${name.replace(/^\//, '')}`;
const secret = (name: string) => `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
const object = (key: string) => `arn:${PARTITION}:s3:::jobsbucket264fe5c6-name/${key}`;

describe('IAM of a build\'s environment, evaluated against the Service Authorization Reference', () => {
  const scoped = template({ [CONTEXT.parameterPrefixes]: '/builds/', [CONTEXT.secretPrefixes]: 'builds/' });
  // Store Build Environment resolves the variables (after the acknowledgement, before launch); the artifact URLs function only signs.
  const resolver = rolePolicies(scoped, 'TasksBuildEnvironmentRole');
  const signer = rolePolicies(scoped, 'TasksArtifactUrlsRole');

  it('lets the resolving function read exactly the parameters and secrets under the stack\'s prefixes', async () => {
    expect(await decide(resolver, 'ssm:GetParameter', parameter('/builds/app/token'))).toBe('Allowed');
    expect(await decide(resolver, 'secretsmanager:GetSecretValue', secret('builds/db'))).toBe('Allowed');
    expect(await decide(resolver, 'ssm:GetParameter', parameter('/other/token'))).toBe('ImplicitlyDenied');
    expect(await decide(resolver, 'ssm:GetParameters', parameter('/builds/app/token'))).toBe('ImplicitlyDenied');
    expect(await decide(resolver, 'secretsmanager:GetSecretValue', secret('other/db'))).toBe('ImplicitlyDenied');
  });

  it('gives no one a standing right to them: not the build instance, not any other function, and no one with no prefix set', async () => {
    for (const role of ['BuilderRole', 'TasksAcknowledgeRole', 'TasksCompletionRole', 'PollerFunctionRole', 'TasksLaunchRole', 'TasksArtifactUrlsRole']) {
      const policies = rolePolicies(scoped, role);
      expect([role, await decide(policies, 'ssm:GetParameter', parameter('/builds/app/token'))]).toEqual([role, 'ImplicitlyDenied']);
      expect([role, await decide(policies, 'secretsmanager:GetSecretValue', secret('builds/db'))]).toEqual([role, 'ImplicitlyDenied']);
    }
    const unscoped = rolePolicies(template(), 'TasksBuildEnvironmentRole');
    expect(await decide(unscoped, 'ssm:GetParameter', parameter('/builds/app/token'))).toBe('ImplicitlyDenied');
    expect(await decide(unscoped, 'secretsmanager:GetSecretValue', secret('builds/db'))).toBe('ImplicitlyDenied');
  });

  it('lets each function reach only its own objects in the job bucket, and the instance none', async () => {
    // Store Build Environment writes the environment object and neither reads nor deletes it; the signer copies it to
    // the one the instance reads, signs that one's GET and DELETE (S3 authorizes a presigned request as its signer) and
    // the exports' PUT. The acknowledging function touches no object.
    expect(await decide(resolver, 's3:PutObject', object('environment/job-1'))).toBe('Allowed');
    for (const action of ['s3:GetObject', 's3:DeleteObject']) expect(await decide(resolver, action, object('environment/job-1'))).toBe('ImplicitlyDenied');
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject']) expect(await decide(rolePolicies(scoped, 'TasksAcknowledgeRole'), action, object('environment/job-1'))).toBe('ImplicitlyDenied');
    for (const action of ['s3:PutObject', 's3:DeleteObject']) expect(await decide(resolver, action, object('exports/job-1'))).toBe('ImplicitlyDenied');
    expect(await decide(signer, 's3:PutObject', object('environment/job-1.read'))).toBe('Allowed');
    expect(await decide(signer, 's3:GetObject', object('environment/job-1'))).toBe('Allowed');
    expect(await decide(signer, 's3:DeleteObject', object('environment/job-1'))).toBe('Allowed');
    expect(await decide(signer, 's3:PutObject', object('exports/job-1'))).toBe('Allowed');
    expect(await decide(signer, 's3:GetObject', object('exports/job-1'))).toBe('ImplicitlyDenied');
    const completion = rolePolicies(scoped, 'TasksCompletionRole');
    expect(await decide(completion, 's3:GetObject', object('exports/job-1'))).toBe('Allowed');
    expect(await decide(completion, 's3:DeleteObject', object('environment/job-1'))).toBe('Allowed');
    expect(await decide(completion, 's3:GetObject', object('environment/job-1'))).toBe('ImplicitlyDenied');
    const instance = rolePolicies(scoped, 'BuilderRole');
    for (const action of ['s3:GetObject', 's3:PutObject']) expect(await decide(instance, action, object('environment/job-1'))).toBe('ImplicitlyDenied');
  });

  it('lets the resolving function decrypt with the customer managed keys it is given, only through Parameter Store and Secrets Manager', async () => {
    const key = `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/0b7e1f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b`;
    const other = `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
    const keyed = rolePolicies(template({ [CONTEXT.parameterPrefixes]: '/builds/', [CONTEXT.secretPrefixes]: 'builds/', [CONTEXT.referenceKmsKeyArns]: key }), 'TasksBuildEnvironmentRole');
    const via = (service: string) => ({ 'kms:ViaService': `${service}.${REGION}.amazonaws.com` });
    // KMS authorizes by the key policy first: the default one lets the account's IAM policies grant the key
    // (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
    const keyPolicy = { Version: '2012-10-17', Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] };
    const decide = (policies: Parameters<typeof decideBy>[0], action: string, resource: string, context: Record<string, string> = {}) => decideBy(policies, action, resource, context, keyPolicy);
    expect(await decide(keyed, 'kms:Decrypt', key, via('ssm'))).toBe('Allowed');
    expect(await decide(keyed, 'kms:Decrypt', key, via('secretsmanager'))).toBe('Allowed');
    // Not directly, not through another service, not another key.
    expect(await decide(keyed, 'kms:Decrypt', key)).toBe('ImplicitlyDenied');
    expect(await decide(keyed, 'kms:Decrypt', key, via('s3'))).toBe('ImplicitlyDenied');
    expect(await decide(keyed, 'kms:Decrypt', other, via('ssm'))).toBe('ImplicitlyDenied');
    // Only the services the stack lets builds read: with parameters only, not through Secrets Manager.
    const parametersOnly = rolePolicies(template({ [CONTEXT.parameterPrefixes]: '/builds/', [CONTEXT.referenceKmsKeyArns]: key }), 'TasksBuildEnvironmentRole');
    expect(await decide(parametersOnly, 'kms:Decrypt', key, via('ssm'))).toBe('Allowed');
    expect(await decide(parametersOnly, 'kms:Decrypt', key, via('secretsmanager'))).toBe('ImplicitlyDenied');
    // Without the setting, no key at all; no other role gets it.
    expect(await decide(resolver, 'kms:Decrypt', key, via('ssm'))).toBe('ImplicitlyDenied');
    for (const role of ['TasksAcknowledgeRole', 'TasksArtifactUrlsRole', 'BuilderRole']) expect(await decide(rolePolicies(template({ [CONTEXT.parameterPrefixes]: '/builds/', [CONTEXT.referenceKmsKeyArns]: key }), role), 'kms:Decrypt', key, via('ssm'))).toBe('ImplicitlyDenied');
  });

  it('refuses a key that is not a KMS key ARN, naming the setting', () => {
    expect(() => template({ [CONTEXT.referenceKmsKeyArns]: 'alias/builds' })).toThrow(/ec2-build-action:referenceKmsKeyArns must be a comma-separated list of the ARN of a KMS key/);
  });

  it('lets no role list the job bucket, so S3 answers a missing object with AccessDenied to each (the local S3 does too)', async () => {
    const bucket = `arn:${PARTITION}:s3:::jobsbucket264fe5c6-name`;
    for (const role of ['TasksBuildEnvironmentRole', 'TasksArtifactUrlsRole', 'TasksCompletionRole', 'BuilderRole']) expect(await decide(rolePolicies(scoped, role), 's3:ListBucket', bucket)).toBe('ImplicitlyDenied');
  });
});
