import { CACHE_MARKER, cacheReport, cacheSentence } from '../shared/cache-report';
import { duration } from '../shared/duration';
import { LIMITS } from '../shared/codepipeline';
import { failureTypeOf, type BuildActionErrorName } from '../shared/errors';
import { regionOf } from '../shared/hold';
import { logConsoleUrl, logStreamPrefix } from '../shared/log-link';
import { formatPhases, isPhaseMarker, jobPhases } from '../shared/phases';
import { ERROR_MARKER, statusKey, type BuildJob, type CaughtError, type CommandResult, type CompletionInput, type FailureType, type JobOutcome, type StepName } from '../shared/types';

/** The state names users see in the execution graph, for messages. */
export const STEP_TITLES: Record<StepName, string> = {
  storeEnvironment: 'Store Build Environment',
  takeFleetSlot: 'Take Fleet Slot',
  launchInstance: 'Launch Instance',
  waitForInstance: 'Is Instance Ready?',
  prepareInput: 'Get Input Artifact URL',
  runBuild: 'Run Build',
  prepareOutput: 'Get Output Upload URL',
  uploadOutput: 'Upload Output Artifact',
  releaseInstance: 'Release Instance',
  holdInstance: 'Hold The Instance',
};

/**
 * What the SSM document's own failures mean for the user: every kind the document writes as
 * `<ERROR_MARKER> Kind: text` (test/lambdas/document-markers.test.ts keeps both sides in step).
 */
export const MARKER_TYPES: Record<string, FailureType> = {
  InputArtifactMissing: 'ConfigurationError',
  InputDownloadFailed: 'JobFailed',
  InputUnzipFailed: 'JobFailed',
  WorkingDirectoryUnusable: 'ConfigurationError',
  OutputPathMissing: 'ConfigurationError',
  OutputPackagingFailed: 'JobFailed',
  OutputUploadFailed: 'JobFailed',
  // A staging command of the document itself failed (its ERR trap; on Windows, an unknown phase):
  // JobFailed, as it was when this kind fell through to the default; the text names the line.
  StagingFailed: 'JobFailed',
  // The build's environment object could not be fetched (network, an expired URL): worth a retry of the stage.
  EnvironmentDownloadFailed: 'JobFailed',
  // The build command took over bash's EXIT trap (or ran exec), so its exported variables were never recorded.
  ExportsMissing: 'JobFailed',
};

/** Where the build's last lines begin in a failure message: everything added to a message goes before them. */
export const LAST_LINES = '\nLast lines of its output:\n';

/** `text` added to a failure message before the build's last lines (at its end when it has none), so it still ends with the end of the log. */
export function beforeLastLines(message: string, text: string): string {
  const at = message.indexOf(LAST_LINES);
  return at >= 0 ? `${message.slice(0, at)}${text}${message.slice(at)}` : `${message}${text}`;
}

/**
 * A failure message within CodePipeline's limit (LIMITS.failureMessage): when too long, the beginning of the build's
 * last lines goes, never the message's start (the step, the cause, the log link) nor the log's end.
 */
export function fitFailureMessage(message: string, max: number = LIMITS.failureMessage): string {
  if (message.length <= max) return message;
  const at = message.indexOf(LAST_LINES);
  const head = at >= 0 ? message.slice(0, at + LAST_LINES.length) : message;
  const room = max - head.length - 1;
  if (at < 0 || room < 1) return `${message.slice(0, max - 1)}…`;
  return `${head}…${message.slice(message.length - room)}`;
}

/**
 * The console link to the output of the command that tells what happened (the upload's when it failed, else the
 * build's), or null when no command ran or the stack's log group is not known (shared/log-link.ts).
 */
export function logLinkOf(input: CompletionInput, logGroup: string): string | null {
  const { instance, build, upload } = input.state;
  const command = upload && upload.status !== 'Success' ? upload : build;
  if (!logGroup || !instance?.instanceId || !command?.commandId) return null;
  return logConsoleUrl(regionOf(input.executionArn), logGroup, logStreamPrefix(command.commandId, instance.instanceId));
}

/** Room left in CodePipeline's 5000-character message for the build's last lines. */
const LOG_BUDGET = 3500;

function failed(failureType: FailureType, step: StepName, text: string): JobOutcome {
  return { status: 'Failed', failureType, message: `Step "${STEP_TITLES[step]}" failed: ${text}` };
}

/** A Lambda error's Cause is JSON with errorMessage; an SDK integration's is plain text. */
export function causeText(error: CaughtError): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause || error.Error;
}

