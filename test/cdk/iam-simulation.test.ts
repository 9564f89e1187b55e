import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT, readSettings } from '../../lib/context';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { checkPolicies } from './iam-policy-check';
import { templatePolicies } from './template-policies';
import { ACCOUNT, decide, PARTITION, REGION, resolve, rolePolicies } from './simulate-policies';


/** The stack's template without bundling the functions (their code plays no part in IAM). */
function template(context: Record<string, string> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new Ec2BuildActionStack(app, 'Ec2BuildAction', { ...readSettings(app.node), stackName: undefined }));
}

describe('IAM, evaluated against the Service Authorization Reference', () => {
  const stack = template();

  describe('the poller', () => {
    const policies = rolePolicies(stack, 'PollerFunctionRole');
    // arn:${Partition}:codepipeline:${Region}:${Account}:actiontype:${Owner}/${Category}/${Provider}/${Version}
    const actionTypeArn = (provider: string, version = '1') => `arn:${PARTITION}:codepipeline:${REGION}:${ACCOUNT}:actiontype:Custom/Build/${provider}/${version}`;

    it('may poll for jobs of its own action type', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build'))).toBe('Allowed');
    });

    it('may not poll for jobs of another action type or another version', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('Other-Build'))).toBe('ImplicitlyDenied');
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build', '2'))).toBe('ImplicitlyDenied');
    });
  });

  describe('the rights only a race or an ended build needs (no local run reaches them: test/local/faults.test.ts says which)', () => {
    it('lets Wait For Build resume its own task when the build finished during a renewal (SendTaskSuccess names no resource)', async () => {
      expect(await decide(rolePolicies(stack, 'TasksWaitForBuildRole'), 'states:SendTaskSuccess', '*')).toBe('Allowed');
    });

    it('lets the poller acknowledge and fail a continuation job whose build has ended (job-worker calls name no resource)', async () => {
      const poller = rolePolicies(stack, 'PollerFunctionRole');
      expect(await decide(poller, 'codepipeline:AcknowledgeJob', '*')).toBe('Allowed');
      expect(await decide(poller, 'codepipeline:PutJobFailureResult', '*')).toBe('Allowed');
    });
  });

  describe('the build instance, streaming command output to its log group', () => {
    const policies = rolePolicies(stack, 'BuilderRole');
    const resources = stack.toJSON().Resources;
    // The group Run Build and Upload Output Artifact name in CloudWatchOutputConfig: the build log group's Ref.
    const [sm] = Object.values(stack.findResources('AWS::StepFunctions::StateMachine'));
    const groupName = String(resolve(sm.Properties.DefinitionSubstitutions.BuildLogGroupName, resources));
    const group = (name: string) => `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

    it('may create its build log group, named by ARN with or without a stream part', async () => {
      expect(await decide(policies, 'logs:CreateLogGroup', group(groupName))).toBe('Allowed');
      expect(await decide(policies, 'logs:CreateLogGroup', `${group(groupName)}:log-stream:`)).toBe('Allowed');
    });

    it('may look log groups up, which supports no resource-level permission', async () => {
      expect(await decide(policies, 'logs:DescribeLogGroups', '*')).toBe('Allowed');
    });

    it('may write streams of its build log group only', async () => {
      expect(await decide(policies, 'logs:PutLogEvents', `${group(groupName)}:log-stream:cmd/i-0123/aws-runShellScript/stdout`)).toBe('Allowed');
      expect(await decide(policies, 'logs:CreateLogGroup', group('someone-elses-group'))).toBe('ImplicitlyDenied');
      expect(await decide(policies, 'logs:PutLogEvents', `${group('someone-elses-group')}:log-stream:x`)).toBe('ImplicitlyDenied');
    });
  });

  describe('the launcher, in an account whose default EBS key is customer managed', () => {
    const key = (id: string) => `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${id}`;
    const ebsKey = key('1234abcd-12ab-34cd-56ef-1234567890ab');
    const viaEc2 = { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` };
    const forAwsResource = { 'kms:GrantIsForAWSResource': 'true' };
    // KMS authorizes nothing on IAM policies alone: the key policy must let the account's IAM policies in, as the
    // default key policy does (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'Enable IAM policies', Effect: 'Allow', Principal: { AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
    };
    const decideOnKey = (policies: Parameters<typeof decide>[0], action: string, keyArn: string, context: Record<string, string>) =>
      decide(policies, action, keyArn, context, keyPolicy);
    const stackWithKey = template({ [CONTEXT.ebsKmsKeyArn]: ebsKey });
    const withKey = rolePolicies(stackWithKey, 'TasksLaunchRole');
    const withoutKey = rolePolicies(stack, 'TasksLaunchRole');

    it('may let EC2 create grants on the key for the volumes it launches, and nothing else', async () => {
      expect(await decideOnKey(withKey, 'kms:CreateGrant', ebsKey, { ...forAwsResource, ...viaEc2 })).toBe('Allowed');
      expect(await decideOnKey(withKey, 'kms:CreateGrant', ebsKey, { 'kms:GrantIsForAWSResource': 'false' })).toBe('ImplicitlyDenied');
    });

    it('may have EC2 use the key for the volume data keys', async () => {
      for (const action of ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo']) {
        expect([action, await decideOnKey(withKey, action, ebsKey, viaEc2)]).toEqual([action, 'Allowed']);
      }
    });

    it('may not use the key directly, nor another key', async () => {
      expect(await decideOnKey(withKey, 'kms:Decrypt', ebsKey, { 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).toBe('ImplicitlyDenied');
      expect(await decideOnKey(withKey, 'kms:Decrypt', key('ffffffff-12ab-34cd-56ef-1234567890ab'), viaEc2)).toBe('ImplicitlyDenied');
    });

    it('passes the static IAM check: real actions, key ARNs and condition keys that apply', async () => {
      expect(await checkPolicies(templatePolicies(stackWithKey.toJSON() as Parameters<typeof templatePolicies>[0]))).toEqual([]);
    });

    it('gets no KMS rights when the default key is AWS managed (no context key)', async () => {
      expect(await decideOnKey(withoutKey, 'kms:CreateGrant', ebsKey, { ...forAwsResource, ...viaEc2 })).toBe('ImplicitlyDenied');
    });
  });
});
