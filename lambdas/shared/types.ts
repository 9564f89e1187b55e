/**
 * The contract for the data that flows poller → state machine → SSM document → completion.
 * Used by the Lambdas, the tests and the local runner alike.
 */

import type { EnvironmentVariable } from './build-environment';
import type { DocumentMarks } from './phases';

/** The custom action type this stack registers; EventBridge and PollForJobs match on it. */
export interface ActionTypeRef {
  readonly category: string;
  readonly owner: 'Custom';
  readonly provider: string;
  readonly version: string;
}

/** The action's configuration properties, validated by the poller. */
export interface BuildProperties {
  readonly imageId: string;
  /** The first choice of instance type. */
  readonly instanceType: string;
  /** Types to try, in order, when EC2 has no capacity for the first in any subnet. */
  readonly fallbackInstanceTypes: readonly string[];
  readonly command: string;
  /** Absolute directory on the instance; empty means a fresh temporary directory. */
  readonly workingDirectory: string;
  /** File or directory relative to the working directory; empty means no output artifact. */
  readonly outputArtifactPath: string;
  readonly timeoutMinutes: number;
  /** The fleet the job runs on; '' when it launches cold from imageId and instanceType. */
  readonly fleet: string;
  /**
   * The build's own variables (version 3): PLAINTEXT values, and references to parameters and secrets, never their
   * values. Absent in a job of an execution started before version 3 was deployed: none.
   */
  readonly environmentVariables?: readonly EnvironmentVariable[];
  /**
   * Variables whose values at the end of the build become the action's output variables (version 3): their names,
   * comma-separated, as the document's ExportedVariables parameter takes them; '' or absent: none.
   */
  readonly exportedVariables?: string;
  /** The action's own hold on failure, in minutes (its EC2_BUILD_ACTION_HOLD_MINUTES variable: shared/hold.ts); absent: the stack's. */
  readonly holdMinutes?: number;
  /**
   * CachePaths (version 3): directories, relative to the working directory or absolute, comma-separated as the
   * document's CachePaths parameter takes them (lambdas/shared/cache-paths.ts); '' or absent: no cache.
   */
  readonly cachePaths?: string;
}

/**
 * The fleet a job runs on, as the poller found it in the stack's fleets: what the launcher, the slot function and
 * the state machine need (the queue's bound is Take Fleet Slot's TimeoutSecondsPath).
 */
export interface JobFleet {
  readonly name: string;
  /** An AMI ID or resolve:ssm: and a parameter, resolved at each launch. */
  readonly imageId: string;
  readonly instanceTypes: readonly string[];
  readonly market: 'on-demand' | 'spot' | 'spot-then-on-demand';
  readonly maxConcurrent: number;
  readonly maxQueueMinutes: number;
  /** How long a job waits in the fleet's line at most, in whole seconds: maxQueueMinutes. */
  readonly queueTimeoutSeconds: number;
  /**
   * How often a job in line tells CodePipeline its place (a job renewal whose summary says it), in whole seconds: a
   * Task state's TimeoutSecondsPath must be a positive integer (https://states-language.net/spec.html#task-state).
   */
  readonly lineRefreshSeconds: number;
  /** How long a job waits in line before it first reports its place, in whole seconds (never past the line's bound). */
  readonly lineFirstReportSeconds: number;
  /** The pools the fleet keeps at any time (its sizes or a schedule's): only those have members to claim. */
  readonly pools: readonly ('hot' | 'stopped')[];
}

export interface ArtifactLocation {
  readonly bucket: string;
  readonly key: string;
}

/** An artifact of the job other than the first of its kind, by its CodePipeline name (1 to 100 of [A-Za-z0-9_-]). */
export interface NamedArtifact extends ArtifactLocation {
  readonly name: string;
}

/** An output artifact other than the first, and the file or directory (relative to the working directory) zipped into it. */
export interface NamedOutput extends NamedArtifact {
  readonly path: string;
}

export interface PipelineRef {
  readonly name: string;
  readonly executionId: string;
  readonly stage: string;
  readonly action: string;
  /**
   * The action execution the job is for (PipelineContext.action.actionExecutionId): the same across
   * job renewals, and not the one a retried stage starts. Absent when the job data lacks it.
   */
  readonly actionExecutionId?: string;
}

/** What the build's environment is told of where it runs (CODEPIPELINE_*), each '' when CodePipeline gave none. */
export interface BuildContext {
  readonly pipelineName: string;
  readonly pipelineExecutionId: string;
  readonly stageName: string;
  readonly actionName: string;
  /** The primary input artifact's revision (a commit ID, an S3 version ID). */
  readonly sourceRevision: string;
}