/** What each caught error adds for the user, by the name Step Functions caught it under. */
const EXPLAIN: Partial<Record<BuildActionErrorName | 'States.Timeout', (text: string, step: StepName) => string>> = {
  // The account's request rate, past the SDK's and the step's retries: a passing state, worth a later retry.
  Throttled: (text) => `${text}, past every retry. Retry the stage later; if it persists, another client of the account may be using the operation's quota.`,
  InstanceLost: (text) => `${text}. It was stopped or terminated from outside (a Spot interruption, a person or a policy); retry the stage.`,
  InstanceNotReady: (text) => `the instance did not reach "running" in time (${text}). Retry the stage; if it persists, check the AMI boots with this instance type.`,
  AgentNotOnline: (text) =>
    `the instance never came online in Systems Manager (${text}). Check that the AMI has the SSM agent installed and running, that the instance profile allows SSM (AmazonSSMManagedInstanceCore), and that the subnet reaches the SSM endpoints (NAT gateway or VPC endpoints for ssm, ssmmessages and ec2messages).`,
  BuildWaitExceeded: (text) => `${text}; the instance was terminated. Retry the stage.`,
  // A state's own time limit. Not the build's: Run Build and Wait For Build catch their timeouts to
  // renew the job, and the build's limits end as the command's status (fromCommand) or as
  // BuildWaitExceeded. Under "Run Build" it is the renewal's: Renew Job or Acknowledge Continuation Job.
  'States.Timeout': (_text, step) =>
    step === 'runBuild'
      ? 'the job renewal did not finish in time (no continuation job was handed over, or acknowledging it timed out). Retry the stage; if it persists, open the execution link for details.'
      : 'the step did not finish within its time limit (States.Timeout). Retry the stage; if it persists, open the execution link for details.',
};

/**
 * A step's caught error. A typed error's failure type comes from the one table in shared/errors.ts;
 * any other (Step Functions' own, or an SDK or Lambda service error that outlived its retries) is a
 * system fault worth retrying.
 */
function fromCaught(step: StepName, error: CaughtError): JobOutcome {
  const text = causeText(error);
  const explain = Object.hasOwn(EXPLAIN, error.Error) ? EXPLAIN[error.Error as keyof typeof EXPLAIN] : undefined;
  const type = failureTypeOf(error.Error);
  if (type) return failed(type, step, explain ? explain(text, step) : text);
  return failed('SystemUnavailable', step, explain ? explain(text, step) : `${error.Error}: ${text}. Retry the stage; if it persists, open the execution link for details.`);
}

function markerIn(stderr: string): { kind: string; text: string } | null {
  const lines = stderr.split('\n').filter((l) => l.startsWith(`${ERROR_MARKER} `));
  const last = lines[lines.length - 1];
  const m = last?.match(new RegExp(`^${ERROR_MARKER} ([A-Za-z]+): (.*)$`));
  return m ? { kind: m[1], text: m[2] } : null;
}

function logTail(result: CommandResult): string {
  const own = result.errorTail
    .split('\n')
    .filter((l) => !l.startsWith(`${ERROR_MARKER} `) && !isPhaseMarker(l) && !l.startsWith(`${CACHE_MARKER} `))
    .join('\n')
    .trim();
  const text = own || result.outputTail.trim();
  return text.length > LOG_BUDGET ? `…${text.slice(text.length - LOG_BUDGET)}` : text;
}

/**
 * StatusDetails that mean the command never finished on the instance: the instance or its agent
 * was lost. A command's Status is only Success, Failed, TimedOut or Cancelled (plus the running
 * ones); the reason, ExecutionTimedOut (the build's own time limit) among the others, is in
 * StatusDetails: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
 * and https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
 */
const LOST = new Set(['DeliveryTimedOut', 'Undeliverable']);

function fromCommand(step: StepName, result: CommandResult, job: BuildJob): JobOutcome {
  const marker = markerIn(result.errorTail);
  if (marker) return failed(MARKER_TYPES[marker.kind] ?? 'JobFailed', step, marker.text);
  const lines = logTail(result);
  const shown = lines ? `${LAST_LINES}${lines}` : ' It printed nothing.';
  const details = statusKey(result.statusDetails);
  if (details === 'ExecutionTimedOut') {
    return failed('JobFailed', step, `the build ran longer than TimeoutMinutes (${job.properties.timeoutMinutes}) and was stopped.${shown}`);
  }
  if (LOST.has(details)) {
    return failed('JobFailed', step, `Systems Manager lost the instance or its SSM agent before the command finished (${details}): the instance was stopped or terminated from outside (a Spot interruption, a person or a policy), or its agent stopped answering. The build's own time limit was not reached. Retry the stage.${shown}`);
  }
  if (details === 'Terminated' || statusKey(result.status) === 'Cancelled') {
    return failed('JobFailed', step, `the command was cancelled before it finished (${details || 'Cancelled'}: the pipeline was stopped, or it was cancelled in Systems Manager).${shown}`);
  }
  if (statusKey(result.status) === 'TimedOut') {
    // Only a result without StatusDetails (recorded by an older version) gets here: say both.
    return failed('JobFailed', step, `the command timed out: the build ran longer than TimeoutMinutes (${job.properties.timeoutMinutes}), or Systems Manager lost the instance. Retry the stage if the build is usually faster.${shown}`);
  }
  return failed('JobFailed', step, `the build command exited with code ${result.exitCode}.${shown}`);
}

