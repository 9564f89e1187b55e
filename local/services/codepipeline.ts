import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error';
import { gated, type ApiThrottle } from './api-throttle';
import type { Chaos } from './chaos';
import { handMadeOperations, type HandMadeJob } from './hand-made-pipelines';
import { serveJsonProtocol, type LocalServer, type Operation } from './http';

interface ActionTypeId {
  category: string;
  owner: string;
  provider: string;
  version: string;
}

/** What a job worker reported for a job (or, for `ended`, how CodePipeline ended it). */
export type JobResult =
  | { status: 'Succeeded'; executionDetails: Record<string, unknown>; continuationToken?: string; outputVariables?: Record<string, string> }
  | { status: 'Failed'; failureDetails: { type: string; message: string; externalExecutionId?: string } };

/**
 * How a job ended, for the action execution it belongs to: a final result, a continuation (a new
 * job for the same action execution), a timeout, or "Stop and abandon".
 */
export type JobEnd =
  | { kind: 'result'; result: JobResult }
  | { kind: 'continued'; result: JobResult; nextJobId: string }
  | { kind: 'timedOut' }
  | { kind: 'abandoned' };

/** JobStatus (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Job.html -> JobDetails, AcknowledgeJob's status). */
type JobStatus = 'Queued' | 'Dispatched' | 'InProgress' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Abandoned';

interface StoredJob {
  id: string;
  actionTypeId: ActionTypeId;
  data: Record<string, unknown>;
  nonce: string;
  status: JobStatus;
  /** Results a job worker reported and CodePipeline accepted (the invariant: exactly one per job). */
  results: JobResult[];
  /** How CodePipeline ended a job no worker reported on (timeout): waiters get this. */
  ended?: JobResult;
  waiters: ((r: JobResult) => void)[];
  /** The action execution the job is for (one action execution can go through several jobs). */
  actionExecutionId: string;
  timeout?: NodeJS.Timeout;
  created: Date;
  /** When it ended (result, abandon, timeout): its action execution's lastUpdateTime. */
  endedAt?: Date;
  /** How many polls took it (PollForJobs returned it): each offer of it that a job worker took. */
  takes: number;
}

/**
 * How long a job may stay unfinished before CodePipeline times it out. The quotas page says
 * "All other actions: 1 hour" for non-configurable action timeouts
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html); other editions of the
 * same page say "Custom actions: 24 hours" (https://docs.amazonaws.cn/codepipeline/latest/userguide/limits.html),
 * and ActionTypeExecutor.jobTimeout allows 60 to 43200 s
 * per job (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionTypeExecutor.html).
 * The strict reading (1 hour) is the default; the product renews jobs with continuation tokens so it
 * works under either, and tests shorten it.
 */
export const JOB_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * The CodePipeline job-worker API, locally: PollForJobs (matching action type only),
 * AcknowledgeJob (nonce checked), GetJobDetails, PutJobSuccessResult and PutJobFailureResult
 * (a second result is InvalidJobStateException, as on AWS).
 */
export class LocalCodePipeline {
  private readonly jobs = new Map<string, StoredJob>();
  private server?: LocalServer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly detailCalls = new Map<string, number>();
  private readonly acknowledgeCalls = new Map<string, number>();
  chaos: Chaos = {};
  /** Every result call received, including refused ones: the invariant is exactly one accepted. */
  readonly resultCalls = new Map<string, number>();
  /** Per-job timeout, from the job's creation (JOB_TIMEOUT_MS unless a test or fault shortens it). */
  jobTimeoutMs = JOB_TIMEOUT_MS;
  /** Continuation jobs created per action execution (renewals). */
  readonly continuations = new Map<string, number>();
  /** Told when a job ends: the pipeline service moves its action execution on (local/services/pipelines.ts). */
  onJobEnd?: (jobId: string, actionExecutionId: string, end: JobEnd) => void;
  /** Operations served beside the job-worker API on the same endpoint (the pipeline API). */
  private readonly operations: Record<string, Operation> = {};
  /** The pipeline API's own operations (what `serve` added). */
  private readonly pipelineApi: Record<string, Operation> = {};
  /** Action executions of jobs made by hand (createJob without one): hand-made-pipelines.ts answers for them. */
  private readonly handMadeActions = new Set<string>();
  private readonly handMade = handMadeOperations(
    () => [...this.jobs.values()].filter((j): j is StoredJob & HandMadeJob => this.handMadeActions.has(j.actionExecutionId)),
    this.pipelineApi,
  );

  /**
   * @param dispatchTimeoutMs how long a polled job waits for its acknowledgement before CodePipeline offers it again
   * @param throttle the account's CodePipeline buckets (./api-throttle.ts, quotas in ./api-quotas.ts): every request,
   * job-worker or pipeline API, takes its token first; an operation without a quota is refused when served. The
   * local cloud always gives them; a bare LocalCodePipeline in a service test throttles only when given them.
   */
  constructor(
    private readonly dispatchTimeoutMs = 2000,
    readonly throttle?: ApiThrottle,
  ) {}