/** One CodePipeline job, as the state machine receives it. Holds no credentials. */
export interface BuildJob {
  readonly jobId: string;
  readonly pipelineName: string;
  readonly properties: BuildProperties;
  readonly context: BuildContext;
  /** The primary input artifact (the job's first), unzipped into the working directory. */
  readonly input: ArtifactLocation | null;
  /** The first output artifact: what properties.outputArtifactPath names. */
  readonly output: ArtifactLocation | null;
  /**
   * The other input artifacts (up to 4), each unzipped into its own directory, CODEPIPELINE_SRC_DIR_<name>. Absent in a
   * job of an execution started before several artifacts were served: none.
   */
  readonly secondaryInputs?: readonly NamedArtifact[];
  /** The other output artifacts (up to 4), each with its path; absent as secondaryInputs is. */
  readonly secondaryOutputs?: readonly NamedOutput[];
  /** secondaryOutputs as the document's SecondaryOutputPaths takes them: name=path, comma-separated; '' for none. */
  readonly secondaryOutputPaths?: string;
  /** The fleet of `properties.fleet`, or null for a cold launch. */
  readonly fleet: JobFleet | null;
  /** KMS key that encrypts the pipeline's artifacts; empty means the S3 managed key (aws/s3). */
  readonly kmsKeyId: string;
  /** Build timeout in seconds, as a string for the SSM document's ExecutionTimeout. */
  readonly executionTimeout: string;
  /**
   * How long "Run Build" waits for its command before it gives up (timeout plus margin): its
   * TimeoutSecondsPath, so a positive integer (https://states-language.net/spec.html#task-state).
   */
  readonly waitTimeoutSeconds: number;
  /**
   * When the job must be renewed (ISO 8601): the poll plus the renewal interval. "Is Instance Ready?"
   * turns it into Run Build's first wait ($.ready.buildWaitSeconds), so the time before the build
   * (launch, boot) counts against the job's timeout too. See lambdas/shared/renewal.ts.
   */
  readonly renewBy: string;
  /** The renewal interval in seconds (the stack's JOB_RENEWAL_SECONDS). */
  readonly renewalSeconds: number;
  /**
   * Minutes the instance of a failed build is kept (shared/hold.ts): the action's, else the stack's; 0 for none.
   * Absent in a job of an execution started before holds existed: none.
   */
  readonly holdMinutes?: number;
}

/**
 * The state machine's input. The poller never acknowledges a job: the execution does, first, so
 * no job can be acknowledged without an execution that owns it. A job whose properties are wrong
 * carries the reason in `rejection` (and `job` is null) and is reported as a ConfigurationError.
 */
export interface ExecutionInput {
  readonly jobId: string;
  /** Where the job comes from: an ABANDONED event names the pipeline execution, stage and action. */
  readonly pipeline: PipelineRef;
  readonly nonce: string;
  readonly job: BuildJob | null;
  readonly rejection: string | null;
}

/** "Renew Job"'s payload: renew `jobId` with the execution's name as the continuation token. */
export interface JobRenewal {
  /** This task's token; the poller reads it from the execution's history to hand over the next job. */
  readonly taskToken: string;
  readonly jobId: string;
  readonly executionArn: string;
  readonly executionName: string;
  /**
   * When the wait that renews began, and how long it may last: its deadline. For a build, readiness and the build's
   * whole wait; for a job in its fleet's line ("Report Place In Line"), its enqueue time and maxQueueMinutes.
   */
  readonly readyAt: string;
  readonly waitTimeoutSeconds: number;
  /** How long the next round of waiting lasts at most (the poller's handover reads it). */
  readonly renewalSeconds: number;
  /** Set when the job waits in its fleet's line: the fleet and its entry, for the place the summary gives. */
  readonly line?: { readonly fleet: JobFleet; readonly sk: string };
}

/** What the poller hands a waiting "Renew Job" (its task output, kept at $.continuation). */
export interface ContinuationHandover {
  readonly jobId: string;
  readonly nonce: string;
  /** "Wait For Build"'s TimeoutSecondsPath: until this job's horizon, never past the build's deadline. */
  readonly renewAfterSeconds: number;
}

/** "Wait For Build"'s payload. */
export interface BuildWait {
  readonly taskToken: string;
  readonly instanceId: string;
  /** The execution's name, which its build command carries (ExecutionName). */
  readonly executionName: string;
  readonly readyAt: string;
  readonly waitTimeoutSeconds: number;
}

/** What the launcher returns, kept at $.instance. */
/** The market an instance was bought in. */
export type InstanceMarket = 'on-demand' | 'spot';

/** Where a job's instance came from: its fleet's hot or stopped pool, or a launch for the job. */
export type CapacitySource = 'hot-pool' | 'stopped-pool' | 'launched';

export interface LaunchedInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly subnetId: string | null;
  /** When the job got it: its launch, or its claim from a pool (what "Is Instance Ready?" times from). */
  readonly launchedAt: string;
  readonly capacitySource: CapacitySource;
  readonly market: InstanceMarket;
}

/** A presigned URL for one artifact object, kept at $.inputUrl or $.outputUrl. */
export interface ArtifactUrl {
  readonly url: string;
  readonly expiresAt: string | null;
  /** After this (ISO 8601) the state machine signs the URL again before using it. */
  readonly refreshAfter: string | null;
}