const ORDER: StepName[] = ['storeEnvironment', 'takeFleetSlot', 'launchInstance', 'waitForInstance', 'prepareInput', 'runBuild', 'prepareOutput', 'uploadOutput'];

/** What the job's capacity went through, for the summary and the failure message: a wait in line, a Spot rerun. */
function capacityNotes(state: CompletionInput['state']): string {
  const waited = state.slot?.queued ? ` Waited ${duration(state.slot.waitedMs)} in fleet ${JSON.stringify(state.job?.fleet?.name ?? '')}'s line.` : '';
  const rerun = state.rerun ? ` Ran again on on-demand after Spot instance ${state.rerun.interruptedInstanceId} was interrupted.` : '';
  return waited + rerun;
}

/** Decides what CodePipeline is told, from everything the execution recorded. */
export function decideOutcome(input: CompletionInput, now: Date = new Date(), logGroup = ''): JobOutcome {
  const state = input.state;
  // The poller's rejection, or Store Build Environment's (an environment variable naming what the job cannot read); an
  // execution on the definition before that state has its acknowledgement's (reported by this version after an update).
  const rejection = state.rejection ?? state.environment?.rejection ?? state.ack?.rejection ?? null;
  if (rejection !== null || !state.job) {
    return { status: 'Failed', failureType: 'ConfigurationError', message: rejection ?? 'The job had no configuration.' };
  }
  const job = state.job;
  const errors = state.errors ?? {};
  const releaseNote = errors.releaseInstance
    ? ` Note: instance ${state.instance?.instanceId ?? ''} could not be terminated (${causeText(errors.releaseInstance)}); the stack's sweeper will terminate it.`
    : '';
  let outcome: JobOutcome | null = null;
  // A job that uploads nothing but its caches: whatever happens to that upload is no failure of the job.
  const cachesOnly = !job.output && !job.properties.exportedVariables;
  for (const step of ORDER) {
    if (cachesOnly && (step === 'prepareOutput' || step === 'uploadOutput')) continue;
    const caught = errors[step];
    if (caught) {
      outcome = fromCaught(step, caught);
      break;
    }
    if (step === 'runBuild' && state.build && state.build.status !== 'Success') {
      outcome = fromCommand('runBuild', state.build, job);
      break;
    }
    if (step === 'uploadOutput' && state.upload && state.upload.status !== 'Success') {
      outcome = fromCommand('uploadOutput', state.upload, job);
      break;
    }
  }
  if (!outcome && !state.build) {
    outcome = failed('SystemUnavailable', 'runBuild', 'the execution ended without a build result. Open the execution link for details.');
  }
  if (!outcome && job.output && !state.upload) {
    outcome = failed('SystemUnavailable', 'uploadOutput', 'the output artifact was never uploaded. Open the execution link for details.');
  }
  const holdNote = errors.holdInstance ? ` Note: the instance could not be held on failure (${causeText(errors.holdInstance)}); it was released at once.` : '';
  const notes = capacityNotes(state) + holdNote + releaseNote;
  const link = logLinkOf(input, logGroup);
  if (outcome && outcome.status === 'Failed') {
    // The link right after the cause, before the notes and the log's last lines: never cut (fitFailureMessage).
    const logNote = link ? ` Full log: ${link}` : '';
    return { ...outcome, message: fitFailureMessage(beforeLastLines(outcome.message, logNote + notes)) };
  }
  const instance = state.instance;
  const took = duration(now.getTime() - new Date(input.executionStartTime).getTime());
  const phases = formatPhases(jobPhases(input, now));
  return {
    status: 'Succeeded',
    // The link early: a summary past its limit loses its end, never the link.
    summary: `Built in ${took} on ${instance?.instanceId ?? 'an instance'} (${instance?.instanceType ?? job.properties.instanceType}${instance?.capacitySource && instance.capacitySource !== 'launched' ? `, ${instance.capacitySource}` : ''}).${link ? ` Log: ${link}` : ''}${cacheSentence(cacheReport(state.build?.errorTail, state.upload?.errorTail))}${phases ? ` Phases: ${phases}.` : ''}${notes}`,
  };
}
