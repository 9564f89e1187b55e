import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CodePipelineClient, PollForJobsCommand } from '@aws-sdk/client-codepipeline';
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { TAGS } from '../../lambdas/shared/env';
import { Authorizer, EC2_DENIALS } from '../../local/iam/authorize';
import { installIamGate, removeIamGate, stackResourceState } from '../../local/iam/gate';
import { rolePolicies } from '../../local/iam/policies';
import { EC2_REQUESTS } from '../../local/iam/requests';
import { credentialsFor } from '../../local/iam/identity';
import { LocalCodePipeline } from '../../local/services/codepipeline';
import { deploy } from '../../local/deployment';
import { LOCAL_LAUNCH_TEMPLATES, LocalEc2, DEFAULT_IMAGE_ID } from '../../local/services/ec2';
import { loadStack, LocalStack } from '../../local/template/stack';
import { synthesizeStack } from '../cdk/synthesized';

/** The logical id of the role a resource of the given type and id prefix uses. */
function roleOf(stack: LocalStack, functionPrefix: string): string {
  const [, props] = stack.resources('AWS::Lambda::Function').find(([id]) => id.startsWith(functionPrefix))!;
  const arn = String(props.Role);
  return Object.keys(stack.template.Resources).find((id) => stack.typeOf(id) === 'AWS::IAM::Role' && stack.getAtt(id, 'Arn') === arn)!;
}

