import { randomUUID } from 'node:crypto';
import { STEP_TITLES } from '../lambdas/completion/outcome';
import { cacheReport, type CacheOutcome } from '../lambdas/shared/cache-report';
import { POOL_TAGS } from '../lambdas/shared/env';
import type { JobPhases } from '../lambdas/shared/phases';
import { PROPERTY } from '../lambdas/shared/properties';
import type { LocalCloud } from './cloud';
import { DEFAULT_IMAGE_ID, isReleased, jobOf } from './services/ec2';
import type { JobResult } from './services/codepipeline';
import type { CommandRecord } from './services/ssm';
import type { Fault } from './faults';
import { finalResult, followContinuations } from './job-chain';
import { whenNeverPickedUp } from './job-pickup';
import { checkDeclared, collectOutputs, declareOutputs, outputNamesOf, SOURCE_ARTIFACT, stageInputs, type LocalInput, type OutputArtifactSummary } from './job-artifacts';
import { S3_CREDENTIALS } from './s3';

export { zipDirectory } from './job-artifacts';

export interface JobOptions {
  /** The directory zipped as the primary input artifact (the first), unzipped into the working directory; null for none. */
  readonly source: string | null;
  /** The primary input's artifact name. @default SourceArtifact */
  readonly sourceName?: string;
  /** The other input artifacts, after the primary, each zipped from its directory. */
  readonly inputs?: readonly LocalInput[];
  /**
   * The output artifacts the action declares, by name. @default those OutputArtifactPath maps (app=dist,…), or one
   * BuildArtifact for a plain path
   */
  readonly outputs?: readonly string[];
  readonly command: string;
  readonly workingDirectory?: string;
  readonly outputPath?: string;
  readonly imageId?: string;
  readonly instanceType?: string;
  readonly timeoutMinutes?: string;
  readonly out?: string;
  /** The artifact store's KMS key, as a pipeline names it. */
  readonly kmsKeyId?: string;
  /**
   * A pipeline of its own instead of the runner's one local-pipeline, whose every job is another run of the same
   * stage: a job whose handling looks at the stage's other runs (a hold on failure ends when the stage runs again)
   * runs apart from the jobs beside it (a soak's). @default false
   */
  readonly ownPipeline?: boolean;
  /** The action type version the pipeline names: one the template registers. @default the provider's current version */
  readonly actionVersion?: string;
  /** Any action properties, by name; they override the options above for the same property. */
  readonly properties?: Readonly<Record<string, string>>;
  /** The action's name in the pipeline (its caches are its own: CachePaths). @default BuildOnEc2 */
  readonly actionName?: string;
  /** Called when the input is in the store, just before the STARTED event (a benchmark flushes the disk). */
  readonly beforeStarted?: () => void | Promise<void>;
}

/** The --json summary (see shared/CONTRACTS.md). */
export interface JobSummary {
  status: 'Succeeded' | 'Failed';
  jobId: string;
  failureType: string | null;
  failureMessage: string | null;
  /** The summary CodePipeline shows for a succeeded job. */
  successSummary: string | null;
  /** The final result's outputVariables ({} when none): what later actions read as #{Namespace.NAME}. */
  outputVariables: Record<string, string>;
  /** Results CodePipeline accepted for the job, and for each continuation job of a renewed one: 1 when each had exactly one. */
  jobResults: number;
  /** Job renewals (successes with a continuation token) before the final result. */
  continuations: number;
  instancesLaunched: number;
  instancesReleased: number;
  stateTransitions: number;
  outputArtifact: string | null;
  /** The output artifacts the job uploaded, in the action's order: name, size in the store, and where --out wrote it. */
  outputArtifacts: OutputArtifactSummary[];
  durationMs: number;
  executionStatus: string | null;
  /** Instances the scheduled sweeper had to terminate after the job. */
  instancesSwept: number;
  fault: string | null;
  /** Retries of states (Step Functions bills them as transitions too). */
  stateRetries: number;
  /** Where the build's instance came from: its fleet's hot or stopped pool, or a launch (null when none ran it). */
  capacitySource: 'hot-pool' | 'stopped-pool' | 'launched' | null;
  /** The market the build's instance was bought in (null when none ran it). */
  market: 'on-demand' | 'spot' | null;
  /** From the STARTED event to the build's first command running on its instance (null when it never ran). */
  startLatencyMs: number | null;
  /** The job's phase timings, as its execution's output gives them ($.result.phases); each null when the job never got there. */
  phases: JobPhases;
  /** The console link to the build's output in the stack's log group ($.result.logUrl); null when no command ran. */
  logUrl: string | null;
  /** What the build's restore found (CachePaths): every directory (hit), not all (miss), or no cache at all (none). */
  cache: CacheOutcome;
  /** When things happened (epoch ms), for benchmarks. */
  timeline: {
    startedEvent: number;
    commands: (CommandRecord & { instanceId: string })[];
    /** The job's instances: launched (RunInstances) and agent online, as simulated. */
    instances: { instanceId: string; launchedAt: number; onlineAt: number | null }[];
    result: number;
  };
}

