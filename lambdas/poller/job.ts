import type { Job, PipelineContext } from '@aws-sdk/client-codepipeline';
import { JobConfigurationError } from '../shared/errors';
import {
  DEFAULT_TIMEOUT_MINUTES,
  IMAGE_ID,
  INSTANCE_TYPE,
  MAX_INSTANCE_TYPES,
  MAX_PROPERTY_LENGTH,
  MAX_TIMEOUT_MINUTES,
  PROPERTY,
  SSM_PATTERNS,
  outputPathProblem,
  workingDirectoryProblem,
} from '../shared/properties';
import { DEFAULT_RENEWAL_SECONDS, LINE_FIRST_REPORT_SECONDS, LINE_REFRESH_SECONDS } from '../shared/renewal';
import type { Fleet } from '../shared/fleets';
import { IMAGE_ALIAS_NAMES, isImageAlias } from '../shared/image-aliases';
import { jobArtifacts } from './artifacts';
import { parseEnvironmentVariables, parseExportedVariables, type EnvironmentScope } from '../shared/build-environment';
import { actionHoldMinutes } from '../shared/hold';
import { parseCachePaths } from '../shared/cache-paths';
import type { BuildContext, BuildJob, BuildProperties, JobFleet } from '../shared/types';

/** SendCommand's TimeoutSeconds in "Run Build" (the ASL): how long SSM may take to deliver the command. */
export const DELIVERY_TIMEOUT_SECONDS = 600;
/** Time for SSM's status event to arrive once the command has ended. */
const EVENT_MARGIN_SECONDS = 5 * 60;
/**
 * How long "Run Build" waits past the build's own timeout (its TimeoutSecondsPath reads
 * waitTimeoutSeconds): delivery, then ExecutionTimeout, then the event. So Step Functions never
 * gives up on a build that SSM is still allowed to run.
 */
export const WAIT_MARGIN_SECONDS = DELIVERY_TIMEOUT_SECONDS + EVENT_MARGIN_SECONDS;

function invalid(property: string, value: string, rule: string, fix: string): JobConfigurationError {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return new JobConfigurationError(`${property} ${rule}, got ${JSON.stringify(shown)}. ${fix}`);
}

function text(config: Record<string, string>, name: string): string {
  const value = config[name] ?? '';
  if (value.length > MAX_PROPERTY_LENGTH) {
    throw new JobConfigurationError(`${name} is ${value.length} characters long; CodePipeline allows ${MAX_PROPERTY_LENGTH}. Move the script into your source and call it.`);
  }
  return value;
}

function timeoutMinutes(raw: string): number {
  if (raw.trim() === '') return DEFAULT_TIMEOUT_MINUTES;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || n < 1 || n > MAX_TIMEOUT_MINUTES) {
    throw invalid(PROPERTY.timeoutMinutes, raw, `must be a whole number of minutes from 1 to ${MAX_TIMEOUT_MINUTES}`, `Leave it empty for ${DEFAULT_TIMEOUT_MINUTES}.`);
  }
  return n;
}

/** One instance type, or several separated by commas (the first is preferred). */
function instanceTypes(raw: string): string[] {
  const types = raw.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!INSTANCE_TYPE.test(t)) {
      throw invalid(
        PROPERTY.instanceType,
        raw.trim(),
        `must be an EC2 instance type like t3.medium, or up to ${MAX_INSTANCE_TYPES} separated by commas like c7i.xlarge,c6i.xlarge (${JSON.stringify(t)} is not one)`,
        'See the EC2 console (Instance types) for the types offered in this Region.',
      );
    }
  }
  if (types.length > MAX_INSTANCE_TYPES || new Set(types).size !== types.length) {
    throw invalid(PROPERTY.instanceType, raw.trim(), `may list at most ${MAX_INSTANCE_TYPES} different instance types`, 'Keep the types you would accept, best first.');
  }
  return types;
}

/**
 * Checks the action's properties; throws a JobConfigurationError naming the property and the fix. `scope` null: the
 * stack's parameter and secret settings are not known here (synth), so any reference passes.
 */
