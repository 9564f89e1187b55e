import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { StartPipelineExecutionCommand, StopPipelineExecutionCommand } from '@aws-sdk/client-codepipeline';
import { parseArgs, USAGE, UsageError } from './args';
import { destroyClients, makeClients } from './clients';
import { formatPhases, phasesOf } from './phases';
import { Cleanup, createBucket, createPipeline, createRole, readStack, uploadSource } from './resources';
import { Interrupted, watch } from './watch';

/**
 * `npm run verify`: against a deployed stack, a throwaway pipeline (S3 source -> this action) runs
 * examples/hello; each phase's time is printed; everything created is deleted, on success, failure,
 * Ctrl-C (SIGINT) or SIGTERM. Exit status 0 when the build succeeded, 1 when it did not (or was
 * interrupted, or something could not be deleted), 2 for a usage error.
 */

export interface VerifyIo {
  readonly log: (line: string) => void;
  /** Aborts the run as a signal would (tests). */
  readonly signal?: AbortSignal;
}

const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'hello');
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function main(argv: readonly string[], io: VerifyIo = { log: (l) => console.log(l) }): Promise<number> {
  if (argv.includes('--help')) {
    io.log(USAGE);
    return 0;
  }
  let options;
  try {
    options = parseArgs(argv, EXAMPLE);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.log(`verify: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  io.signal?.addEventListener('abort', interrupt, { once: true });
  for (const s of SIGNALS) process.on(s, interrupt);
  const clients = makeClients(options);
  const cleanup = new Cleanup();
  const pollMs = options.endpoints?.pollMs ?? 5000;
  const name = `ec2-build-verify-${randomBytes(4).toString('hex')}`;
  let code: number;
  try {
    const region = options.region ?? (await clients.s3.config.region());
    const stack = await readStack(clients, options.stack);
    io.log(`stack ${options.stack}: action ${stack.actionTypeId.owner}/${stack.actionTypeId.category}/${stack.actionTypeId.provider}/${stack.actionTypeId.version} in ${region}`);
    await createBucket(clients, name, region, cleanup);
    const sourceKey = await uploadSource(clients, name, options.source);
    const roleArn = await createRole(clients, name, name, stack, cleanup);
    await createPipeline(clients, options, { pipeline: name, bucket: name, sourceKey, roleArn }, stack.actionTypeId, cleanup, pollMs);
    io.log(`created bucket, role and pipeline ${name}`);
    if (controller.signal.aborted) throw new Interrupted('interrupted');
    const { pipelineExecutionId } = await clients.codepipeline.send(new StartPipelineExecutionCommand({ name }));
    // Runs first at clean-up: a build still running is stopped and abandoned before its pipeline goes.
    cleanup.add(`execution ${pipelineExecutionId} (stopped and abandoned if still running)`, async () => {
      try {
        await clients.codepipeline.send(new StopPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: pipelineExecutionId!, abandon: true, reason: 'npm run verify is cleaning up' }));
      } catch (err) {
        if ((err as Error).name !== 'PipelineExecutionNotStoppableException') throw err;
      }
    });
    io.log(`started execution ${pipelineExecutionId}`);
    const outcome = await watch(clients, name, pipelineExecutionId!, { pollMs, deadline: Date.now() + options.timeoutMinutes * 60_000, signal: controller.signal, log: io.log });
    io.log(`pipeline execution: ${outcome.status}`);
    for (const a of outcome.actions.filter((x) => x.status === 'Failed')) {
      const e = a.output?.executionResult?.errorDetails;
      io.log(`${a.stageName === 'Build' ? 'build' : `action ${a.stageName}/${a.actionName}`} failed: ${e?.code}: ${e?.message}`);
    }
    if (outcome.action) {
      const details = outcome.action.output?.executionResult;
      if (details?.externalExecutionId) io.log(`Step Functions execution: ${details.externalExecutionId}`);
      io.log('phases:');
      for (const line of formatPhases(await phasesOf(clients, outcome.action))) io.log(line);
    }
    code = outcome.status === 'Succeeded' ? 0 : 1;
  } catch (err) {
    io.log(err instanceof Interrupted ? 'verify: interrupted; deleting what was created' : `verify: ${(err as Error).name}: ${(err as Error).message}`);
    code = 1;
  } finally {
    const left = await cleanup.run(io.log);
    for (const line of left) io.log(`verify: could not delete ${line}`);
    if (left.length > 0) code = 1;
    for (const s of SIGNALS) process.off(s, interrupt);
    destroyClients(clients);
  }
  io.log(code === 0 ? 'verify: passed' : 'verify: FAILED');
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
