import {
  AcknowledgeJobCommand,
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  PollForJobsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  type ActionDeclaration,
  type Job,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline';
import { LocalCodePipeline } from '../../local/services/codepipeline';
import { LocalPipelines } from '../../local/services/pipelines';

const TYPE = { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version: '1' } as const;
const ROLE = 'arn:aws:iam::000000000000:role/pipeline-role';

let jobs: LocalCodePipeline;
let pipelines: LocalPipelines;
let client: CodePipelineClient;
let events: Record<string, unknown>[];
let copies: { bucket: string; key: string; to: { bucket: string; key: string } }[];

beforeEach(async () => {
  jobs = new LocalCodePipeline(60_000);
  events = [];
  copies = [];
  pipelines = new LocalPipelines(jobs, {
    actionTypes: [{ id: TYPE, properties: [{ name: 'ImageId', required: true }, { name: 'Command', required: true }, { name: 'OutputArtifactPath', required: false }], inputs: { min: 0, max: 1 }, outputs: { min: 0, max: 1 } }],
    region: 'us-east-1',
    account: '000000000000',
    emit: (e) => events.push(e),
    copySource: async (_role, bucket, key, to) => {
      copies.push({ bucket, key, to });
      return 'v1';
    },
    artifactCredentials: () => ({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }),
    roleAssumable: (arn) => arn === ROLE,
  });
  const endpoint = await jobs.start();
  client = new CodePipelineClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
});
afterEach(async () => {
  client.destroy();
  await jobs.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for f's value: the bound only ends a wait that would never end (a loaded machine may take seconds). */
async function until<T>(f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(10)) {
    const v = await f();
    if (v !== undefined) return v;
  }
  throw new Error(`not within ${ms} ms`);
}

/** Polls and acknowledges the next job of the custom type. */
async function takeJob(): Promise<Job> {
  const job = await until(async () => (await client.send(new PollForJobsCommand({ actionTypeId: TYPE, maxBatchSize: 1 }))).jobs?.[0]);
  await client.send(new AcknowledgeJobCommand({ jobId: job.id!, nonce: job.nonce! }));
  return job;
}

function declaration(name = 'p1', build: Partial<ActionDeclaration> = {}): PipelineDeclaration {
  return {
    name,
    roleArn: ROLE,
    artifactStore: { type: 'S3', location: 'store-bucket', encryptionKey: { id: 'alias/key', type: 'KMS' } },
    stages: [
      { name: 'Source', actions: [{ name: 'Src', actionTypeId: { owner: 'AWS', category: 'Source', provider: 'S3', version: '1' }, configuration: { S3Bucket: 'src', S3ObjectKey: 'hello.zip', PollForSourceChanges: 'false' }, outputArtifacts: [{ name: 'SourceArtifact' }] }] },
      { name: 'Build', actions: [{ name: 'Ec2', actionTypeId: TYPE, configuration: { ImageId: 'ami-12345678', Command: 'make' }, inputArtifacts: [{ name: 'SourceArtifact' }], outputArtifacts: [{ name: 'BuildOutput' }], ...build }] },
    ],
  };
}

async function startPipeline(): Promise<string> {
  await client.send(new CreatePipelineCommand({ pipeline: declaration() }));
  return (await client.send(new StartPipelineExecutionCommand({ name: 'p1' }))).pipelineExecutionId!;
}

const actionEvents = (state: string) => events.filter((e) => (e.detail as { state: string; stage: string }).state === state && (e.detail as { stage: string }).stage === 'Build');
const status = async (id: string) => (await client.send(new GetPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: id }))).pipelineExecution?.status;
const buildAction = async (id: string) => (await client.send(new ListActionExecutionsCommand({ pipelineName: 'p1', filter: { pipelineExecutionId: id } }))).actionExecutionDetails!.find((a) => a.stageName === 'Build')!;