export function parseProperties(config: Record<string, string>, scope: EnvironmentScope | null = null): BuildProperties {
  const fleet = text(config, PROPERTY.fleet).trim();
  const imageId = text(config, PROPERTY.imageId).trim();
  const instanceType = text(config, PROPERTY.instanceType).trim();
  if (fleet !== '' && (imageId !== '' || instanceType !== '')) {
    const set = [imageId && PROPERTY.imageId, instanceType && PROPERTY.instanceType].filter(Boolean).join(' and ');
    throw new JobConfigurationError(`${PROPERTY.fleet} ${JSON.stringify(fleet)} chooses the image and instance types, but ${set} ${set.includes(' and ') ? 'are' : 'is'} set too. Clear ${set} to build on the fleet, or clear ${PROPERTY.fleet} to launch from them.`);
  }
  if (fleet === '' && !IMAGE_ID.test(imageId) && !isImageAlias(imageId)) {
    throw invalid(PROPERTY.imageId, imageId, `must be an AMI ID like ami-0123456789abcdef0 or a stock image alias (${IMAGE_ALIAS_NAMES.join(', ')})`, 'Copy the AMI ID from the EC2 console (AMIs) in this pipeline\'s Region, or set Fleet to one of the stack\'s fleets.');
  }
  const [firstType, ...fallbackInstanceTypes] = fleet === '' ? instanceTypes(instanceType) : [''];
  const command = text(config, PROPERTY.command);
  if (command.trim() === '') {
    throw new JobConfigurationError(`${PROPERTY.command} is empty. Set it to the build command, like "make" or "./build.sh".`);
  }
  const workingDirectory = text(config, PROPERTY.workingDirectory).trim();
  const wdProblem = workingDirectoryProblem(workingDirectory);
  if (wdProblem) throw invalid(PROPERTY.workingDirectory, workingDirectory, wdProblem, 'Leave it empty to build in a fresh temporary directory.');
  const outputArtifactPath = text(config, PROPERTY.outputArtifactPath).trim();
  const outProblem = outputPathProblem(outputArtifactPath);
  if (outProblem) throw invalid(PROPERTY.outputArtifactPath, outputArtifactPath, outProblem, 'Name the file or directory your build writes, relative to the working directory.');
  const environmentVariables = parseEnvironmentVariables(text(config, PROPERTY.environmentVariables), scope);
  return {
    imageId,
    instanceType: firstType,
    fallbackInstanceTypes,
    command,
    workingDirectory,
    outputArtifactPath,
    timeoutMinutes: timeoutMinutes(text(config, PROPERTY.timeoutMinutes)),
    fleet,
    // Left out when there are none: the state machine's "Does The Job Have Environment Variables?" asks whether the key
    // is present (IsPresent, which AWS documents for a key that may not exist:
    // https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html), not about an array's elements.
    ...(environmentVariables.length > 0 ? { environmentVariables } : {}),
    exportedVariables: parseExportedVariables(text(config, PROPERTY.exportedVariables), environmentVariables).join(','),
    ...holdOf(environmentVariables),
    cachePaths: parseCachePaths(text(config, PROPERTY.cachePaths)).join(','),
  };
}

/**
 * Seconds in one of maxQueueMinutes' minutes: 60. The local cloud shortens it (QUEUE_MINUTE_SECONDS) with the job
 * renewals, for a fault that runs a whole wait in line in real time.
 */
function queueMinuteSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.QUEUE_MINUTE_SECONDS ?? 60);
  return Number.isInteger(value) && value >= 1 ? value : 60;
}

/**
 * The stack's fleet a job names, or null when it names none. `fleets` null means they are not known here (an
 * action checked at synth against a provider deployed elsewhere): any name passes, the poller checks it.
 */
export function jobFleet(name: string, fleets: Readonly<Record<string, Fleet>> | null, renewalSeconds: number): JobFleet | null {
  if (name === '') return null;
  const fleet = fleets?.[name];
  if (!fleet) {
    if (fleets === null) return null;
    const names = Object.keys(fleets);
    throw invalid(
      PROPERTY.fleet,
      name,
      names.length === 0 ? 'names a fleet, but this stack has none' : `must be one of this stack's fleets (${names.join(', ')})`,
      names.length === 0 ? 'Clear it and set ImageId and InstanceType, or add the fleet to the stack (context ec2-build-action:fleets, or the provider\'s fleets prop) and deploy.' : 'Fleet names are case-sensitive.',
    );
  }
  const queueTimeoutSeconds = Math.max(1, fleet.maxQueueMinutes * queueMinuteSeconds());
  return {
    name,
    imageId: fleet.imageId,
    instanceTypes: fleet.instanceTypes,
    market: fleet.market,
    maxConcurrent: fleet.maxConcurrent,
    maxQueueMinutes: fleet.maxQueueMinutes,
    queueTimeoutSeconds,
    lineRefreshSeconds: Math.max(1, Math.min(LINE_REFRESH_SECONDS, renewalSeconds)),
    lineFirstReportSeconds: Math.max(1, Math.min(LINE_FIRST_REPORT_SECONDS, renewalSeconds, queueTimeoutSeconds)),
    pools: (['hot', 'stopped'] as const).filter((pool) => [fleet, ...fleet.schedules].some((sizes) => (pool === 'hot' ? sizes.hotPool : sizes.stoppedPool) > 0)),
  };
}

