import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error';
import type { Chaos } from './chaos';
import { serveJsonProtocol, type LocalServer } from './http';

interface ActionTypeId {
  category: string;
  owner: string;
  provider: string;
  version: string;
}

/** What a job worker reported for a job. */
export type JobResult =
  | { status: 'Succeeded'; executionDetails: Record<string, unknown> }
  | { status: 'Failed'; failureDetails: { type: string; message: string; externalExecutionId?: string } };

interface StoredJob {
  id: string;
  actionTypeId: ActionTypeId;
  data: Record<string, unknown>;
  nonce: string;
  status: 'Queued' | 'Dispatched' | 'InProgress' | 'Succeeded' | 'Failed' | 'Abandoned';
  results: JobResult[];
  waiters: ((r: JobResult) => void)[];
}

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
  chaos: Chaos = {};
  /** Every result call received, including refused ones: the invariant is exactly one accepted. */
  readonly resultCalls = new Map<string, number>();

  /** @param dispatchTimeoutMs how long a polled job waits for its acknowledgement before CodePipeline offers it again */
  constructor(private readonly dispatchTimeoutMs = 2000) {}

  async start(): Promise<string> {
    this.server = await serveJsonProtocol('CodePipeline', {
      PollForJobs: (b) => this.poll(b),
      AcknowledgeJob: (b) => this.acknowledge(b),
      GetJobDetails: (b) => this.details(b),
      PutJobSuccessResult: (b) => this.putResult(String(b.jobId), { status: 'Succeeded', executionDetails: (b.executionDetails ?? {}) as Record<string, unknown> }),
      PutJobFailureResult: (b) => this.putResult(String(b.jobId), { status: 'Failed', failureDetails: b.failureDetails as never }),
    }, 'application/x-amz-json-1.1');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.server?.close();
  }

  /** Queues a job, as CodePipeline does when a pipeline reaches the action. */
  createJob(actionTypeId: ActionTypeId, data: Record<string, unknown>): string {
    const id = randomUUID();
    this.jobs.set(id, { id, actionTypeId, data, nonce: randomUUID(), status: 'Queued', results: [], waiters: [] });
    return id;
  }

  /** Resolves with the job's first result. */
  waitForResult(jobId: string): Promise<JobResult> {
    const job = this.get(jobId);
    if (job.results[0]) return Promise.resolve(job.results[0]);
    return new Promise((resolve) => job.waiters.push(resolve));
  }

  results(jobId: string): JobResult[] {
    return this.get(jobId).results;
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
      // Not acknowledged in time: offered again, with a new nonce.
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (j.status === 'Dispatched') {
          j.status = 'Queued';
          j.nonce = randomUUID();
        }
      }, this.dispatchTimeoutMs);
      this.timers.add(t);
    }
    return { jobs: batch.map((j) => ({ id: j.id, data: j.data, nonce: j.nonce, accountId: '000000000000' })) };
  }

  /** "Stop and abandon": the job ends; results reported after this are refused. */
  abandon(jobId: string): void {
    const job = this.get(jobId);
    if (job.status === 'Succeeded' || job.status === 'Failed' || job.status === 'Abandoned') return;
    job.status = 'Abandoned';
    const result: JobResult = { status: 'Failed', failureDetails: { type: 'Abandoned', message: 'The pipeline execution was stopped and abandoned.' } };
    job.results.push(result);
    for (const w of job.waiters.splice(0)) w(result);
  }

  private throttled(operation: string, jobId: string): void {
    if (this.chaos.throttle?.('codepipeline', operation, jobId)) throw new AwsError('ThrottlingException', 'Rate exceeded');
  }

  private acknowledge(body: Record<string, unknown>) {
    this.throttled('AcknowledgeJob', String(body.jobId));
    const job = this.get(String(body.jobId));
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
    job.results.push(result);
    for (const w of job.waiters.splice(0)) w(result);
    return {};
  }
}
