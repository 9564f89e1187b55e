import { randomBytes, randomUUID } from 'node:crypto';
import type { JobEnd, LocalCodePipeline } from './codepipeline';
import { S3_SOURCE, type ActionDeclaration, type ActionTypeId, type PipelineDeclaration } from './pipeline-structure';
import type { StageGate } from './stage-gate';

/**
 * One pipeline execution, as CodePipeline runs it: stage after stage, each action an action
 * execution. The S3 source copies the source object into the artifact store; a custom action is a
 * job for the job workers, announced by a STARTED "CodePipeline Action Execution State Change"
 * event, and moved on by the job's end (result, continuation, timeout, abandon).
 */

/** ActionExecution.status (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecution.html). */
export type ActionStatus = 'InProgress' | 'Abandoned' | 'Succeeded' | 'Failed';
/** PipelineExecution.status (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html). */
export type PipelineStatus = 'Cancelled' | 'InProgress' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Superseded' | 'Failed';
/** StageExecution.status (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StageExecution.html). */
export type StageStatus = 'Cancelled' | 'InProgress' | 'Failed' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Skipped';

export interface ArtifactRef {
  readonly name: string;
  readonly bucketName: string;
  readonly objectKey: string;
  readonly revision?: string;
}

export interface ActionExecutionRecord {
  readonly actionExecutionId: string;
  readonly pipelineExecutionId: string;
  readonly pipelineVersion: number;
  readonly stageName: string;
  readonly actionName: string;
  readonly actionTypeId: ActionTypeId;
  readonly configuration: Record<string, string>;
  readonly inputArtifacts: ArtifactRef[];
  readonly outputArtifacts: ArtifactRef[];
  readonly startTime: Date;
  lastUpdateTime: Date;
  status: ActionStatus;
  /** Every job the action went through: the first, then one per continuation. */
  readonly jobIds: string[];
  externalExecutionId?: string;
  summary?: string;
  errorDetails?: { code: string; message: string };
  finish?: () => void;
}

export interface PipelineExecutionRecord {
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly pipelineExecutionId: string;
  readonly startTime: Date;
  lastUpdateTime: Date;
  status: PipelineStatus;
  statusSummary?: string;
  readonly stages: Map<string, StageStatus>;
  readonly actions: ActionExecutionRecord[];
  stopRequest?: { abandon: boolean; reason?: string };
  done?: Promise<void>;
}

/** What a run needs from the rest of the local cloud. */
export interface RunContext {
  readonly jobs: LocalCodePipeline;
  /** Puts an event on the default bus. */
  readonly emit: (event: Record<string, unknown>) => void;
  /** Copies the source object into the artifact store as the pipeline's role; returns its version, throws when it cannot. */
  readonly copySource: (roleArn: string, bucket: string, key: string, to: { bucket: string; key: string }) => Promise<string>;
  /** Throws when the pipeline's role cannot give a job's artifact credentials what the job needs (its inputs, its outputs). */
  readonly authorizeJob?: (roleArn: string, inputs: { bucket: string; key: string }[], outputs: { bucket: string; key: string }[]) => Promise<void>;
  /** Artifact credentials for a job (S3 credentials scoped to the artifact store, on AWS). */
  readonly artifactCredentials: () => Record<string, string>;
  readonly region: string;
  readonly account: string;
  /** One execution per stage at a time (SUPERSEDED mode). */
  readonly stages: StageGate;
  /**
   * Whether "Stop and abandon" emits an ABANDONED action event for a custom action: not documented,
   * so the product must work both ways.
   */
  readonly emitsAbandoned: () => boolean;
  /**
   * Whether a continuation job gets a STARTED event of its own: not documented; by default it does
   * not, so the continuation job is found by the poller's safety-net poll.
   */
  readonly emitsStartedOnContinuation: () => boolean;
}

/**
 * Object key CodePipeline gives an artifact: the pipeline name (up to 20 characters), the artifact
 * name (up to 10) and a random name (https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts.html#concepts-artifacts).
 */
function artifactKey(pipelineName: string, artifactName: string): string {
  return `${pipelineName.slice(0, 20)}/${artifactName.slice(0, 10)}/${randomBytes(4).toString('hex').slice(0, 7)}`;
}