describe('the local cloud authorizes every request as the role that signs it', () => {
  let stack: LocalStack;
  let pipeline: LocalCodePipeline;
  let ec2: LocalEc2;
  const endpoints: Record<string, string> = {};
  const client = <C>(Ctor: new (c: object) => C, endpoint: string, role: string | null) =>
    new Ctor({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: role ? credentialsFor(role) : { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } });

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iam-gate-'));
    const file = path.join(dir, 'Ec2BuildAction.template.json');
    fs.writeFileSync(file, JSON.stringify(synthesizeStack()));
    stack = loadStack(file);
    Object.assign(LOCAL_LAUNCH_TEMPLATES, deploy(file).launchTemplates);
    pipeline = new LocalCodePipeline();
    ec2 = new LocalEc2({ bootMs: 10_000, shutdownMs: 10 });
    endpoints.codepipeline = await pipeline.start();
    endpoints.ec2 = await ec2.start();
    installIamGate(stack, stackResourceState(stack, (id) => ec2.instances.get(id)?.tags ?? null));
  });
  afterAll(async () => {
    removeIamGate();
    await Promise.all([pipeline.stop(), ec2.stop()]);
  });

  const actionTypeId = { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '3' } as const;

  it('lets the poller poll its own action type', async () => {
    const poller = client(CodePipelineClient, endpoints.codepipeline, roleOf(stack, 'PollerFunction'));
    await expect(poller.send(new PollForJobsCommand({ actionTypeId, maxBatchSize: 1 }))).resolves.toMatchObject({ jobs: [] });
  });

  it('refuses the poller another action type, with AccessDeniedException naming the action type ARN', async () => {
    const poller = client(CodePipelineClient, endpoints.codepipeline, roleOf(stack, 'PollerFunction'));
    await expect(poller.send(new PollForJobsCommand({ actionTypeId: { ...actionTypeId, provider: 'Other' }, maxBatchSize: 1 }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('codepipeline:PollForJobs on resource: arn:aws:codepipeline:us-east-1:000000000000:actiontype:Custom/Build/Other/3'),
    });
  });

  it('refuses PollForJobs to a role without it (the completion function)', async () => {
    const completion = client(CodePipelineClient, endpoints.codepipeline, roleOf(stack, 'TasksCompletion'));
    await expect(completion.send(new PollForJobsCommand({ actionTypeId, maxBatchSize: 1 }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses credentials that name no role of the stack (UnrecognizedClientException)', async () => {
    const stranger = client(CodePipelineClient, endpoints.codepipeline, null);
    await expect(stranger.send(new PollForJobsCommand({ actionTypeId, maxBatchSize: 1 }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  describe('RunInstances, with the checks EC2 makes on the call\'s behalf', () => {
    const launchTemplateId = () => stack.ref(stack.resources('AWS::EC2::LaunchTemplate')[0][0]);
    const tags = [{ Key: TAGS.stack, Value: 'Ec2BuildAction' }, { Key: TAGS.jobId, Value: 'job-1' }];
    const request = (over: Partial<RunInstancesCommandInput> = {}): RunInstancesCommandInput => ({
      LaunchTemplate: { LaunchTemplateId: launchTemplateId(), Version: '$Latest' },
      ImageId: DEFAULT_IMAGE_ID,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
      ...over,
    });
    const launcher = () => client(EC2Client, endpoints.ec2, roleOf(stack, 'TasksLaunch'));

    it('launches from the stack\'s template with the stack\'s tags on instance and volume', async () => {
      const out = await launcher().send(new RunInstancesCommand(request()));
      expect(out.Instances?.[0]?.InstanceId).toMatch(/^i-/);
    });

    it('refuses a launch whose volume is not tagged (UnauthorizedOperation)', async () => {
      const untaggedVolume = request({ TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] });
      await expect(launcher().send(new RunInstancesCommand(untaggedVolume))).rejects.toMatchObject({
        name: 'UnauthorizedOperation',
        message: expect.stringContaining('ec2:RunInstances on resource: arn:aws:ec2:us-east-1:000000000000:volume/*'),
      });
    });

    it('refuses a launch from another launch template', async () => {
      await expect(launcher().send(new RunInstancesCommand(request({ LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0' } })))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    });

    it('refuses a launch by a role without RunInstances (the state machine\'s own role)', async () => {
      const workflowRole = Object.keys(stack.template.Resources).find((id) => id.startsWith('WorkflowRole') && stack.typeOf(id) === 'AWS::IAM::Role')!;
      await expect(client(EC2Client, endpoints.ec2, workflowRole).send(new RunInstancesCommand(request()))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    });

    it('lets the sweeper terminate only instances tagged with the stack', async () => {
      const sweeper = client(EC2Client, endpoints.ec2, roleOf(stack, 'SafetyNetsSweeper'));
      const tagged = (await launcher().send(new RunInstancesCommand(request()))).Instances![0].InstanceId!;
      await expect(sweeper.send(new TerminateInstancesCommand({ InstanceIds: [tagged] }))).resolves.toBeDefined();
      const other = [...ec2.instances.values()].find((i) => i.instanceId !== tagged)!;
      other.tags[TAGS.stack] = 'SomeoneElse';
      await expect(sweeper.send(new TerminateInstancesCommand({ InstanceIds: [other.instanceId] }))).rejects.toMatchObject({ name: 'UnauthorizedOperation' });
    });
  });

  it('lets the functions that resume builds call SendTaskSuccess, which supports no resource-level permissions', async () => {
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html: SendTaskSuccess names no resource type.
    const authorizer = new Authorizer(rolePolicies(stack));
    for (const fn of ['CommandEventsFunction', 'SafetyNetsSweeper']) {
      await expect(authorizer.isAllowed(roleOf(stack, fn), { action: 'states:SendTaskSuccess', resource: '*' })).resolves.toBe(true);
    }
  });

  it('refuses a launch when the launcher may not pass the build role (iam:PassRole is checked on the call\'s behalf)', async () => {
    const launcherRole = roleOf(stack, 'TasksLaunch');
    const template = JSON.parse(JSON.stringify(stack.template)) as { Resources: Record<string, { Type: string; Properties: { Roles?: { Ref: string }[]; PolicyDocument: { Statement: { Sid?: string }[] } } }> };
    const policy = Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles?.some((x) => x.Ref === launcherRole))!;
    policy.Properties.PolicyDocument.Statement = policy.Properties.PolicyDocument.Statement.filter((st) => st.Sid !== 'PassBuildRole');
    const doctored = new LocalStack(stack.templateFile, template);
    const state = stackResourceState(doctored, () => null);
    const params = new URLSearchParams({ Action: 'RunInstances', 'LaunchTemplate.LaunchTemplateId': doctored.ref(doctored.resources('AWS::EC2::LaunchTemplate')[0][0]), ImageId: DEFAULT_IMAGE_ID });
    for (const [i, type] of ['instance', 'volume'].entries()) {
      params.set(`TagSpecification.${i + 1}.ResourceType`, type);
      params.set(`TagSpecification.${i + 1}.Tag.1.Key`, TAGS.stack);
      params.set(`TagSpecification.${i + 1}.Tag.1.Value`, 'Ec2BuildAction');
    }
    const checks = EC2_REQUESTS.RunInstances(params, state);
    await expect(new Authorizer(rolePolicies(stack)).authorize(credentialsFor(launcherRole).accessKeyId, checks, EC2_DENIALS)).resolves.toBeUndefined();
    await expect(new Authorizer(rolePolicies(doctored)).authorize(credentialsFor(launcherRole).accessKeyId, checks, EC2_DENIALS)).rejects.toMatchObject({
      code: 'UnauthorizedOperation',
      message: expect.stringContaining('iam:PassRole on resource: arn:aws:iam::000000000000:role/'),
    });
  });
});
