import { randomUUID } from 'node:crypto';
import { AwsError } from './aws-error';
import type { LocalCodePipeline } from './codepipeline';
import { PipelineRun, type ActionExecutionRecord, type PipelineExecutionRecord, type RunContext } from './pipeline-run';
import { checkDeclaration, type PipelineDeclaration, type RegisteredActionType } from './pipeline-structure';
import { StageGate } from './stage-gate';

type Body = Record<string, unknown>;

export interface PipelinesOptions extends Omit<RunContext, 'jobs' | 'stages' | 'emitsAbandoned' | 'emitsStartedOnContinuation'> {
  readonly actionTypes: readonly RegisteredActionType[];
  /**
   * Whether CodePipeline can assume the role (it exists and trusts codepipeline.amazonaws.com);
   * AWS refuses CreatePipeline otherwise. Absent: roles are not checked (no local IAM).
   */
  readonly roleAssumable?: (roleArn: string) => boolean;
}

interface StoredPipeline {
  readonly declaration: PipelineDeclaration & { version: number };
  readonly arn: string;
  readonly created: Date;
  readonly executions: PipelineExecutionRecord[];
  readonly runs: Map<string, PipelineRun>;
}

const seconds = (d: Date) => d.getTime() / 1000;

/**
 * The pipeline API of the local CodePipeline, served on its endpoint beside the job-worker API:
 * CreatePipeline, GetPipeline, DeletePipeline, StartPipelineExecution, GetPipelineExecution,
 * GetPipelineState, ListActionExecutions and StopPipelineExecution, each as its API reference
 * describes it (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Operations.html).
 */
export class LocalPipelines {
  private readonly pipelines = new Map<string, StoredPipeline>();
  private readonly byActionExecution = new Map<string, { run: PipelineRun; record: ActionExecutionRecord }>();
  /** See RunContext.emitsAbandoned: undocumented, so tests run both ways. */
  emitAbandoned = true;
  /** See RunContext.emitsStartedOnContinuation: undocumented; off by default (the safety-net poll finds the job). */
  emitStartedOnContinuation = false;
  private readonly ctx: RunContext;
  private readonly stageGate = new StageGate();

  constructor(
    jobs: LocalCodePipeline,
    private readonly options: PipelinesOptions,
  ) {
    this.ctx = { ...options, jobs, stages: this.stageGate, emitsAbandoned: () => this.emitAbandoned, emitsStartedOnContinuation: () => this.emitStartedOnContinuation };
    jobs.onJobEnd = (_jobId, actionExecutionId, end) => {
      const found = this.byActionExecution.get(actionExecutionId);
      if (found) found.run.jobEnded(found.record, end);
    };
    jobs.serve({
      CreatePipeline: (b) => this.create(b),
      GetPipeline: (b) => this.getPipeline(b),
      DeletePipeline: (b) => this.delete(b),
      StartPipelineExecution: (b) => this.start(b),
      GetPipelineExecution: (b) => this.getExecution(b),
      GetPipelineState: (b) => this.state(b),
      ListActionExecutions: (b) => this.listActionExecutions(b),
      StopPipelineExecution: (b) => this.stop(b),
    });
  }

  /** The pipeline's execution, for tests. */
  execution(pipelineName: string, pipelineExecutionId: string): PipelineExecutionRecord {
    return this.executionOf(this.get(pipelineName), pipelineExecutionId);
  }

  /** Names of the pipelines that exist (what a clean-up must leave empty). */
  names(): string[] {
    return [...this.pipelines.keys()];
  }

  private get(name: unknown): StoredPipeline {
    const p = this.pipelines.get(String(name));
    if (!p) throw new AwsError('PipelineNotFoundException', `Account '${this.options.account}' does not have a pipeline with name '${String(name)}'`);
    return p;
  }