export class PipelineRun {
  private readonly artifacts = new Map<string, ArtifactRef>();
  private readonly store: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly pipeline: PipelineDeclaration,
    readonly execution: PipelineExecutionRecord,
    private readonly pipelineArn: string,
    private readonly onActionStarted: (record: ActionExecutionRecord) => void = () => undefined,
  ) {
    this.store = pipeline.artifactStore!.location;
  }

  /**
   * The action event, with the detail fields of the EventBridge reference
   * (https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html).
   */
  emit(action: ActionExecutionRecord, state: 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'ABANDONED' | 'CANCELED'): void {
    this.ctx.emit({
      version: '0',
      id: randomUUID(),
      'detail-type': 'CodePipeline Action Execution State Change',
      source: 'aws.codepipeline',
      account: this.ctx.account,
      time: new Date().toISOString(),
      region: this.ctx.region,
      resources: [this.pipelineArn],
      detail: {
        pipeline: this.execution.pipelineName,
        version: this.execution.pipelineVersion,
        'execution-id': this.execution.pipelineExecutionId,
        stage: action.stageName,
        action: action.actionName,
        state,
        region: this.ctx.region,
        type: { ...action.actionTypeId },
      },
    });
  }

  /** Runs every stage in order; the execution ends Succeeded, Failed or Stopped. */
  async run(): Promise<void> {
    const e = this.execution;
    for (const stage of this.pipeline.stages) {
      if (e.stopRequest) break;
      if (!(await this.ctx.stages.enter(e.pipelineName, stage.name, e.pipelineExecutionId))) {
        e.status = e.stopRequest ? 'Stopped' : 'Superseded';
        e.lastUpdateTime = new Date();
        return;
      }
      e.stages.set(stage.name, 'InProgress');
      const ordered = [...stage.actions].sort((a, b) => (a.runOrder ?? 1) - (b.runOrder ?? 1));
      let status: StageStatus = 'Succeeded';
      for (const action of ordered) {
        const record = await this.runAction(stage.name, action);
        if (record.status !== 'Succeeded') {
          status = record.status === 'Abandoned' ? 'Stopped' : 'Failed';
          break;
        }
      }
      if (e.stopRequest && status === 'Succeeded') status = 'Stopped';
      e.stages.set(stage.name, status);
      this.ctx.stages.leave(e.pipelineName, stage.name, e.pipelineExecutionId);
      if (status !== 'Succeeded') break;
    }
    const stages = [...e.stages.values()];
    e.status = e.stopRequest ? 'Stopped' : stages.includes('Failed') ? 'Failed' : 'Succeeded';
    e.lastUpdateTime = new Date();
  }

  private async runAction(stageName: string, declaration: ActionDeclaration): Promise<ActionExecutionRecord> {
    const now = new Date();
    const record: ActionExecutionRecord = {
      actionExecutionId: randomUUID(),
      pipelineExecutionId: this.execution.pipelineExecutionId,
      pipelineVersion: this.execution.pipelineVersion,
      stageName,
      actionName: declaration.name,
      actionTypeId: declaration.actionTypeId,
      configuration: { ...(declaration.configuration ?? {}) },
      inputArtifacts: (declaration.inputArtifacts ?? []).map((a) => this.artifacts.get(a.name)!),
      outputArtifacts: (declaration.outputArtifacts ?? []).map((a) => ({ name: a.name, bucketName: this.store, objectKey: artifactKey(this.execution.pipelineName, a.name) })),
      startTime: now,
      lastUpdateTime: now,
      status: 'InProgress',
      jobIds: [],
    };
    this.execution.actions.push(record);
    this.onActionStarted(record);
    const ended = new Promise<void>((resolve) => (record.finish = resolve));
    this.emit(record, 'STARTED');
    if (declaration.actionTypeId.owner === S3_SOURCE.owner && declaration.actionTypeId.provider === S3_SOURCE.provider) await this.runS3Source(record);
    else await this.startJob(record);
    await ended;
    for (const a of record.outputArtifacts) this.artifacts.set(a.name, a);
    return record;
  }

  private async runS3Source(record: ActionExecutionRecord): Promise<void> {
    const out = record.outputArtifacts[0];
    try {
      const revision = await this.ctx.copySource(this.pipeline.roleArn, record.configuration.S3Bucket, record.configuration.S3ObjectKey, { bucket: out.bucketName, key: out.objectKey });
      record.outputArtifacts[0] = { ...out, revision };
      this.end(record, 'Succeeded');
    } catch (err) {
      this.end(record, 'Failed', { code: 'JobFailed', message: (err as Error).message });
    }
  }

  /** The job data a job worker gets (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_JobData.html). */
  private async startJob(record: ActionExecutionRecord): Promise<void> {
    const s3 = (a: ArtifactRef) => ({ bucket: a.bucketName, key: a.objectKey });
    try {
      await this.ctx.authorizeJob?.(this.pipeline.roleArn, record.inputArtifacts.map(s3), record.outputArtifacts.map(s3));
    } catch (err) {
      return this.end(record, 'Failed', { code: 'JobFailed', message: (err as Error).message });
    }
    const location = (a: ArtifactRef) => ({
      name: a.name,
      ...(a.revision ? { revision: a.revision } : {}),
      location: { type: 'S3', s3Location: { bucketName: a.bucketName, objectKey: a.objectKey } },
    });
    const key = this.pipeline.artifactStore!.encryptionKey;
    const data = {
      actionTypeId: { ...record.actionTypeId },
      actionConfiguration: { configuration: record.configuration },
      pipelineContext: {
        pipelineName: this.execution.pipelineName,
        stage: { name: record.stageName },
        action: { name: record.actionName, actionExecutionId: record.actionExecutionId },
        pipelineArn: this.pipelineArn,
        pipelineExecutionId: this.execution.pipelineExecutionId,
      },
      inputArtifacts: record.inputArtifacts.map(location),
      outputArtifacts: record.outputArtifacts.map(location),
      artifactCredentials: this.ctx.artifactCredentials(),
      ...(key ? { encryptionKey: { id: key.id, type: key.type } } : {}),
    };
    record.jobIds.push(this.ctx.jobs.createJob(record.actionTypeId, data, record.actionExecutionId));
  }

  /** A job of this run's action ended. */
  jobEnded(record: ActionExecutionRecord, end: JobEnd): void {
    if (record.status !== 'InProgress') return;
    if (end.kind === 'continued') {
      record.jobIds.push(end.nextJobId);
      record.lastUpdateTime = new Date();
      if (this.ctx.emitsStartedOnContinuation()) this.emit(record, 'STARTED');
    } else if (end.kind === 'timedOut') {
      this.end(record, 'Failed', { code: 'JobFailed', message: 'The job timed out: the job worker reported no result in time.' });
    } else if (end.kind === 'abandoned') {
      this.abandon(record);
    } else if (end.result.status === 'Succeeded') {
      const details = end.result.executionDetails as { externalExecutionId?: string; summary?: string };
      record.externalExecutionId = details.externalExecutionId;
      record.summary = details.summary;
      this.end(record, 'Succeeded');
    } else {
      record.externalExecutionId = end.result.failureDetails.externalExecutionId;
      this.end(record, 'Failed', { code: end.result.failureDetails.type, message: end.result.failureDetails.message });
    }
  }

  /** "Stop and abandon": the action execution is Abandoned; its job refuses results from now on. */
  abandon(record: ActionExecutionRecord): void {
    if (record.status !== 'InProgress') return;
    record.status = 'Abandoned';
    record.lastUpdateTime = new Date();
    const job = record.jobIds[record.jobIds.length - 1];
    if (job) this.ctx.jobs.abandon(job);
    if (this.ctx.emitsAbandoned()) this.emit(record, 'ABANDONED');
    record.finish?.();
  }

  private end(record: ActionExecutionRecord, status: 'Succeeded' | 'Failed', errorDetails?: { code: string; message: string }): void {
    record.status = status;
    record.errorDetails = errorDetails;
    record.lastUpdateTime = new Date();
    this.emit(record, status === 'Succeeded' ? 'SUCCEEDED' : 'FAILED');
    record.finish?.();
  }
}