describe('local CodePipeline: offers', () => {
  it('counts each poll that took a job, and offers an unacknowledged job again', async () => {
    // GIVEN a dispatch timeout of 2 s (the acknowledgement below must come within it, even on a loaded machine)
    const offers = new LocalCodePipeline(2000);
    const endpoint = await offers.start();
    const c = new CodePipelineClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    try {
      const id = offers.createJob(TYPE, {});
      expect(offers.takesOf(id)).toBe(0);
      // WHEN a poll takes it and nobody acknowledges it
      const first = (await c.send(new PollForJobsCommand({ actionTypeId: TYPE, maxBatchSize: 1 }))).jobs![0];
      expect(offers.takesOf(id)).toBe(1);
      // THEN it is offered again with a new nonce, and the next take counts too
      await until(async () => (offers.statusOf(id) === 'Queued' ? true : undefined));
      const second = (await c.send(new PollForJobsCommand({ actionTypeId: TYPE, maxBatchSize: 1 }))).jobs![0];
      expect(second.nonce).not.toBe(first.nonce);
      expect(offers.takesOf(id)).toBe(2);
      await c.send(new AcknowledgeJobCommand({ jobId: id, nonce: second.nonce! }));
      expect((await c.send(new PollForJobsCommand({ actionTypeId: TYPE, maxBatchSize: 1 }))).jobs).toEqual([]);
      expect(offers.takesOf(id)).toBe(2);
    } finally {
      c.destroy();
      await offers.stop();
    }
  });
});

describe('local CodePipeline: job timeout', () => {
  it('times a job out and refuses its late result with InvalidJobStateException', async () => {
    // GIVEN a job timeout of 3 s (long enough for a loaded machine to poll the job first: it runs from the job's
    // creation) and an acknowledged job
    jobs.jobTimeoutMs = 3000;
    const id = jobs.createJob(TYPE, { hello: 1 });
    const job = await takeJob();
    expect(job.id).toBe(id);
    // WHEN the timeout passes before the result THEN the job is TimedOut and the result is refused
    await until(async () => (jobs.statusOf(id) === 'TimedOut' ? true : undefined));
    await expect(client.send(new PutJobSuccessResultCommand({ jobId: id }))).rejects.toMatchObject({ name: 'InvalidJobStateException' });
    await expect(jobs.waitForResult(id)).resolves.toMatchObject({ status: 'Failed' });
  });
});

describe('local CodePipeline: continuation tokens', () => {
  it('creates a new job (new id and nonce) for the same action execution, carrying the token', async () => {
    const first = jobs.createJob(TYPE, { actionConfiguration: { configuration: { ImageId: 'ami-1' } } }, 'ae-1');
    const job = await takeJob();
    await client.send(new PutJobSuccessResultCommand({ jobId: first, continuationToken: 'exec-arn-1' }));
    const next = await takeJob();
    expect(next.id).not.toBe(first);
    expect(next.nonce).not.toBe(job.nonce);
    expect(next.data?.continuationToken).toBe('exec-arn-1');
    expect(next.data?.actionConfiguration?.configuration).toEqual({ ImageId: 'ami-1' });
    expect(jobs.continuations.get('ae-1')).toBe(1);
    // The renewed job takes no second result; the new one takes the final one.
    await expect(client.send(new PutJobSuccessResultCommand({ jobId: first }))).rejects.toMatchObject({ name: 'InvalidJobStateException' });
    await client.send(new PutJobSuccessResultCommand({ jobId: next.id! }));
    expect(jobs.statusOf(next.id!)).toBe('Succeeded');
  });
});