/** Sweeps the runners started by hand, per cloud: the bus drains the scheduled ones, not these. */
const runnerSweeps = new WeakMap<LocalCloud, Set<Promise<unknown>>>();

/** Runs the sweeper now, tracked so that concurrent runners wait for what it reports. */
async function sweepNow(cloud: LocalCloud): Promise<void> {
  const sweeps = runnerSweeps.get(cloud) ?? new Set<Promise<unknown>>();
  runnerSweeps.set(cloud, sweeps);
  const sweep = cloud.sweep();
  sweeps.add(sweep);
  try {
    await sweep;
  } finally {
    sweeps.delete(sweep);
  }
}

/**
 * Runs one build job the way CodePipeline would: the input artifact in the store, a queued job,
 * a STARTED event to the stack's rule, and then whatever the real handlers and state machine do.
 */
/** What the job's output artifact holds: OutputArtifactPath, set by name or by its shorthand. The pipeline declares an output artifact when it is set. */
export function outputPathOf(options: Pick<JobOptions, 'properties' | 'outputPath'>): string | undefined {
  return options.properties?.[PROPERTY.outputArtifactPath] ?? options.outputPath;
}

export async function runJob(cloud: LocalCloud, requested: JobOptions, fault?: Fault): Promise<JobSummary> {
  if (fault?.jobs && (cloud.jobTimeouts?.renewalSeconds !== fault.jobs.renewalSeconds || cloud.jobTimeouts?.timeoutMs !== fault.jobs.timeoutMs)) {
    throw new Error(`fault ${fault.name} needs a local cloud of its own, started with jobs ${JSON.stringify(fault.jobs)} (LocalCloud.start(timing, { jobs }))`);
  }
  followContinuations(cloud.codepipeline);
  const started = Date.now();
  const options: JobOptions = { ...requested, ...(fault?.job ?? {}) };
  const actionName = options.actionName ?? 'BuildOnEc2';
  const tag = randomUUID().slice(0, 8);
  const pipelineName = options.ownPipeline ? `local-pipeline-${tag}` : 'local-pipeline';
  // A pipeline execution id as CodePipeline makes them (PipelineExecutionId's pattern is a UUID): the sweeper asks about it.
  const pipelineExecutionId = randomUUID();
  const inputs = [...(options.source ? [{ name: options.sourceName ?? SOURCE_ARTIFACT, dir: options.source }] : []), ...(options.inputs ?? [])];
  const outputNames = options.outputs ?? outputNamesOf(outputPathOf(options));
  // A job on a fleet names neither (the fleet chooses), unless asked to.
  const onFleet = Boolean(options.properties?.[PROPERTY.fleet]);
  const configuration: Record<string, string> = { [PROPERTY.command]: options.command };
  if (!onFleet || options.imageId) configuration[PROPERTY.imageId] = options.imageId ?? DEFAULT_IMAGE_ID;
  if (!onFleet || options.instanceType) configuration[PROPERTY.instanceType] = options.instanceType ?? 't3.medium';
  if (options.workingDirectory) configuration[PROPERTY.workingDirectory] = options.workingDirectory;
  if (options.outputPath) configuration[PROPERTY.outputArtifactPath] = options.outputPath;
  if (options.timeoutMinutes) configuration[PROPERTY.timeoutMinutes] = options.timeoutMinutes;
  Object.assign(configuration, options.properties);
  const actionType = options.actionVersion === undefined ? cloud.actionType : cloud.actionTypes.find((t) => t.version === options.actionVersion);
  if (!actionType) throw new Error(`the template registers no version ${options.actionVersion} of the action type (it has ${cloud.actionTypes.map((t) => t.version).join(', ')})`);
  checkDeclared(cloud, actionType, inputs.map((i) => i.name), outputNames);
  const staged = await stageInputs(cloud, pipelineName, inputs);
  const outputs = declareOutputs(pipelineName, outputNames);
  const jobId = cloud.codepipeline.createJob(actionType, {
    actionTypeId: actionType,
    actionConfiguration: { configuration },
    pipelineContext: { pipelineName, pipelineExecutionId, stage: { name: 'Build' }, action: { name: actionName } },
    inputArtifacts: staged.artifacts,
    outputArtifacts: outputs.map((o) => o.artifact),
    artifactCredentials: { ...S3_CREDENTIALS, sessionToken: `local-session-${tag}` },
    ...(options.kmsKeyId ? { encryptionKey: { id: options.kmsKeyId, type: 'KMS' } } : {}),
  });
  for (const key of [...staged.keys, ...outputs.map((o) => o.key)]) cloud.artifactOwners.set(key, jobId);
  cloud.pipelines.set(jobId, { pipeline: pipelineName, executionId: pipelineExecutionId, stage: 'Build', action: actionName });
  if (fault?.chaos) cloud.injectFault(jobId, fault.chaos());
  if (fault?.deleteInput && staged.keys[0]) await cloud.s3.remove(staged.keys[0]);
  const event = {
    source: 'aws.codepipeline',
    'detail-type': 'CodePipeline Action Execution State Change',
    detail: { pipeline: pipelineName, 'execution-id': pipelineExecutionId, stage: 'Build', action: actionName, state: 'STARTED', type: { ...actionType } },
  };
  await options.beforeStarted?.();
  const startedEvent = Date.now();
  if (fault?.delivery === 'concurrently') {
    await Promise.all([cloud.invokePoller(event), cloud.invokePoller(event)]);
  } else {
    cloud.bus.put(event);
    if (fault?.delivery === 'twice') setTimeout(() => cloud.bus.put(event), 50);
  }
  const pickup = whenNeverPickedUp(cloud, jobId, cloud.pickupBoundMs);
  const outcome = await Promise.race([finalResult(cloud.codepipeline, jobId), pickup.promise]);
  pickup.cancel();
  if ('message' in outcome) return notPickedUp(jobId, outcome.message, started, fault);
  const { jobIds, result }: { jobIds: string[]; result: JobResult } = outcome;
  const resultAt = Date.now();
  // Let everything the job set going come to rest: its executions, the events they cause.
  const executions = () => [...cloud.sfn.executions.values()].filter((e) => e.name.startsWith(jobId));
  for (let settled = false; !settled; ) {
    await Promise.all(executions().map((e) => e.done));
    await cloud.bus.drain();
    // A sweep another job's runner started (below) may be the one that released this job's instance and reported it.
    await Promise.allSettled([...(runnerSweeps.get(cloud) ?? [])]);
    settled = executions().every((e) => e.status !== 'RUNNING');
  }
  const execution = executions().find((e) => e.events.some((ev) => ev.type === 'StateEntered' && ev.state?.name === STEP_TITLES.launchInstance)) ?? executions()[0];
  const launched = [...cloud.ec2.instances.values()].filter((i) => jobOf(i) === jobId);
  // An instance the job left behind is the sweeper's, as on AWS.
  if (!launched.every(isReleased)) await sweepNow(cloud);
  // The instance that ran the build whose result was reported (the last one started: a Spot rerun's), as EC2 knows it:
  // a pool member carries its pool's tag. The start latency is to the first build command.
  const commands = launched.flatMap((i) => cloud.ssm.commandsOn(i.instanceId).map((c) => ({ ...c, instanceId: i.instanceId })));
  const starts = commands.map((c) => c.startedAt).filter((t): t is number => t !== null);
  const firstStart = Math.min(...starts);
  const lastBuild = commands.filter((c) => c.phase === 'build' && c.startedAt !== null).sort((a, b) => b.startedAt! - a.startedAt!)[0];
  const builder = launched.find((i) => i.instanceId === lastBuild?.instanceId) ?? launched[0];
  const pool = builder?.tags[POOL_TAGS.pool];
  const outputArtifacts = result.status === 'Succeeded' ? await collectOutputs(cloud, outputs, options.out) : [];
  return {
    status: result.status,
    jobId,
    failureType: result.status === 'Failed' ? result.failureDetails.type : null,
    failureMessage: result.status === 'Failed' ? result.failureDetails.message : null,
    successSummary: result.status === 'Succeeded' ? String(result.executionDetails.summary ?? '') : null,
    outputVariables: result.status === 'Succeeded' ? { ...(result.outputVariables ?? {}) } : {},
    jobResults: jobIds.map((id) => cloud.codepipeline.results(id).length).find((n) => n !== 1) ?? 1,
    continuations: jobIds.length - 1,
    instancesLaunched: launched.length,
    instancesReleased: launched.filter(isReleased).length,
    stateTransitions: execution?.events.filter((e) => e.type === 'StateEntered').length ?? 0,
    outputArtifact: outputArtifacts[0]?.file ?? null,
    outputArtifacts,
    durationMs: Date.now() - started,
    executionStatus: execution?.status ?? null,
    instancesSwept: launched.filter((i) => cloud.sweptInstances.has(i.instanceId)).length,
    fault: fault?.name ?? null,
    stateRetries: execution?.events.filter((e) => e.type === 'StateRetried').length ?? 0,
    capacitySource: builder ? (pool === 'hot' ? 'hot-pool' : pool === 'stopped' ? 'stopped-pool' : 'launched') : null,
    market: builder ? builder.launch.market : null,
    startLatencyMs: Number.isFinite(firstStart) ? firstStart - startedEvent : null,
    phases: phasesOf(execution?.output),
    logUrl: logUrlOf(execution?.output),
    cache: builder ? cacheOf(cloud, builder.instanceId) : 'none',
    timeline: {
      startedEvent,
      commands,
      instances: launched.map((i) => ({ instanceId: i.instanceId, launchedAt: i.launchTime.getTime(), onlineAt: i.onlineAt ?? null })),
      result: resultAt,
    },
  };
}

