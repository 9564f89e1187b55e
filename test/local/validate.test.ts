import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AcknowledgeJobCommand, CodePipelineClient, PollForJobsCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LocalCodePipeline } from '../../local/services/codepipeline';
import { DEFAULT_IMAGE_ID, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from '../../local/services/ec2';
import { LocalIam } from '../../local/services/iam';
import { DEFINITION_FILE, LocalStepFunctions } from '../../local/services/sfn';
import { LocalSsm } from '../../local/services/ssm';

const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'x' } });
const JOB_ID = '0f0e0d0c-0b0a-4909-8807-060504030201';
const INSTANCE_ID = 'i-0123456789abcdef0';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Validate';
const actionTypeId = { category: 'Build', owner: 'Custom', provider: 'EC2-Build', version: '1' } as const;

describe('CodePipeline refuses what its model and API reference refuse (ValidationException)', () => {
  const pipeline = new LocalCodePipeline();
  let client: CodePipelineClient;
  beforeAll(async () => {
    client = new CodePipelineClient(config(await pipeline.start()));
  });
  afterAll(() => pipeline.stop());

  /** A job acknowledged by this worker, ready for its result. */
  async function inProgressJob(): Promise<string> {
    const jobId = pipeline.createJob(actionTypeId, {});
    const { jobs } = await client.send(new PollForJobsCommand({ actionTypeId, maxBatchSize: 1 }));
    await client.send(new AcknowledgeJobCommand({ jobId, nonce: jobs![0].nonce! }));
    return jobId;
  }

  it('refuses a failure message longer than 5000 characters, and takes one of 5000', async () => {
    const jobId = await inProgressJob();
    const failure = (length: number) => new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: 'x'.repeat(length) } });
    await expect(client.send(failure(5001))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'failureDetails.message' failed to satisfy constraint: Member must have length less than or equal to 5000"),
    });
    await expect(client.send(failure(5000))).resolves.toBeDefined();
  });

  it('refuses outputVariables together with a continuation token, and takes them in a final result', async () => {
    const jobId = await inProgressJob();
    const outputVariables = { IMAGE: 'ami-0123' };
    await expect(client.send(new PutJobSuccessResultCommand({ jobId, continuationToken: 'execution-1', outputVariables }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new PutJobSuccessResultCommand({ jobId, outputVariables }))).resolves.toBeDefined();
  });

  it('refuses a job id that is not a job id, a missing nonce, an unknown category and a provider with a space', async () => {
    await expect(client.send(new AcknowledgeJobCommand({ jobId: 'job-1', nonce: 'n' }))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'jobId'") });
    await expect(client.send(new AcknowledgeJobCommand({ jobId: JOB_ID } as never))).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("Value null at 'nonce'") });
    await expect(client.send(new PollForJobsCommand({ actionTypeId: { ...actionTypeId, category: 'Compile' as never } }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new PollForJobsCommand({ actionTypeId: { ...actionTypeId, provider: 'EC2 Build' } }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must satisfy regular expression pattern'),
    });
  });

  it('lets a well-formed request reach the service (JobNotFoundException for an unknown job)', async () => {
    await expect(client.send(new AcknowledgeJobCommand({ jobId: JOB_ID, nonce: 'n' }))).rejects.toMatchObject({ name: 'JobNotFoundException' });
  });
});

