import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENV, type FunctionConfig } from '../../lambdas/shared/env';
import { METRICS_STACK_VARIABLE } from '../../lambdas/shared/metric-names';
import { bundleLambdas, lambdaEntries } from '../../lib/bundling';
import { WATCH_TICK_MS } from '../../lib/readiness';
import { median } from './stats';

/**
 * Each Lambda as it ships: bundled by lib/bundling.ts as the stack and the package bundle it (minified,
 * node22, the SDK clients it uses bundled in), its size, and its cold module load: the median over
 * fresh Node processes of the time to load the bundle (what Lambda's init phase spends on our code).
 */

/** The configuration the stack gives the functions; the loaders check it at cold start. */
const STACK_CONFIG: FunctionConfig = {
  [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:Ec2BuildAction-BuildJob',
  [ENV.actionCategory]: 'Build',
  [ENV.actionProvider]: 'EC2-Build',
  [ENV.actionVersion]: '1',
  [ENV.launchTemplateId]: 'lt-0123456789abcdef0',
  [ENV.subnetIds]: 'subnet-0aaaaaaaaaaaaaaaa',
  [ENV.stackTagValue]: 'Ec2BuildAction',
  [ENV.rootVolumeGiB]: '30',
  [ENV.maxJobMinutes]: '1500',
  [ENV.checkWatchMs]: '20000',
  [ENV.s3ForcePathStyle]: 'false',
  [ENV.buildDocumentName]: 'Ec2BuildAction-RunBuild',
  [ENV.eventGraceMs]: '300000',
  [ENV.jobRenewalSeconds]: '2700',
  [ENV.fleets]: '{}',
  [ENV.poolTableName]: 'Ec2BuildAction-PoolTable',
  [ENV.refillWatchMs]: '50000',
  [ENV.readinessWatcher]: 'Ec2BuildAction-ReadinessWatcher',
  [ENV.readyWithinMs]: '1320000',
  [ENV.firstRegistrationMs]: '240000',
  [ENV.watchTickMs]: String(WATCH_TICK_MS),
  [ENV.watchRunMs]: '60000',
  [ENV.parameterPrefixes]: '',
  [ENV.secretPrefixes]: '',
  [ENV.jobBucketName]: 'ec2buildaction-jobbucket',
  [ENV.holdOnFailureMinutes]: '0',
  [ENV.buildLogGroupName]: 'Ec2BuildAction-BuilderBuildLogs',
};
/** The environment each bundle loads in: the stack's variables (test/local/bench-lambdas.test.ts checks it has every one). */
export const STACK_ENV: Record<string, string> = {
  ...STACK_CONFIG,
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // Every function's metrics name the stack (lib/lambda-function.ts sets it on each).
  [METRICS_STACK_VARIABLE]: 'Ec2BuildAction',
};

export interface LambdaFigures {
  readonly name: string;
  readonly bundleBytes: number;
  readonly initMs: number;
}

export function lambdaNames(): string[] {
  return lambdaEntries();
}

/** Time to load a module in a fresh process, in ms (the process's own start is not counted). */
function coldLoadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...STACK_ENV },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return Number(out);
}

export async function measureLambdas(runs = 20): Promise<LambdaFigures[]> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lambdas-'));
  try {
    const figures: LambdaFigures[] = [];
    bundleLambdas(outDir);
    for (const name of lambdaNames()) {
      const outfile = path.join(outDir, name, 'index.js');
      const times = Array.from({ length: runs }, () => coldLoadMs(outfile));
      figures.push({ name, bundleBytes: fs.statSync(outfile).size, initMs: median(times) });
    }
    return figures;
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}