/** The phases the completion reported into the execution's output; all null without one (an execution that failed). */
function phasesOf(output: string | undefined): JobPhases {
  const reported = output ? (JSON.parse(output) as { result?: { phases?: Partial<JobPhases> } }).result?.phases : undefined;
  const value = (k: keyof JobPhases) => (typeof reported?.[k] === 'number' ? reported[k] : null);
  return { queuedMs: value('queuedMs'), readyMs: value('readyMs'), stagingInMs: value('stagingInMs'), buildMs: value('buildMs'), stagingOutMs: value('stagingOutMs'), releaseMs: value('releaseMs') };
}

/** The log link the completion reported into the execution's output. */
function logUrlOf(output: string | undefined): string | null {
  const url = output ? (JSON.parse(output) as { result?: { logUrl?: unknown } }).result?.logUrl : undefined;
  return typeof url === 'string' ? url : null;
}

/** What the last build command on the instance said of its restore, as the completion reads it (lambdas/shared/cache-report.ts). */
function cacheOf(cloud: LocalCloud, instanceId: string): CacheOutcome {
  const outputs = cloud.ssm.errorOutputsOn(instanceId);
  const build = outputs.filter((o) => o.phase === 'build').pop();
  return cacheReport(build?.stderr, undefined)?.restore ?? 'none';
}

/** The summary of a job no execution ever picked up: failed, no result, nothing launched. */
function notPickedUp(jobId: string, message: string, started: number, fault?: Fault): JobSummary {
  const now = Date.now();
  return {
    status: 'Failed',
    jobId,
    failureType: null,
    failureMessage: message,
    successSummary: null,
    outputVariables: {},
    jobResults: 0,
    continuations: 0,
    instancesLaunched: 0,
    instancesReleased: 0,
    stateTransitions: 0,
    outputArtifact: null,
    outputArtifacts: [],
    durationMs: now - started,
    executionStatus: null,
    instancesSwept: 0,
    fault: fault?.name ?? null,
    stateRetries: 0,
    capacitySource: null,
    market: null,
    startLatencyMs: null,
    phases: phasesOf(undefined),
    logUrl: null,
    cache: 'none',
    timeline: { startedEvent: started, commands: [], instances: [], result: now },
  };
}
