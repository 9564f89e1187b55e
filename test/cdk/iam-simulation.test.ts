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

  describe('hold on failure', () => {
    const instance = `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
    const ours = { 'aws:ResourceTag/ec2-build-action:stack': 'Ec2BuildAction' };
    const workflow = rolePolicies(stack, 'WorkflowRole');
    const sweeper = rolePolicies(stack, 'SafetyNetsSweeperRole');

    it('lets the state machine tag this stack\'s instances with the hold\'s end, and with no other tag, nor another stack\'s', async () => {
      expect(await decide(workflow, 'ec2:CreateTags', instance, { ...ours, 'aws:TagKeys': ['ec2-build-action:hold-until'], 'aws:RequestTag/ec2-build-action:hold-until': '2026-11-22T11:00:00.000Z' })).toBe('Allowed');
      expect(await decide(workflow, 'ec2:CreateTags', instance, { ...ours, 'aws:TagKeys': ['ec2-build-action:hold-until', 'ec2-build-action:stack'] })).toBe('ImplicitlyDenied');
      expect(await decide(workflow, 'ec2:CreateTags', instance, { ...ours, 'aws:TagKeys': ['ec2-build-action:execution'] })).toBe('ImplicitlyDenied');
      expect(await decide(workflow, 'ec2:CreateTags', instance, { 'aws:ResourceTag/ec2-build-action:stack': 'SomeoneElse', 'aws:TagKeys': ['ec2-build-action:hold-until'] })).toBe('ImplicitlyDenied');
    });

    it('lets the sweeper ask for a pipeline\'s state (the latest run of a held build\'s action)', async () => {
      expect(await decide(sweeper, 'codepipeline:GetPipelineState', `arn:${PARTITION}:codepipeline:${REGION}:${ACCOUNT}:app`)).toBe('Allowed');
    });
  });

  describe('the poller', () => {
    const policies = rolePolicies(stack, 'PollerFunctionRole');
    // arn:${Partition}:codepipeline:${Region}:${Account}:actiontype:${Owner}/${Category}/${Provider}/${Version}
    const actionTypeArn = (provider: string, version = '3') => `arn:${PARTITION}:codepipeline:${REGION}:${ACCOUNT}:actiontype:Custom/Build/${provider}/${version}`;

    it('may poll for jobs of its own action type', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build'))).toBe('Allowed');
    });

    it('may not poll for jobs of another action type or another version', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('Other-Build'))).toBe('ImplicitlyDenied');
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build', '4'))).toBe('ImplicitlyDenied');
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

  describe('the fleets: claiming, refilling and queueing, on this stack\'s instances and table only', () => {
    const fleets = template({ 'ec2-build-action:fleets': JSON.stringify({ linux: { imageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', instanceTypes: ['c7i.large'], market: 'spot-then-on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 10 } }) });
    const resources = fleets.toJSON().Resources;
    const [tableId] = Object.keys(fleets.findResources('AWS::DynamoDB::Table'));
    const table = String(resolve({ 'Fn::GetAtt': [tableId, 'Arn'] }, resources));
    const instance = `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
    const ours = { 'aws:ResourceTag/ec2-build-action:stack': 'Ec2BuildAction' };
    const theirs = { 'aws:ResourceTag/ec2-build-action:stack': 'SomeoneElse' };
    const launcher = rolePolicies(fleets, 'TasksLaunchRole');
    const refill = rolePolicies(fleets, 'FleetsRefillRole');
    const slots = rolePolicies(fleets, 'FleetsSlotsRole');

    it('lets the launcher claim on the pool table, tag a claimed member with the job\'s two tags, and start or end it, on this stack\'s instances only', async () => {
      expect(await decide(launcher, 'dynamodb:UpdateItem', table)).toBe('Allowed');
      expect(await decide(launcher, 'dynamodb:UpdateItem', `${table.replace(/table\/.*/, 'table/other')}`)).toBe('ImplicitlyDenied');
      expect(await decide(launcher, 'ec2:CreateTags', instance, { ...ours, 'aws:TagKeys': ['ec2-build-action:job-id', 'ec2-build-action:execution'] })).toBe('Allowed');
      expect(await decide(launcher, 'ec2:CreateTags', instance, { ...ours, 'aws:TagKeys': ['ec2-build-action:stack'] })).toBe('ImplicitlyDenied');
      expect(await decide(launcher, 'ec2:CreateTags', instance, { ...theirs, 'aws:TagKeys': ['ec2-build-action:job-id'] })).toBe('ImplicitlyDenied');
      for (const action of ['ec2:StartInstances', 'ec2:TerminateInstances']) {
        expect(await decide(launcher, action, instance, ours)).toBe('Allowed');
        expect(await decide(launcher, action, instance, theirs)).toBe('ImplicitlyDenied');
      }
      expect(await decide(launcher, 'ec2:StopInstances', instance, ours)).toBe('ImplicitlyDenied');
    });

    it('lets the state machine start the refill, and the launcher read the fleet\'s public image parameter, nothing else', async () => {
      const [refillId] = Object.keys(fleets.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('FleetsRefill'));
      const refillArn = String(resolve({ 'Fn::GetAtt': [refillId, 'Arn'] }, resources));
      const machine = rolePolicies(fleets, 'WorkflowRole');
      expect(await decide(machine, 'lambda:InvokeFunction', refillArn)).toBe('Allowed');
      expect(await decide(launcher, 'lambda:InvokeFunction', refillArn)).toBe('ImplicitlyDenied');
      const parameter = (account: string, name: string) => `arn:${PARTITION}:ssm:${REGION}:${account}:parameter/${name}`;
      // The account form (the Service Authorization Reference's; the simulator takes no other): both are granted.
      expect(await decide(launcher, 'ssm:GetParameter', parameter(ACCOUNT, 'aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'))).toBe('Allowed');
      expect(JSON.stringify(launcher)).toContain(`arn:${PARTITION}:ssm:${REGION}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`);
      expect(await decide(launcher, 'ssm:GetParameter', parameter(ACCOUNT, 'secrets/db-password'))).toBe('ImplicitlyDenied');
    });

    it('lets the launcher and the refill create Spot requests and the Spot service-linked role (a fleet buys Spot), no other role', async () => {
      const spotRequest = `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:spot-instances-request/*`;
      const spotRole = `arn:${PARTITION}:iam::${ACCOUNT}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`;
      for (const policies of [launcher, refill]) {
        expect(await decide(policies, 'ec2:RunInstances', spotRequest)).toBe('Allowed');
        expect(await decide(policies, 'iam:CreateServiceLinkedRole', spotRole, { 'iam:AWSServiceName': 'spot.amazonaws.com' })).toBe('Allowed');
        expect(await decide(policies, 'iam:CreateServiceLinkedRole', `arn:${PARTITION}:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`, { 'iam:AWSServiceName': 'ecs.amazonaws.com' })).toBe('ImplicitlyDenied');
      }
      // Without a Spot fleet, no Spot rights.
      expect(JSON.stringify(rolePolicies(stack, 'TasksLaunchRole'))).not.toContain('spot-instances-request');
    });

    it('lets the refill stop, start and end this stack\'s instances only', async () => {
      for (const action of ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:TerminateInstances']) {
        expect(await decide(refill, action, instance, ours)).toBe('Allowed');
        expect(await decide(refill, action, instance, theirs)).toBe('ImplicitlyDenied');
      }
      expect(await decide(refill, 'dynamodb:Query', table)).toBe('Allowed');
    });

    it('lets the Spot interruption handler count on the table, read the build\'s history and fail its waiting task, nothing else', async () => {
      const spot = rolePolicies(fleets, 'SpotInterruptionsFunctionRole');
      expect(await decide(spot, 'dynamodb:PutItem', table)).toBe('Allowed');
      expect(await decide(spot, 'dynamodb:DeleteItem', table)).toBe('ImplicitlyDenied');
      expect(await decide(spot, 'states:SendTaskFailure', '*')).toBe('Allowed');
      expect(await decide(spot, 'states:SendTaskSuccess', '*')).toBe('ImplicitlyDenied');
      const execution = (machine: string) => `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${machine}:job-1`;
      expect(await decide(spot, 'states:GetExecutionHistory', execution('Ec2BuildAction-BuildJob'))).toBe('Allowed');
      expect(await decide(spot, 'states:GetExecutionHistory', execution('Other-BuildJob'))).toBe('ImplicitlyDenied');
      expect(await decide(spot, 'ec2:TerminateInstances', instance, ours)).toBe('ImplicitlyDenied');
    });

    it('lets the slot function use the table, resume waiting tasks (which name no resource) and describe this stack\'s executions, nothing on EC2', async () => {
      expect(await decide(slots, 'dynamodb:UpdateItem', table)).toBe('Allowed');
      expect(await decide(slots, 'states:SendTaskSuccess', '*')).toBe('Allowed');
      expect(await decide(slots, 'states:SendTaskFailure', '*')).toBe('ImplicitlyDenied');
      const execution = (machine: string) => `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${machine}:job-1`;
      expect(await decide(slots, 'states:DescribeExecution', execution('Ec2BuildAction-BuildJob'))).toBe('Allowed');
      expect(await decide(slots, 'states:DescribeExecution', execution('Other-BuildJob'))).toBe('ImplicitlyDenied');
      expect(await decide(slots, 'states:StopExecution', execution('Ec2BuildAction-BuildJob'))).toBe('ImplicitlyDenied');
      expect(await decide(slots, 'ec2:TerminateInstances', instance, ours)).toBe('ImplicitlyDenied');
    });

    it('lets the renew function read and leave a job\'s place in line, and not write the table otherwise', async () => {
      const renew = rolePolicies(fleets, 'TasksRenewRole');
      for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DeleteItem']) expect([action, await decide(renew, action, table)]).toEqual([action, 'Allowed']);
      for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem']) expect([action, await decide(renew, action, table)]).toEqual([action, 'ImplicitlyDenied']);
    });
  });

  describe('readiness: the registration, the watcher and the state-change handler, on the readiness partition of the table only', () => {
    const resources = stack.toJSON().Resources;
    const [tableId] = Object.keys(stack.findResources('AWS::DynamoDB::Table'));
    const table = String(resolve({ 'Fn::GetAtt': [tableId, 'Arn'] }, resources));
    const [watcherId] = Object.keys(stack.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('ReadinessWatcher'));
    const watcherArn = String(resolve({ 'Fn::GetAtt': [watcherId, 'Arn'] }, resources));
    const readiness = { 'dynamodb:LeadingKeys': ['READINESS'] };
    const fleetItems = { 'dynamodb:LeadingKeys': ['FLEET#linux'] };
    const check = rolePolicies(stack, 'TasksInstanceCheckRole');
    const watcher = rolePolicies(stack, 'ReadinessWatcherRole');
    const events = rolePolicies(stack, 'ReadinessStateEventsRole');

    it('lets "Is Instance Ready?" write its waiter, settle its own task and start the watcher, and nothing of the fleets\' items', async () => {
      expect(await decide(check, 'dynamodb:PutItem', table, readiness)).toBe('Allowed');
      expect(await decide(check, 'dynamodb:PutItem', table, fleetItems)).toBe('ImplicitlyDenied');
      expect(await decide(check, 'dynamodb:Query', table, readiness)).toBe('ImplicitlyDenied');
      expect(await decide(check, 'states:SendTaskSuccess', '*')).toBe('Allowed');
      expect(await decide(check, 'lambda:InvokeFunction', watcherArn)).toBe('Allowed');
      expect(await decide(check, 'lambda:InvokeFunction', watcherArn.replace(/function:.*/, 'function:other'))).toBe('ImplicitlyDenied');
    });

    it('lets the watcher read and settle waiters, describe instances and agents, and hand over to itself only', async () => {
      expect(await decide(watcher, 'dynamodb:Query', table, readiness)).toBe('Allowed');
      expect(await decide(watcher, 'dynamodb:Query', table, fleetItems)).toBe('ImplicitlyDenied');
      expect(await decide(watcher, 'dynamodb:BatchGetItem', table, readiness)).toBe('Allowed');
      expect(await decide(watcher, 'dynamodb:BatchGetItem', table, fleetItems)).toBe('ImplicitlyDenied');
      expect(await decide(watcher, 'ssm:DescribeInstanceInformation', '*')).toBe('Allowed');
      expect(await decide(watcher, 'ec2:DescribeInstances', '*')).toBe('Allowed');
      expect(await decide(watcher, 'states:SendTaskFailure', '*')).toBe('Allowed');
      expect(await decide(watcher, 'lambda:InvokeFunction', watcherArn)).toBe('Allowed');
      expect(await decide(watcher, 'lambda:InvokeFunction', watcherArn.replace(/function:.*/, 'function:other'))).toBe('ImplicitlyDenied');
      expect(await decide(watcher, 'ec2:TerminateInstances', `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`)).toBe('ImplicitlyDenied');
    });

    it('lets the state-change handler mark and fail waiters, and not resume a build', async () => {
      expect(await decide(events, 'dynamodb:UpdateItem', table, readiness)).toBe('Allowed');
      expect(await decide(events, 'dynamodb:DeleteItem', table, fleetItems)).toBe('ImplicitlyDenied');
      expect(await decide(events, 'states:SendTaskFailure', '*')).toBe('Allowed');
      expect(await decide(events, 'states:SendTaskSuccess', '*')).toBe('ImplicitlyDenied');
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