  /** Adds operations to the CodePipeline endpoint (served from the next request on, before or after start). */
  serve(operations: Record<string, Operation>): void {
    // The endpoint looks operations up in this object at each request. The hand-made operations fall back to the
    // pipeline API's own (ungated) ones: one request, one token.
    Object.assign(this.pipelineApi, operations);
    Object.assign(this.operations, gated(this.throttle, { ...operations, ...this.handMade }));
  }

  async start(): Promise<string> {
    const jobApi: Record<string, Operation> = {
      PollForJobs: (b) => this.poll(b),
      AcknowledgeJob: (b) => this.acknowledge(b),
      GetJobDetails: (b) => this.details(b),
      PutJobSuccessResult: (b) =>
        this.putResult(String(b.jobId), {
          status: 'Succeeded',
          executionDetails: (b.executionDetails ?? {}) as Record<string, unknown>,
          ...(typeof b.continuationToken === 'string' ? { continuationToken: b.continuationToken } : {}),
          ...(b.outputVariables !== undefined ? { outputVariables: b.outputVariables as Record<string, string> } : {}),
        }),
      PutJobFailureResult: (b) => this.putResult(String(b.jobId), { status: 'Failed', failureDetails: b.failureDetails as never }),
    };
    this.server = await serveJsonProtocol('CodePipeline', Object.assign(this.operations, gated(this.throttle, { ...jobApi, ...this.handMade })), 'application/x-amz-json-1.1');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.server?.close();
  }

  /**
   * Queues a job, as CodePipeline does when a pipeline reaches the action; it times out after
   * jobTimeoutMs unless a result ends it first. `actionExecutionId` names the action execution the
   * job is for (a fresh one when omitted: a job made by hand is its own action execution).
   */
  createJob(actionTypeId: ActionTypeId, data: Record<string, unknown>, actionExecutionId?: string): string {
    const id = randomUUID();
    if (actionExecutionId === undefined) this.handMadeActions.add((actionExecutionId = randomUUID()));
    const job: StoredJob = { id, actionTypeId, data, nonce: randomUUID(), status: 'Queued', results: [], waiters: [], actionExecutionId, created: new Date(), takes: 0 };
    this.jobs.set(id, job);
    job.timeout = setTimeout(() => {
      this.timers.delete(job.timeout!);
      this.timeOut(id);
    }, this.jobTimeoutMs);
    this.timers.add(job.timeout);
    return id;
  }

  /** A job that ended needs its timeout no more. */
  private settle(job: StoredJob): void {
    job.endedAt = new Date();
    if (!job.timeout) return;
    clearTimeout(job.timeout);
    this.timers.delete(job.timeout);
    job.timeout = undefined;
  }

  /** A job still unfinished at its timeout is TimedOut: a late result is refused (putResult's state check). */
  private timeOut(jobId: string): void {
    const job = this.get(jobId);
    if (job.status !== 'Queued' && job.status !== 'Dispatched' && job.status !== 'InProgress') return;
    job.status = 'TimedOut';
    job.endedAt = new Date();
    job.ended = { status: 'Failed', failureDetails: { type: 'JobFailed', message: `The job timed out after ${this.jobTimeoutMs} ms without a result.` } };
    for (const w of job.waiters.splice(0)) w(job.ended);
    this.onJobEnd?.(jobId, job.actionExecutionId, { kind: 'timedOut' });
  }