describe('Systems Manager refuses what its model and documentation refuse', () => {
  const ssm = new LocalSsm({ documentName: 'BuildDoc', timing: { registerMs: 10 }, disksDir: fs.mkdtempSync(path.join(os.tmpdir(), 'validate-')), onEvent: () => undefined });
  let client: SSMClient;
  beforeAll(async () => {
    client = new SSMClient(config(await ssm.start()));
  });
  afterAll(() => ssm.stop());
  const send = (input: Partial<ConstructorParameters<typeof SendCommandCommand>[0]>) => client.send(new SendCommandCommand({ DocumentName: 'BuildDoc', InstanceIds: [INSTANCE_ID], ...input }));

  it('refuses a comment longer than 100 characters (ValidationException)', async () => {
    await expect(send({ Comment: 'c'.repeat(101) })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'comment'") });
  });

  it('refuses parameters over 64 KB in all (MaxDocumentSizeExceeded)', async () => {
    await expect(send({ Parameters: { Phase: ['build'], Command: ['x'.repeat(65_536)] } })).rejects.toMatchObject({ name: 'MaxDocumentSizeExceeded', message: expect.stringContaining('65536 bytes') });
  });

  it('refuses parameters that take the document past 64 KB, parameters under 64 KB alone (MaxDocumentSizeExceeded)', async () => {
    // CreateDocument's Content: the document's 64 KB "also includes the content specified for input parameters at runtime".
    await expect(send({ Parameters: { Phase: ['build'], Command: ['x'.repeat(60_000)] } })).rejects.toMatchObject({ name: 'MaxDocumentSizeExceeded', message: expect.stringMatching(/^The document and its parameters total \d+ bytes/) });
  });

  it('refuses an instance id that is not one, and more than 50 of them (ValidationException)', async () => {
    await expect(send({ InstanceIds: ['i-123'] })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'instanceIds.1.member'") });
    await expect(send({ InstanceIds: Array.from({ length: 51 }, () => INSTANCE_ID) })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('lets a 100-character comment through to the service (which finds no such instance: InvalidInstanceId)', async () => {
    await expect(send({ Comment: 'c'.repeat(100) })).rejects.toMatchObject({ name: 'InvalidInstanceId' });
  });
});

describe('Step Functions refuses what its model and API reference refuse', () => {
  const calls: string[] = [];
  const functions = {
    Acknowledge: async () => {
      calls.push('Acknowledge');
      return { status: 'InProgress', padding: 'p'.repeat(300_000) };
    },
  };
  const sfn = new LocalStepFunctions({
    stateMachineArn: STATE_MACHINE_ARN,
    // Every function of the definition is this one; other placeholders get their own name.
    substitutions: Object.fromEntries([...fs.readFileSync(DEFINITION_FILE, 'utf8').matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map(([, n]) => [n, n.endsWith('FunctionArn') ? 'Acknowledge' : n])),
    functions,
    msPerSecond: 1,
  });
  let client: SFNClient;
  beforeAll(async () => {
    client = new SFNClient(config(await sfn.start()));
  });
  afterAll(() => sfn.stop());
  const start = (input: Partial<ConstructorParameters<typeof StartExecutionCommand>[0]>) => client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, input: '{}', ...input }));

  it('refuses a name longer than 80 characters (ValidationException) and one with a space (InvalidName)', async () => {
    await expect(start({ name: 'n'.repeat(81) })).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'name'") });
    await expect(start({ name: 'job 1' })).rejects.toMatchObject({ name: 'InvalidName' });
  });

  it('refuses input that is not JSON (InvalidExecutionInput) or over 256 KiB as UTF-8 though under 262144 characters', async () => {
    await expect(start({ input: '{"jobId":' })).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    const euros = JSON.stringify({ text: '€'.repeat(100_000) });
    expect(euros.length).toBeLessThan(262_144);
    await expect(start({ input: euros })).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses an ARN that is not a state machine or execution ARN (InvalidArn)', async () => {
    await expect(start({ stateMachineArn: 'Validate' })).rejects.toMatchObject({ name: 'InvalidArn' });
    await expect(client.send(new DescribeExecutionCommand({ executionArn: STATE_MACHINE_ARN }))).rejects.toMatchObject({ name: 'InvalidArn' });
  });

  it('refuses task output that is not JSON (InvalidOutput) or over 256 KiB', async () => {
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'token', output: 'done' }))).rejects.toMatchObject({ name: 'InvalidOutput' });
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'token', output: JSON.stringify('€'.repeat(90_000)) }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('fails an execution whose task returns more than 256 KiB with States.DataLimitExceeded, which States.ALL neither retries nor catches', async () => {
    const { executionArn } = await start({ name: 'big-result', input: JSON.stringify({ jobId: JOB_ID, nonce: 'n', job: null, rejection: null }) });
    const execution = sfn.executions.get(executionArn!)!;
    await execution.done;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(calls).toEqual(['Acknowledge']);
  });
});

