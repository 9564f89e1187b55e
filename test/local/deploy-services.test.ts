import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient, CreatePipelineCommand } from '@aws-sdk/client-codepipeline';
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { installIamGate, removeIamGate } from '../../local/iam/gate';
import { credentialsFor } from '../../local/iam/identity';
import { LocalCloudFormation } from '../../local/services/cloudformation';
import { LocalCodePipeline } from '../../local/services/codepipeline';
import { LocalIam } from '../../local/services/iam';
import { LocalPipelines } from '../../local/services/pipelines';
import { authorizeRole, jobChecks, sourceChecks } from '../../local/services/pipeline-role';
import { loadStack } from '../../local/template/stack';

/** A stack with one output and one role that may manage only the verify tool's roles and read this stack. */
const TEMPLATE = {
  Resources: {
    Deployer: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        Policies: [
          {
            PolicyName: 'deploy',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: ['iam:CreateRole', 'iam:GetRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:DeleteRole'], Resource: 'arn:aws:iam::000000000000:role/ec2-build-verify-*' },
                { Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: 'arn:aws:cloudformation:us-east-1:000000000000:stack/Tiny/*' },
                { Effect: 'Allow', Action: 'codepipeline:CreatePipeline', Resource: 'arn:aws:codepipeline:us-east-1:000000000000:p' },
              ],
            },
          },
        ],
      },
    },
  },
  Outputs: { Where: { Value: { 'Fn::Join': [':', [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }]] }, Description: 'region and account' } },
};
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'codepipeline.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] });

