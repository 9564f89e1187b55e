/**
 * The action's configuration properties: their names, limits and the patterns that keep a value
 * from ever being read as shell. The SSM document's allowedPattern values are these same strings
 * (a test checks it), so the poller and the instance enforce one rule.
 */
export const PROPERTY = {
  imageId: 'ImageId',
  instanceType: 'InstanceType',
  command: 'Command',
  workingDirectory: 'WorkingDirectory',
  outputArtifactPath: 'OutputArtifactPath',
  timeoutMinutes: 'TimeoutMinutes',
  /** Since action type version 2: a fleet of the stack, instead of ImageId and InstanceType. */
  fleet: 'Fleet',
  /** Since version 3: the build's own variables, as CodePipeline's CodeBuild action takes them (lambdas/shared/build-environment.ts). */
  environmentVariables: 'EnvironmentVariables',
  /** Since version 3: variables whose values at the end of the build become the action's output variables. */
  exportedVariables: 'ExportedVariables',
  /** Since version 3: directories saved after a successful build and restored before the next (lambdas/shared/cache-paths.ts). */
  cachePaths: 'CachePaths',
} as const;

export const DEFAULT_TIMEOUT_MINUTES = 60;
/** A CodePipeline job's own limit for a custom action is long; this keeps a runaway build bounded. */
export const MAX_TIMEOUT_MINUTES = 1440;
/** CodePipeline's own limit on a configuration value. */
export const MAX_PROPERTY_LENGTH = 1000;

/** An AMI ID: ami- and 8 or 17 hexadecimal digits. */
export const IMAGE_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
/** Family, generation and size, e.g. t3.micro, m7i-flex.large, g5.12xlarge, u-6tb1.metal. */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9-]+$/;
/** InstanceType may list fallbacks, comma-separated, tried in order when EC2 lacks capacity. */
export const MAX_INSTANCE_TYPES = 5;

/** Characters a path may not hold: control characters, quotes and shell metacharacters. */
export const SSM_PATTERNS = {
  path: "^[^\\x00-\\x1f\\x7f\"'`$;&|<>*?]{0,1000}$",
  url: '^(https?://[^\\s"\'`]{1,8000})?$',
  jobId: '^[0-9a-zA-Z-]{1,128}$',
  kmsKeyId: '^[A-Za-z0-9:/_-]{0,2048}$',
  timeout: '^[0-9]{1,6}$',
  taskToken: '^[A-Za-z0-9+/=_.:-]{1,4096}$',
  /**
   * A Step Functions execution name (the poller's: job id and a hash): 1 to 80 characters, and only these
   * for an execution logged to CloudWatch (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name);
   * empty for the upload phase.
   */
  executionName: '^[0-9A-Za-z_-]{0,80}$',
  /**
   * The pipeline context a build sees (empty when CodePipeline gives none): pipeline, stage and action names are 1 to
   * 100 of [A-Za-z0-9.@-_], an execution ID is a UUID (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineContext.html,
   * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionContext.html). A revision is 1 to 1500 characters
   * with no documented pattern (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Artifact.html): these
   * characters cover commit IDs, S3 version IDs and image digests; any other revision reaches the build as empty.
   */
  pipelineName: '^[A-Za-z0-9.@_-]{0,100}$',
  pipelineExecutionId: '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?$',
  revision: '^[A-Za-z0-9._:/+=@-]{0,1500}$',
  /**
   * The artifacts after the first of their kind, for the document's SecondaryInputUrls and SecondaryOutputUrls: up to 4
   * `name=url`, space-separated. A name is CodePipeline's artifact name, 1 to 100 of [A-Za-z0-9_-]
   * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_InputArtifact.html); a URL as `url` holds no
   * space, so the space separates them and nothing else.
   */
  secondaryUrls: '^([A-Za-z0-9_-]{1,100}=https?://[^\\s"\'`]{1,8000}( [A-Za-z0-9_-]{1,100}=https?://[^\\s"\'`]{1,8000}){0,3})?$',
  /** The outputs after the first, for the document's SecondaryOutputPaths: up to 4 `name=path`, comma-separated (a path as `path`, without a comma). */
  secondaryOutputPaths: '^([A-Za-z0-9_-]{1,100}=[^\\x00-\\x1f\\x7f"\'`$;&|<>*?,]{1,1000}(,[A-Za-z0-9_-]{1,100}=[^\\x00-\\x1f\\x7f"\'`$;&|<>*?,]{1,1000}){0,3})?$',
  /** ExportedVariables' names, comma-separated (lambdas/shared/build-environment.ts's VARIABLE_NAME each); empty for none. */
  exportedVariables: '^([A-Za-z_][A-Za-z0-9_]{0,127}(,[A-Za-z_][A-Za-z0-9_]{0,127})*)?$',
  /** CachePaths' directories, comma-separated: a path's characters, 200 at most (lambdas/shared/cache-paths.ts). */
  cachePaths: "^[^\\x00-\\x1f\\x7f\"'`$;&|<>*?]{0,200}$",
} as const;

const SAFE_PATH = new RegExp(SSM_PATTERNS.path);
const WINDOWS_ABSOLUTE = /^[A-Za-z]:[\\/]/;

function segments(path: string): string[] {
  return path.split(/[\\/]+/);
}

/** Why a path value is unsafe, or null when it is fine. */
function unsafePath(value: string): string | null {
  if (!SAFE_PATH.test(value)) return 'must not contain control characters, quotes or any of ` $ ; & | < > * ?';
  if (segments(value).includes('..')) return "must not contain a '..' segment";
  return null;
}

export function workingDirectoryProblem(value: string): string | null {
  if (value === '') return null;
  const unsafe = unsafePath(value);
  if (unsafe) return unsafe;
  if (!value.startsWith('/') && !WINDOWS_ABSOLUTE.test(value)) return 'must be an absolute path, like /opt/build or C:\\build';
  return null;
}

export function outputPathProblem(value: string): string | null {
  if (value === '') return null;
  const unsafe = unsafePath(value);
  if (unsafe) return unsafe;
  if (value.startsWith('/') || value.startsWith('\\') || WINDOWS_ABSOLUTE.test(value)) {
    return 'must be relative to the working directory, like dist or build/app.zip';
  }
  if (segments(value).every((s) => s === '' || s === '.')) return 'must name a file or directory inside the working directory, not the directory itself';
  return null;
}