describe('local CodePipeline: pipelines', () => {
  it('runs the S3 source, then a job for the custom action announced by a STARTED event, and ends with its result', async () => {
    const id = await startPipeline();
    const job = await takeJob();
    // The source object was copied into the artifact store under the pipeline's prefix.
    expect(copies).toEqual([{ bucket: 'src', key: 'hello.zip', to: { bucket: 'store-bucket', key: expect.stringMatching(/^p1\/SourceArti\/[0-9a-f]{7}$/) } }]);
    expect(actionEvents('STARTED')).toEqual([
      expect.objectContaining({
        source: 'aws.codepipeline',
        'detail-type': 'CodePipeline Action Execution State Change',
        resources: ['arn:aws:codepipeline:us-east-1:000000000000:p1'],
        detail: expect.objectContaining({ pipeline: 'p1', 'execution-id': id, stage: 'Build', action: 'Ec2', state: 'STARTED', type: TYPE }),
      }),
    ]);
    expect(job.data).toMatchObject({
      actionConfiguration: { configuration: { ImageId: 'ami-12345678', Command: 'make' } },
      inputArtifacts: [{ name: 'SourceArtifact', location: { type: 'S3', s3Location: { bucketName: 'store-bucket', objectKey: copies[0].to.key } } }],
      outputArtifacts: [{ name: 'BuildOutput', location: { type: 'S3', s3Location: { bucketName: 'store-bucket', objectKey: expect.stringMatching(/^p1\/BuildOutpu\//) } } }],
      artifactCredentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' },
      pipelineContext: { pipelineName: 'p1', stage: { name: 'Build' }, action: { name: 'Ec2' }, pipelineExecutionId: id },
      encryptionKey: { id: 'alias/key', type: 'KMS' },
    });
    expect(await status(id)).toBe('InProgress');
    await client.send(new PutJobSuccessResultCommand({ jobId: job.id!, executionDetails: { externalExecutionId: 'arn:aws:states:us-east-1:000000000000:execution:sm:x', summary: 'built' } }));
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Succeeded');
    expect(await buildAction(id)).toMatchObject({ status: 'Succeeded', output: { executionResult: { externalExecutionId: 'arn:aws:states:us-east-1:000000000000:execution:sm:x' } } });
    const state = await client.send(new GetPipelineStateCommand({ name: 'p1' }));
    expect(state.stageStates?.[1]).toMatchObject({ stageName: 'Build', latestExecution: { status: 'Succeeded' }, actionStates: [{ actionName: 'Ec2', latestExecution: { status: 'Succeeded' } }] });
    expect(actionEvents('SUCCEEDED')).toHaveLength(1);
  });

  it('fails the action, stage and execution with the job failure', async () => {
    const id = await startPipeline();
    const job = await takeJob();
    await client.send(new PutJobFailureResultCommand({ jobId: job.id!, failureDetails: { type: 'JobFailed', message: 'exit 2' } }));
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Failed');
    expect(await buildAction(id)).toMatchObject({ status: 'Failed', output: { executionResult: { errorDetails: { code: 'JobFailed', message: 'exit 2' } } } });
  });

  it('fails the action execution when its job times out, and refuses the late result', async () => {
    jobs.jobTimeoutMs = 150;
    const id = await startPipeline();
    const job = await takeJob();
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Failed');
    expect(actionEvents('FAILED')).toHaveLength(1);
    await expect(client.send(new PutJobSuccessResultCommand({ jobId: job.id! }))).rejects.toMatchObject({ name: 'InvalidJobStateException' });
  });

  it.each([false, true])('keeps the action in progress through continuation jobs (STARTED again: %s), counting them', async (again) => {
    pipelines.emitStartedOnContinuation = again;
    const id = await startPipeline();
    const first = await takeJob();
    await client.send(new PutJobSuccessResultCommand({ jobId: first.id!, continuationToken: 'token-1' }));
    const second = await takeJob();
    expect(second.data?.continuationToken).toBe('token-1');
    expect(second.data?.pipelineContext?.action?.actionExecutionId).toBe(first.data?.pipelineContext?.action?.actionExecutionId);
    expect((await buildAction(id)).status).toBe('InProgress');
    expect(actionEvents('STARTED')).toHaveLength(again ? 2 : 1);
    expect(jobs.continuations.get((await buildAction(id)).actionExecutionId!)).toBe(1);
    await client.send(new PutJobSuccessResultCommand({ jobId: second.id! }));
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Succeeded');
  });

  it.each([true, false])('"Stop and abandon" abandons the action and its job (ABANDONED event: %s)', async (emits) => {
    pipelines.emitAbandoned = emits;
    const id = await startPipeline();
    const job = await takeJob();
    await client.send(new StopPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: id, abandon: true, reason: 'test' }));
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Stopped');
    expect((await buildAction(id)).status).toBe('Abandoned');
    expect(actionEvents('ABANDONED')).toHaveLength(emits ? 1 : 0);
    await expect(client.send(new PutJobSuccessResultCommand({ jobId: job.id! }))).rejects.toMatchObject({ name: 'InvalidJobStateException' });
    await expect(client.send(new StopPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: id, abandon: true }))).rejects.toMatchObject({ name: 'PipelineExecutionNotStoppableException' });
  });

  it('"Stop and wait" lets the running action finish, then stops the execution; a second stop-and-wait is a duplicate', async () => {
    const id = await startPipeline();
    const job = await takeJob();
    await client.send(new StopPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: id }));
    expect(await status(id)).toBe('Stopping');
    await expect(client.send(new StopPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: id }))).rejects.toMatchObject({ name: 'DuplicatedStopRequestException' });
    await client.send(new PutJobSuccessResultCommand({ jobId: job.id! }));
    await pipelines.execution('p1', id).done;
    expect(await status(id)).toBe('Stopped');
    expect((await buildAction(id)).status).toBe('Succeeded');
    expect(actionEvents('ABANDONED')).toHaveLength(0);
  });

  it('runs one execution per stage: a newer one waits at the stage, and one overtaken while waiting is Superseded', async () => {
    const first = await startPipeline();
    const job = await takeJob();
    const start = async () => (await client.send(new StartPipelineExecutionCommand({ name: 'p1' }))).pipelineExecutionId!;
    const second = await start();
    await until(async () => (copies.length === 2 ? true : undefined));
    const third = await start();
    await pipelines.execution('p1', second).done;
    expect(await status(second)).toBe('Superseded');
    // Only the first has a build job until it leaves the stage; then the third goes in.
    expect((await client.send(new PollForJobsCommand({ actionTypeId: TYPE }))).jobs).toEqual([]);
    await client.send(new PutJobSuccessResultCommand({ jobId: job.id! }));
    await pipelines.execution('p1', first).done;
    const next = await takeJob();
    expect(next.data?.pipelineContext?.pipelineExecutionId).toBe(third);
    await client.send(new StopPipelineExecutionCommand({ pipelineName: 'p1', pipelineExecutionId: third, abandon: true }));
    await pipelines.execution('p1', third).done;
    expect([await status(first), await status(third)]).toEqual(['Succeeded', 'Stopped']);
  });

  it('refuses declarations CodePipeline refuses', async () => {
    const refuse = (p: PipelineDeclaration) => client.send(new CreatePipelineCommand({ pipeline: p }));
    await expect(refuse(declaration('a', { actionTypeId: { ...TYPE, provider: 'Nope' } }))).rejects.toMatchObject({ name: 'InvalidActionDeclarationException' });
    await expect(refuse(declaration('b', { configuration: { ImageId: 'ami-12345678' } }))).rejects.toMatchObject({ name: 'InvalidActionDeclarationException' });
    await expect(refuse(declaration('c', { inputArtifacts: [{ name: 'Missing' }] }))).rejects.toMatchObject({ name: 'InvalidStructureException' });
    await expect(refuse({ ...declaration('d'), roleArn: 'arn:aws:iam::000000000000:role/other' })).rejects.toMatchObject({ name: 'InvalidStructureException' });
    await refuse(declaration('e'));
    await expect(refuse(declaration('e'))).rejects.toMatchObject({ name: 'PipelineNameInUseException' });
    await expect(client.send(new StartPipelineExecutionCommand({ name: 'absent' }))).rejects.toMatchObject({ name: 'PipelineNotFoundException' });
  });
});