let iam: LocalIam;
let cfn: LocalCloudFormation;
let jobs: LocalCodePipeline;
let tmp: string;
const endpoints: Record<string, string> = {};
const as = (role: string) => ({ region: 'us-east-1', maxAttempts: 1, credentials: credentialsFor(role) });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-services-'));
  const file = path.join(tmp, 'Tiny.template.json');
  fs.writeFileSync(file, JSON.stringify(TEMPLATE));
  const stack = loadStack(file);
  iam = new LocalIam('000000000000');
  cfn = new LocalCloudFormation(stack);
  jobs = new LocalCodePipeline();
  new LocalPipelines(jobs, { actionTypes: [], region: 'us-east-1', account: '000000000000', emit: () => undefined, copySource: async () => 'v', artifactCredentials: () => ({}) });
  endpoints.iam = await iam.start();
  endpoints.cfn = await cfn.start();
  endpoints.codepipeline = await jobs.start();
  installIamGate(stack, { instanceTags: () => null, instanceRoleArn: () => null, securityGroups: () => [] });
});
afterAll(async () => {
  removeIamGate();
  await Promise.all([iam.stop(), cfn.stop(), jobs.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('local IAM (roles for a user tool)', () => {
  const client = () => new IAMClient({ ...as('Deployer'), endpoint: endpoints.iam });

  it('creates, reads and deletes a role; a role with inline policies cannot be deleted (DeleteConflict)', async () => {
    const c = client();
    const created = await c.send(new CreateRoleCommand({ RoleName: 'ec2-build-verify-1', AssumeRolePolicyDocument: TRUST }));
    expect(created.Role?.Arn).toBe('arn:aws:iam::000000000000:role/ec2-build-verify-1');
    expect(iam.trusts(created.Role!.Arn!, 'codepipeline.amazonaws.com')).toBe(true);
    expect(iam.trusts(created.Role!.Arn!, 'ec2.amazonaws.com')).toBe(false);
    // A trust conditioned on another account (aws:SourceAccount) does not let CodePipeline act for this one.
    const elsewhere = JSON.parse(TRUST) as { Statement: Record<string, unknown>[] };
    elsewhere.Statement[0].Condition = { StringEquals: { 'aws:SourceAccount': '111111111111' } };
    const other = await c.send(new CreateRoleCommand({ RoleName: 'ec2-build-verify-x', AssumeRolePolicyDocument: JSON.stringify(elsewhere) }));
    expect(iam.trusts(other.Role!.Arn!, 'codepipeline.amazonaws.com')).toBe(false);
    await c.send(new DeleteRoleCommand({ RoleName: 'ec2-build-verify-x' }));
    // Role names are unique whatever their case (the SDK names IAM's error codes <Code>Exception).
    const admin = new IAMClient({ ...as('LocalUser'), endpoint: endpoints.iam });
    await expect(admin.send(new CreateRoleCommand({ RoleName: 'EC2-build-verify-1', AssumeRolePolicyDocument: TRUST }))).rejects.toMatchObject({ name: 'EntityAlreadyExistsException' });
    admin.destroy();
    await c.send(new PutRolePolicyCommand({ RoleName: 'ec2-build-verify-1', PolicyName: 'p', PolicyDocument: POLICY }));
    await expect(c.send(new DeleteRoleCommand({ RoleName: 'ec2-build-verify-1' }))).rejects.toMatchObject({ name: 'DeleteConflictException', message: 'Cannot delete entity, must delete policies first.' });
    await c.send(new DeleteRolePolicyCommand({ RoleName: 'ec2-build-verify-1', PolicyName: 'p' }));
    await expect(c.send(new DeleteRolePolicyCommand({ RoleName: 'ec2-build-verify-1', PolicyName: 'p' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    await c.send(new DeleteRoleCommand({ RoleName: 'ec2-build-verify-1' }));
    await expect(c.send(new GetRoleCommand({ RoleName: 'ec2-build-verify-1' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    c.destroy();
  });

  it('refuses malformed policy documents and requests outside the model', async () => {
    const c = client();
    await expect(c.send(new CreateRoleCommand({ RoleName: 'ec2-build-verify-2', AssumeRolePolicyDocument: '{not json' }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    await expect(c.send(new CreateRoleCommand({ RoleName: 'ec2-build-verify-2', AssumeRolePolicyDocument: POLICY }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    await expect(c.send(new CreateRoleCommand({ RoleName: 'ec2-build-verify-bad name', AssumeRolePolicyDocument: TRUST }))).rejects.toMatchObject({ name: 'ValidationError' });
    c.destroy();
  });

  it('authorizes each call on the role ARN: other roles are AccessDenied, unknown keys InvalidClientTokenId', async () => {
    const c = client();
    await expect(c.send(new CreateRoleCommand({ RoleName: 'admin', AssumeRolePolicyDocument: TRUST }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining('iam:CreateRole on resource: arn:aws:iam::000000000000:role/admin'),
    });
    const stranger = new IAMClient({ region: 'us-east-1', maxAttempts: 1, endpoint: endpoints.iam, credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } });
    await expect(stranger.send(new GetRoleCommand({ RoleName: 'ec2-build-verify-1' }))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    stranger.destroy();
    c.destroy();
  });
});

describe('local CloudFormation (a deployed stack for a user tool)', () => {
  it("describes the stack with its outputs resolved; another stack does not exist; others' stacks are denied", async () => {
    const c = new CloudFormationClient({ ...as('Deployer'), endpoint: endpoints.cfn });
    const out = await c.send(new DescribeStacksCommand({ StackName: 'Tiny' }));
    expect(out.Stacks?.[0]).toMatchObject({ StackName: 'Tiny', StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'Where', OutputValue: 'us-east-1:000000000000', Description: 'region and account' }] });
    expect(out.Stacks?.[0].StackId).toMatch(/^arn:aws:cloudformation:us-east-1:000000000000:stack\/Tiny\//);
    await expect(c.send(new DescribeStacksCommand({ StackName: 'Other' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    c.destroy();
    const admin = new CloudFormationClient({ ...as('LocalUser'), endpoint: endpoints.cfn });
    await expect(admin.send(new DescribeStacksCommand({ StackName: 'Other' }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Stack with id Other does not exist' });
    admin.destroy();
  });
});

describe('the pipeline API behind the gate', () => {
  it('CreatePipeline needs iam:PassRole on the pipeline role, besides codepipeline:CreatePipeline', async () => {
    const c = new CodePipelineClient({ ...as('Deployer'), endpoint: endpoints.codepipeline });
    const create = (name: string) => new CreatePipelineCommand({ pipeline: { name, roleArn: 'arn:aws:iam::000000000000:role/ec2-build-verify-1', stages: [] } });
    await expect(c.send(create('other'))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('codepipeline:CreatePipeline on resource: arn:aws:codepipeline:us-east-1:000000000000:other') });
    await expect(c.send(create('p'))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('iam:PassRole on resource: arn:aws:iam::000000000000:role/ec2-build-verify-1') });
    c.destroy();
    // Allowed both, the request reaches CodePipeline, which checks the declaration.
    const admin = new CodePipelineClient({ ...as('LocalUser'), endpoint: endpoints.codepipeline });
    await expect(admin.send(create('p'))).rejects.toMatchObject({ name: 'InvalidStructureException' });
    admin.destroy();
  });
});

describe("CodePipeline's use of the pipeline's service role", () => {
  it('authorizes the S3 source and the artifact credentials against the role policies in the local IAM', async () => {
    const c = new IAMClient({ ...as('LocalUser'), endpoint: endpoints.iam });
    const role = (await c.send(new CreateRoleCommand({ RoleName: 'pipeline-role', AssumeRolePolicyDocument: TRUST }))).Role!.Arn!;
    const policy = (actions: string[]) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: actions, Resource: 'arn:aws:s3:::bucket/*' },
          { Effect: 'Allow', Action: 's3:GetBucketVersioning', Resource: 'arn:aws:s3:::bucket' },
        ],
      });
    const source = sourceChecks('bucket', 'source/s.zip', { bucket: 'bucket', key: 'p/SourceArti/abc' });
    const job = jobChecks([{ bucket: 'bucket', key: 'p/SourceArti/abc' }], [{ bucket: 'bucket', key: 'p/BuildArtif/def' }]);
    await c.send(new PutRolePolicyCommand({ RoleName: 'pipeline-role', PolicyName: 'p', PolicyDocument: policy(['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject']) }));
    await expect(authorizeRole(iam, role, [...source, ...job])).resolves.toBeUndefined();
    // Without PutObject, neither the source's artifact nor the build's output can be written.
    await c.send(new PutRolePolicyCommand({ RoleName: 'pipeline-role', PolicyName: 'p', PolicyDocument: policy(['s3:GetObject', 's3:GetObjectVersion']) }));
    await expect(authorizeRole(iam, role, source)).rejects.toThrow(/not authorized to perform s3:PutObject on arn:aws:s3:::bucket\/p\/SourceArti\/abc/);
    await expect(authorizeRole(iam, role, job)).rejects.toThrow(/s3:PutObject on arn:aws:s3:::bucket\/p\/BuildArtif\/def/);
    await expect(authorizeRole(iam, 'arn:aws:iam::000000000000:role/absent', source)).rejects.toThrow(/does not exist/);
    c.destroy();
  });
});