  /** Resolves with the job's first result, or how CodePipeline ended it (timeout). */
  waitForResult(jobId: string): Promise<JobResult> {
    const job = this.get(jobId);
    const known = job.results[0] ?? job.ended;
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => job.waiters.push(resolve));
  }

  /** The job's status, as AcknowledgeJob would report it. */
  statusOf(jobId: string): JobStatus {
    return this.get(jobId).status;
  }

  /** How many polls took the job so far (one for each offer a job worker took). */
  takesOf(jobId: string): number {
    return this.get(jobId).takes;
  }

  /** The job's data, as GetJobDetails gives it. */
  dataOf(jobId: string): Record<string, unknown> {
    return this.get(jobId).data;
  }

  results(jobId: string): JobResult[] {
    return this.get(jobId).results;
  }

  /**
   * What the action showed while it ran: the summary of each renewal (a success with a continuation token) of the
   * action execution the job belongs to, oldest first, as the console shows the latest of them.
   */
  progressSummaries(jobId: string): string[] {
    const { actionExecutionId } = this.get(jobId);
    return [...this.jobs.values()]
      .filter((j) => j.actionExecutionId === actionExecutionId)
      .sort((a, b) => a.created.getTime() - b.created.getTime())
      .flatMap((j) => j.results)
      .filter((r) => r.status === 'Succeeded' && r.continuationToken !== undefined)
      .map((r) => String((r as { executionDetails: Record<string, unknown> }).executionDetails.summary ?? ''));
  }

  private get(jobId: string): StoredJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new AwsError('JobNotFoundException', `The job was specified in an invalid format or cannot be found: ${jobId}`);
    return job;
  }

  private poll(body: Record<string, unknown>) {
    const want = body.actionTypeId as ActionTypeId;
    const max = Number(body.maxBatchSize ?? 1);
    const matching = [...this.jobs.values()].filter(
      (j) =>
        j.status === 'Queued' &&
        j.actionTypeId.owner === want.owner &&
        j.actionTypeId.category === want.category &&
        j.actionTypeId.provider === want.provider &&
        j.actionTypeId.version === want.version,
    );
    const batch = matching.slice(0, max);
    for (const j of batch) {
      j.status = 'Dispatched';
      j.takes += 1;
      // Not acknowledged in time: offered again, with a new nonce (only this dispatch's: an offer made since has its own timer).
      const nonce = j.nonce;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (j.status === 'Dispatched' && j.nonce === nonce) this.offerAgain(j);
      }, this.dispatchTimeoutMs);
      this.timers.add(t);
    }
    return { jobs: batch.map((j) => ({ id: j.id, data: j.data, nonce: j.nonce, accountId: '000000000000' })) };
  }

  /** Offered again, with a new nonce: the old nonce's AcknowledgeJob is refused with InvalidNonceException. */
  private offerAgain(job: StoredJob): void {
    job.status = 'Queued';
    job.nonce = randomUUID();
  }

  /** "Stop and abandon": the job ends; results reported after this are refused. */
  abandon(jobId: string): void {
    const job = this.get(jobId);
    if (job.status === 'Succeeded' || job.status === 'Failed' || job.status === 'Abandoned') return;
    job.status = 'Abandoned';
    this.settle(job);
    const result: JobResult = { status: 'Failed', failureDetails: { type: 'Abandoned', message: 'The pipeline execution was stopped and abandoned.' } };
    job.results.push(result);
    for (const w of job.waiters.splice(0)) w(result);
    this.onJobEnd?.(jobId, job.actionExecutionId, { kind: 'abandoned' });
  }

  private throttled(operation: string, jobId: string): void {
    if (this.chaos.throttle?.('codepipeline', operation, jobId)) throw new AwsError('ThrottlingException', 'Rate exceeded');
  }

  private acknowledge(body: Record<string, unknown>) {
    this.throttled('AcknowledgeJob', String(body.jobId));
    const job = this.get(String(body.jobId));
    const call = (this.acknowledgeCalls.get(job.id) ?? 0) + 1;
    this.acknowledgeCalls.set(job.id, call);
    if (job.status === 'Dispatched' && this.chaos.offeredAgain?.(job.id, call)) this.offerAgain(job);
    if (body.nonce !== job.nonce) throw new AwsError('InvalidNonceException', 'The nonce was specified in an invalid format.');
    if (job.status === 'Dispatched') job.status = 'InProgress';
    return { status: job.status };
  }

  private details(body: Record<string, unknown>) {
    this.throttled('GetJobDetails', String(body.jobId));
    const job = this.get(String(body.jobId));
    const call = (this.detailCalls.get(job.id) ?? 0) + 1;
    this.detailCalls.set(job.id, call);
    let data = job.data;
    if (this.chaos.badCredentials?.(job.id, call)) {
      const credentials = data.artifactCredentials as Record<string, string>;
      data = { ...data, artifactCredentials: { ...credentials, secretAccessKey: 'revoked-or-expired' } };
    }
    return { jobDetails: { id: job.id, data, accountId: '000000000000' } };
  }

  private putResult(jobId: string, result: JobResult) {
    this.throttled('PutJobResult', jobId);
    this.resultCalls.set(jobId, (this.resultCalls.get(jobId) ?? 0) + 1);
    const job = this.get(jobId);
    if (job.status !== 'InProgress') {
      throw new AwsError('InvalidJobStateException', `The job state was specified in an invalid format (job is ${job.status}).`);
    }
    job.status = result.status;
    this.settle(job);
    job.results.push(result);
    for (const w of job.waiters.splice(0)) w(result);
    if (result.status === 'Succeeded' && result.continuationToken !== undefined) {
      this.onJobEnd?.(jobId, job.actionExecutionId, { kind: 'continued', result, nextJobId: this.continueJob(job, result.continuationToken) });
    } else {
      this.onJobEnd?.(jobId, job.actionExecutionId, { kind: 'result', result });
    }
    return {};
  }

  /**
   * A success with a continuation token does not end the action: CodePipeline creates a new job
   * (new id, new nonce) for the same action execution, whose data carries the token
   * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html:
   * the token "a successful job provides to identify a custom action in progress. Future jobs use
   * this token to identify the running instance of the action";
   * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_JobData.html continuationToken).
   * Whether the new job gets a STARTED event of its own is not documented: see pipelines.ts.
   */
  private continueJob(job: StoredJob, continuationToken: string): string {
    this.continuations.set(job.actionExecutionId, (this.continuations.get(job.actionExecutionId) ?? 0) + 1);
    return this.createJob(job.actionTypeId, { ...job.data, continuationToken }, job.actionExecutionId);
  }
}