/** A value the SSM document's pattern accepts, or '' (the build then sees it empty rather than failing). */
function within(pattern: string, value: string | undefined): string {
  return value !== undefined && new RegExp(pattern).test(value) ? value : '';
}

function buildContext(context: PipelineContext | undefined, revision: string | undefined): BuildContext {
  return {
    pipelineName: within(SSM_PATTERNS.pipelineName, context?.pipelineName),
    pipelineExecutionId: within(SSM_PATTERNS.pipelineExecutionId, context?.pipelineExecutionId),
    stageName: within(SSM_PATTERNS.pipelineName, context?.stage?.name),
    actionName: within(SSM_PATTERNS.pipelineName, context?.action?.name),
    sourceRevision: within(SSM_PATTERNS.revision, revision),
  };
}

/** A stack that lets builds read no parameters and no secrets (the default). */
export const NO_SCOPE: EnvironmentScope = { parameterPrefixes: [], secretPrefixes: [] };

/** When a job is renewed: `seconds` after `polledAt`. */
export interface RenewalPlan {
  readonly polledAt: Date;
  readonly seconds: number;
}

/** The action's own hold on failure, when it sets one (shared/hold.ts). */
function holdOf(environmentVariables: Parameters<typeof actionHoldMinutes>[0]): { holdMinutes?: number } {
  const minutes = actionHoldMinutes(environmentVariables);
  return minutes === undefined ? {} : { holdMinutes: minutes };
}

/**
 * Turns a polled CodePipeline job into the state machine's input, or throws a JobConfigurationError. `holdMinutes`:
 * the stack's hold on failure, for an action that sets none.
 */
export function toBuildJob(
  job: Job,
  renewal: RenewalPlan = { polledAt: new Date(), seconds: DEFAULT_RENEWAL_SECONDS },
  fleets: Readonly<Record<string, Fleet>> | null = {},
  scope: EnvironmentScope | null = NO_SCOPE,
  holdMinutes = 0,
): BuildJob {
  const data = job.data ?? {};
  const properties = parseProperties(data.actionConfiguration?.configuration ?? {}, scope);
  const fleet = jobFleet(properties.fleet, fleets, renewal.seconds);
  const inputs = data.inputArtifacts ?? [];
  const artifacts = jobArtifacts(inputs, data.outputArtifacts ?? [], properties.outputArtifactPath);
  const seconds = properties.timeoutMinutes * 60;
  const key = data.encryptionKey;
  return {
    jobId: job.id ?? '',
    pipelineName: data.pipelineContext?.pipelineName ?? '',
    // The document's OutputArtifactPath is the first output's path; the others travel as secondaryOutputPaths.
    properties: { ...properties, outputArtifactPath: artifacts.outputArtifactPath },
    context: buildContext(data.pipelineContext, inputs[0]?.revision),
    input: artifacts.input,
    output: artifacts.output,
    secondaryInputs: artifacts.secondaryInputs,
    secondaryOutputs: artifacts.secondaryOutputs,
    secondaryOutputPaths: artifacts.secondaryOutputPaths,
    fleet,
    kmsKeyId: key?.type === 'KMS' && key.id ? key.id : '',
    executionTimeout: String(seconds),
    waitTimeoutSeconds: seconds + WAIT_MARGIN_SECONDS,
    renewBy: new Date(renewal.polledAt.getTime() + renewal.seconds * 1000).toISOString(),
    renewalSeconds: renewal.seconds,
    holdMinutes: properties.holdMinutes ?? holdMinutes,
  };
}