  private executionOf(p: StoredPipeline, id: unknown): PipelineExecutionRecord {
    const e = p.executions.find((x) => x.pipelineExecutionId === id);
    if (!e) throw new AwsError('PipelineExecutionNotFoundException', `Pipeline execution with id '${String(id)}' does not exist in pipeline '${p.declaration.name}'`);
    return e;
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_CreatePipeline.html */
  private create(b: Body) {
    const declaration = b.pipeline as PipelineDeclaration;
    if (this.pipelines.has(declaration.name)) throw new AwsError('PipelineNameInUseException', `A pipeline with the name '${declaration.name}' already exists`);
    checkDeclaration(declaration, this.options.actionTypes);
    if (this.options.roleAssumable && !this.options.roleAssumable(declaration.roleArn)) {
      // CodePipeline checks that it can assume the service role when the pipeline is created.
      throw new AwsError('InvalidStructureException', `CodePipeline is not authorized to perform AssumeRole on role ${declaration.roleArn}`);
    }
    const stored: StoredPipeline = {
      declaration: { ...declaration, version: 1 },
      arn: `arn:aws:codepipeline:${this.options.region}:${this.options.account}:${declaration.name}`,
      created: new Date(),
      executions: [],
      runs: new Map(),
    };
    this.pipelines.set(declaration.name, stored);
    return { pipeline: stored.declaration, tags: b.tags ?? [] };
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipeline.html */
  private getPipeline(b: Body) {
    const p = this.get(b.name);
    return { pipeline: p.declaration, metadata: { pipelineArn: p.arn, created: seconds(p.created), updated: seconds(p.created) } };
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_DeletePipeline.html: no error for a pipeline that does not exist. */
  private delete(b: Body) {
    const p = this.pipelines.get(String(b.name));
    if (!p) return {};
    // Executions still running are abandoned with the pipeline.
    for (const run of p.runs.values()) for (const a of run.execution.actions) run.abandon(a);
    this.stageGate.forget(p.declaration.name);
    this.pipelines.delete(String(b.name));
    return {};
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StartPipelineExecution.html */
  private start(b: Body) {
    const p = this.get(b.name);
    const now = new Date();
    const execution: PipelineExecutionRecord = {
      pipelineName: p.declaration.name,
      pipelineVersion: p.declaration.version,
      pipelineExecutionId: randomUUID(),
      startTime: now,
      lastUpdateTime: now,
      status: 'InProgress',
      stages: new Map(),
      actions: [],
    };
    p.executions.unshift(execution);
    // Each action execution is indexed as it starts, so that its jobs' ends find it.
    const run: PipelineRun = new PipelineRun(this.ctx, p.declaration, execution, p.arn, (record) => this.byActionExecution.set(record.actionExecutionId, { run, record }));
    p.runs.set(execution.pipelineExecutionId, run);
    execution.done = run.run();
    return { pipelineExecutionId: execution.pipelineExecutionId };
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html */
  private getExecution(b: Body) {
    const e = this.executionOf(this.get(b.pipelineName), b.pipelineExecutionId);
    return {
      pipelineExecution: {
        pipelineName: e.pipelineName,
        pipelineVersion: e.pipelineVersion,
        pipelineExecutionId: e.pipelineExecutionId,
        status: e.status,
        ...(e.statusSummary ? { statusSummary: e.statusSummary } : {}),
        artifactRevisions: [],
        trigger: { triggerType: 'StartPipelineExecution' },
        executionMode: 'SUPERSEDED',
      },
    };
  }

  /** https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html */
  private state(b: Body) {
    const p = this.get(b.name);
    const stageStates = p.declaration.stages.map((stage) => {
      const latest = p.executions.find((e) => e.stages.has(stage.name));
      return {
        stageName: stage.name,
        inboundTransitionState: { enabled: true },
        ...(latest ? { latestExecution: { pipelineExecutionId: latest.pipelineExecutionId, status: latest.stages.get(stage.name) } } : {}),
        actionStates: stage.actions.map((action) => {
          const a = latest?.actions.find((x) => x.stageName === stage.name && x.actionName === action.name);
          return {
            actionName: action.name,
            ...(a
              ? {
                  latestExecution: {
                    actionExecutionId: a.actionExecutionId,
                    status: a.status,
                    lastStatusChange: seconds(a.lastUpdateTime),
                    ...(a.summary ? { summary: a.summary } : {}),
                    ...(a.externalExecutionId ? { externalExecutionId: a.externalExecutionId } : {}),
                    ...(a.errorDetails ? { errorDetails: a.errorDetails } : {}),
                  },
                }
              : {}),
          };
        }),
      };
    });
    return { pipelineName: p.declaration.name, pipelineVersion: p.declaration.version, stageStates, created: seconds(p.created), updated: seconds(p.created) };
  }

  /**
   * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ListActionExecutions.html
   * (ActionExecutionDetail: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html),
   * newest first.
   */
  private listActionExecutions(b: Body) {
    const p = this.get(b.pipelineName);
    const filter = (b.filter ?? {}) as { pipelineExecutionId?: string };
    const executions = filter.pipelineExecutionId ? [this.executionOf(p, filter.pipelineExecutionId)] : p.executions;
    const details = executions
      .flatMap((e) => e.actions)
      .sort((x, y) => y.startTime.getTime() - x.startTime.getTime())
      .slice(0, Number(b.maxResults ?? 100))
      .map((a) => ({
        pipelineExecutionId: a.pipelineExecutionId,
        actionExecutionId: a.actionExecutionId,
        pipelineVersion: a.pipelineVersion,
        stageName: a.stageName,
        actionName: a.actionName,
        startTime: seconds(a.startTime),
        lastUpdateTime: seconds(a.lastUpdateTime),
        status: a.status,
        input: {
          actionTypeId: a.actionTypeId,
          configuration: a.configuration,
          resolvedConfiguration: a.configuration,
          roleArn: p.declaration.roleArn,
          region: this.options.region,
          inputArtifacts: a.inputArtifacts.map((x) => ({ name: x.name, s3location: { bucket: x.bucketName, key: x.objectKey } })),
        },
        output: {
          outputArtifacts: a.outputArtifacts.map((x) => ({ name: x.name, s3location: { bucket: x.bucketName, key: x.objectKey } })),
          executionResult: {
            ...(a.externalExecutionId ? { externalExecutionId: a.externalExecutionId } : {}),
            ...(a.summary ? { externalExecutionSummary: a.summary } : {}),
            ...(a.errorDetails ? { errorDetails: a.errorDetails } : {}),
          },
        },
      }));
    return { actionExecutionDetails: details };
  }

  /**
   * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StopPipelineExecution.html:
   * "Stop and wait" lets in-progress actions finish; "Stop and abandon" (abandon: true) abandons
   * them. Only an InProgress execution can be stopped; a second stop-and-wait is a duplicate.
   */
  private stop(b: Body) {
    const p = this.get(b.pipelineName);
    const e = this.executionOf(p, b.pipelineExecutionId);
    const abandon = b.abandon === true;
    if (e.status === 'Stopping' && !abandon) throw new AwsError('DuplicatedStopRequestException', 'The pipeline execution is already in a Stopping state. To stop and abandon the execution, use abandon.');
    if (e.status !== 'InProgress' && e.status !== 'Stopping') throw new AwsError('PipelineExecutionNotStoppableException', `Pipeline execution ${e.pipelineExecutionId} is ${e.status} and cannot be stopped`);
    e.stopRequest = { abandon, reason: typeof b.reason === 'string' ? b.reason : undefined };
    e.status = 'Stopping';
    e.lastUpdateTime = new Date();
    const run = p.runs.get(e.pipelineExecutionId)!;
    if (abandon) for (const a of e.actions) run.abandon(a);
    this.stageGate.cancel(p.declaration.name, e.pipelineExecutionId);
    return { pipelineExecutionId: e.pipelineExecutionId };
  }
}