describe('EC2 refuses what its model and API reference refuse, with its common client errors', () => {
  const ec2 = new LocalEc2({ bootMs: 10_000, shutdownMs: 10 });
  let endpoint: string;
  let client: EC2Client;
  beforeAll(async () => {
    endpoint = await ec2.start();
    client = new EC2Client(config(endpoint));
  });
  afterAll(() => ec2.stop());
  const launch: RunInstancesCommandInput = { ImageId: DEFAULT_IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateId: Object.keys(LOCAL_LAUNCH_TEMPLATES)[0] } };

  it('refuses a launch without MinCount (MissingParameter) or with MinCount 0 (InvalidParameterValue)', async () => {
    await expect(client.send(new RunInstancesCommand({ ...launch, MinCount: undefined }))).rejects.toMatchObject({ name: 'MissingParameter', message: expect.stringContaining('MinCount') });
    await expect(client.send(new RunInstancesCommand({ ...launch, MinCount: 0 }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('MinCount') });
  });

  it('refuses an instance type and a tag resource type outside the model (InvalidParameterValue)', async () => {
    await expect(client.send(new RunInstancesCommand({ ...launch, InstanceType: 't3.huge' as never }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('InstanceType') });
    const TagSpecifications = [{ ResourceType: 'machine' as never, Tags: [{ Key: 'a', Value: 'b' }] }];
    await expect(client.send(new RunInstancesCommand({ ...launch, TagSpecifications }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('TagSpecification.1.ResourceType') });
  });

  it('refuses TerminateInstances without instance ids (MissingParameter) and MaxResults with instance ids (InvalidParameterCombination)', async () => {
    await expect(client.send(new TerminateInstancesCommand({} as never))).rejects.toMatchObject({ name: 'MissingParameter' });
    await expect(client.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE_ID], MaxResults: 5 }))).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
  });

  it('refuses a parameter the operation does not have (UnknownParameter)', async () => {
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeInstances&Version=2016-11-15&InstanceIds.1=i-1' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>UnknownParameter</Code>');
  });

  it('launches from a well-formed request', async () => {
    await expect(client.send(new RunInstancesCommand(launch))).resolves.toMatchObject({ Instances: [expect.objectContaining({ InstanceType: 't3.micro' })] });
  });
});

describe('IAM (awsQuery) refuses what its model refuses, with ValidationError', () => {
  const iam = new LocalIam('000000000000');
  let client: IAMClient;
  beforeAll(async () => {
    client = new IAMClient(config(await iam.start()));
  });
  afterAll(() => iam.stop());
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'codepipeline.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

  it('refuses a role name over 64 characters, a missing trust policy and a tag key over 128 characters in a member list', async () => {
    await expect(client.send(new CreateRoleCommand({ RoleName: 'r'.repeat(65), AssumeRolePolicyDocument: trust }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining("at 'roleName'") });
    await expect(client.send(new CreateRoleCommand({ RoleName: 'verify' } as never))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining("Value null at 'assumeRolePolicyDocument'") });
    const Tags = [{ Key: 'k'.repeat(129), Value: 'v' }];
    await expect(client.send(new CreateRoleCommand({ RoleName: 'verify', AssumeRolePolicyDocument: trust, Tags }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining("at 'tags.1.member.key'") });
  });

  it('creates a role from a well-formed request', async () => {
    await expect(client.send(new CreateRoleCommand({ RoleName: 'verify', AssumeRolePolicyDocument: trust, Tags: [{ Key: 'purpose', Value: 'verify' }] }))).resolves.toMatchObject({ Role: expect.objectContaining({ RoleName: 'verify' }) });
  });
});
