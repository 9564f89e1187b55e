import { credentialsFor } from '../iam/identity';

/** What every function's environment gets from the local cloud: where the services are, and the log level. */
export interface BaseEnvironment {
  /** AWS_ENDPOINT_URL_<SERVICE> of each local service. */
  readonly endpoints: Record<string, string>;
  readonly region: string;
  /** Variables the local cloud adds for every function (log levels, the SDK's retry budget, S3 path style). */
  readonly extra: Record<string, string>;
}

export interface FunctionIdentity {
  readonly name: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMB: number;
  readonly codeDir: string;
  /** The logical id of the function's role in the template: its credentials name it. */
  readonly roleLogicalId: string;
  /** The function's Environment.Variables, resolved. */
  readonly variables: Record<string, string>;
}

/**
 * Keys Lambda reserves: a function's configuration may not set them
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 */
export const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];

/**
 * "4 KB, for all environment variables associated with the function, in aggregate"
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). The page does not say how
 * the size is counted; the JSON text of the variables counts keys, values and some punctuation, so a
 * set that fits here fits under any narrower count.
 */
export const VARIABLES_LIMIT = 4096;

/** Refuses a function configuration Lambda would refuse, naming the function. */
export function checkVariables(functionName: string, variables: Record<string, string>): void {
  const reserved = Object.keys(variables).filter((k) => RESERVED_VARIABLES.includes(k));
  if (reserved.length) throw new Error(`${functionName}: Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`);
  const size = Buffer.byteLength(JSON.stringify(variables));
  if (size > VARIABLES_LIMIT) throw new Error(`${functionName}: Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit (${size} bytes)`);
}

/**
 * A function's process.env as Lambda builds it: the reserved variables the runtime defines
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * the execution role's temporary credentials (here, credentials whose access key names the role, so
 * the local services know who calls), then the function's own variables. TZ is left out: in a worker
 * thread it would change the whole process's time zone.
 */
export function lambdaEnvironment(fn: FunctionIdentity, base: BaseEnvironment): Record<string, string> {
  checkVariables(fn.name, fn.variables);
  const credentials = credentialsFor(fn.roleLogicalId);
  const env: Record<string, string> = {
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LANG: 'en_US.UTF-8',
    _HANDLER: fn.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMB),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]local`,
    AWS_REGION: base.region,
    AWS_DEFAULT_REGION: base.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    LAMBDA_TASK_ROOT: fn.codeDir,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    ...base.extra,
  };
  for (const [service, url] of Object.entries(base.endpoints)) env[`AWS_ENDPOINT_URL_${service}`] = url;
  return { ...env, ...fn.variables };
}
