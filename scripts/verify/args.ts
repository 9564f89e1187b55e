import * as fs from 'node:fs';

/** `npm run verify` options (see README "Verify a deployment"). */
export interface VerifyOptions {
  readonly region?: string;
  readonly stack: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly command: string;
  readonly outputPath: string;
  readonly source: string;
  /** Give up on the pipeline after this long (the resources are deleted either way). */
  readonly timeoutMinutes: number;
  readonly endpoints?: EndpointConfig;
}

/**
 * For tests: where each service is (a local cloud), the credentials to sign with, and how often to
 * look at the pipeline. A user never needs it: the SDK's own configuration applies.
 */
export interface EndpointConfig {
  readonly endpoints: Partial<Record<'cloudformation' | 'iam' | 's3' | 'codepipeline' | 'sfn', string>>;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly region?: string;
  readonly pollMs?: number;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm run verify -- --image-id AMI [options]

Creates a throwaway pipeline (S3 source -> this action) against a deployed stack, runs
examples/hello through it, prints each phase's time and deletes everything it created.

  --image-id AMI            AMI to build on (required; it needs the SSM agent, bash, cc, zip, unzip)
  --instance-type TYPE      instance type (default t3.medium)
  --command TEXT            build command (default: bash build.sh)
  --output-path PATH        output artifact path (default: dist)
  --source DIR              source to build (default: examples/hello)
  --region REGION           Region of the stack (default: the SDK's)
  --stack NAME              stack name (default: Ec2BuildAction)
  --timeout-minutes N       give up after N minutes (default: 60)
  --endpoint-config FILE    tests only: JSON with endpoints, credentials and poll interval

Exit status: 0 the build succeeded, 1 it failed (or was interrupted), 2 usage error.`;

const FLAGS: Record<string, string> = {
  '--image-id': 'imageId',
  '--instance-type': 'instanceType',
  '--command': 'command',
  '--output-path': 'outputPath',
  '--source': 'source',
  '--region': 'region',
  '--stack': 'stack',
  '--timeout-minutes': 'timeoutMinutes',
  '--endpoint-config': 'endpointConfig',
};

/** Reads the command line; throws UsageError naming the problem. */
export function parseArgs(argv: readonly string[], defaultSource: string): VerifyOptions {
  const given: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const key = FLAGS[argv[i]];
    if (!key) throw new UsageError(`unknown option ${JSON.stringify(argv[i])}`);
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${argv[i - 1]} needs a value`);
    given[key] = value;
  }
  if (!given.imageId) throw new UsageError('--image-id is required');
  if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(given.imageId)) throw new UsageError(`--image-id must be ami- and 8 or 17 hex digits, got ${JSON.stringify(given.imageId)}`);
  const timeoutMinutes = Number(given.timeoutMinutes ?? '60');
  if (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 1) throw new UsageError(`--timeout-minutes must be a whole number of minutes, got ${JSON.stringify(given.timeoutMinutes)}`);
  let endpoints: EndpointConfig | undefined;
  if (given.endpointConfig) {
    try {
      endpoints = JSON.parse(fs.readFileSync(given.endpointConfig, 'utf8')) as EndpointConfig;
    } catch (err) {
      throw new UsageError(`--endpoint-config ${given.endpointConfig}: ${(err as Error).message}`);
    }
  }
  return {
    region: given.region ?? endpoints?.region,
    stack: given.stack ?? 'Ec2BuildAction',
    imageId: given.imageId,
    instanceType: given.instanceType ?? 't3.medium',
    command: given.command ?? 'bash build.sh',
    outputPath: given.outputPath ?? 'dist',
    source: given.source ?? defaultSource,
    timeoutMinutes,
    endpoints,
  };
}