/** The first artifact's URL and the others', as the document's SecondaryInputUrls / SecondaryOutputUrls take them. */
export interface SignedArtifacts extends ArtifactUrl {
  /** name=url for each artifact after the first, space-separated (a presigned URL holds no space); '' for none. */
  readonly secondaryUrls: string;
}

export type ArtifactDirection = 'input' | 'output';

/** The final status of one SSM command invocation, returned through the task token. */
export interface CommandResult {
  readonly commandId: string;
  /** Success, Failed, TimedOut or Cancelled: what the ASL's Choice states test. */
  readonly status: string;
  /**
   * Why it ended: ExecutionTimedOut, DeliveryTimedOut, Undeliverable, Terminated, ... The reason a
   * command timed out or was lost is only here, never in `status`: see StatusDetails in
   * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
   * Absent in results recorded before this field existed.
   */
  readonly statusDetails?: string;
  readonly exitCode: number;
  /** The end of the command's standard output (at most a few thousand characters). */
  readonly outputTail: string;
  /** The command's standard error: the build's own errors and this tool's markers. */
  readonly errorTail: string;
  /** When the command's step started and ended on the instance (ISO 8601; null when SSM did not say). Absent in older results. */
  readonly startedAt?: string | null;
  readonly endedAt?: string | null;
  /** The phase durations the document measured on the instance (shared/phases.ts). Absent in older results. */
  readonly marks?: DocumentMarks;
}

/** A Step Functions error caught into $.errors.<step>. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** Steps whose errors the state machine catches, keyed as in $.errors. */
export type StepName =
  | 'storeEnvironment'
  | 'takeFleetSlot'
  | 'launchInstance'
  | 'waitForInstance'
  | 'prepareInput'
  | 'runBuild'
  | 'prepareOutput'
  | 'uploadOutput'
  | 'releaseInstance'
  | 'holdInstance';

/** Everything the execution records as it runs ($ in the state machine). */
export interface ExecutionState extends ExecutionInput {
  /** The last acknowledgement; `rejection` only in an execution on the definition before Store Build Environment. */
  readonly ack?: { readonly status: string; readonly rejection?: string | null };
  /** Store Build Environment's output (a job with environment variables): a parameter or secret the job cannot read, or null once stored. */
  readonly environment?: { readonly rejection: string | null };
  readonly instance?: LaunchedInstance;
  readonly inputUrl?: ArtifactUrl;
  /** When the instance was seen ready, and how long Run Build may wait before the job is renewed. */
  readonly ready?: { readonly readyAt: string; readonly buildWaitSeconds: number };
  /** The latest continuation job handed over by the poller. */
  readonly continuation?: ContinuationHandover;
  /** The latest wait that reached the job's horizon (States.Timeout), which led to a renewal. */
  readonly renewal?: CaughtError;
  readonly outputUrl?: ArtifactUrl;
  readonly build?: CommandResult;
  readonly upload?: CommandResult;
  readonly errors?: Partial<Record<StepName, CaughtError>>;
  /** Take Fleet Slot's output: whether the job waited in its fleet's line, and how long. */
  readonly slot?: { readonly queued: boolean; readonly waitedMs: number };
  /** Set by "Report Failure And Hold": the failure was reported when the hold began, which ends at holdUntil (ISO 8601). */
  readonly held?: { readonly status: string; readonly holdUntil: string };
  /** "Release Instance"'s result: the instance's state, and when the state was entered ($$.State.EnteredTime). */
  readonly release?: { readonly state: string; readonly enteredAt?: string };
  /** Set when the build ran again on on-demand after its Spot instance was interrupted. */
  readonly rerun?: { readonly interruptedInstanceId: string };
}

/** The completion Lambda's input: the whole state, plus the execution's identity. */
export interface CompletionInput {
  readonly state: ExecutionState;
  readonly executionArn: string;
  readonly executionStartTime: string;
  /** Set by "Report Failure And Hold": report the build's failure now and keep its instance for the job's holdMinutes. */
  readonly hold?: boolean;
}

/** The CodePipeline failure types this action reports. */
export type FailureType = 'ConfigurationError' | 'JobFailed' | 'SystemUnavailable';

/** The result the completion Lambda reports to CodePipeline. */
export type JobOutcome =
  | { readonly status: 'Succeeded'; readonly summary: string }
  | { readonly status: 'Failed'; readonly failureType: FailureType; readonly message: string };

/** Markers the SSM document writes to standard error when its own step fails. */
export const ERROR_MARKER = 'ec2-build-action-error';

/** Statuses of an SSM command invocation that is still going. */
export const RUNNING_COMMAND_STATUSES = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];

/**
 * A status or status detail without its spaces: the API reference spells StatusDetails values both
 * "Delivery Timed Out" (in prose) and DeliveryTimedOut; compare them in this form to work with either.
 */
export function statusKey(status: string | undefined): string {
  return (status ?? '').replace(/\s+/g, '');
}

/** Whether an SSM command status (or status detail) says the command is still going. */
export function isRunningStatus(status: string | undefined): boolean {
  return RUNNING_COMMAND_STATUSES.includes(statusKey(status));
}
