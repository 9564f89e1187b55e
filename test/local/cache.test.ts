import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalCloud } from '../../local/cloud';
import { runJob, type JobSummary } from '../../local/job';
import { cacheKey, cacheOwner } from '../../lambdas/shared/cache-paths';
import { CACHE_STATEMENTS } from './environment-statements';

/**
 * CachePaths through the real poller, state machine, functions and document (run with bash against the local S3):
 * saved after a successful build, restored by the next build of the same action only, and never a failure (issue #13).
 */
let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await LocalCloud.start();
}, 300_000);
afterAll(() => cloud.stop());

/** A build that says what its cache held, then writes this run's mark into it (and a relative and a nested directory). */
const MARK = 'if [ -f deps/mark ]; then echo "restored=$(cat deps/mark) nested=$(cat .cache/tool/file)"; else echo restored=nothing; fi; mkdir -p deps .cache/tool; echo "$MARK" > deps/mark; echo nested-ok > .cache/tool/file';

function build(actionName: string, mark: string, extra = ''): Promise<JobSummary> {
  return runJob(cloud, {
    source: path.join(__dirname, '../../examples/hello'),
    command: `MARK=${mark}; ${MARK}${extra}`,
    actionName,
    properties: { CachePaths: 'deps, .cache/tool/' },
  });
}

/** The job's own output: what its instance streamed to CloudWatch Logs. */
function logOf(summary: JobSummary): string {
  const instances = new Set(summary.timeline.commands.map((c) => c.instanceId));
  const groups = cloud.stack.resources('AWS::Logs::LogGroup').map(([id]) => cloud.stack.ref(id));
  return groups.flatMap((g) => cloud.logs.streams(g).filter((s) => instances.has(s.split('/')[1])).map((s) => (cloud.logs.events(g, s) ?? []).join(''))).join('\n');
}

const jobBucket = () => cloud.stack.ref(cloud.stack.resources('AWS::S3::Bucket')[0][0]);
const keyOf = (actionName: string, paths: string) => cacheKey(cacheOwner({ pipelineName: 'local-pipeline', stageName: 'Build', actionName })!, paths);

describe('CachePaths, end to end', () => {
  it('saves the directories after a successful build and restores them in the next build of the same action only', async () => {
    // GIVEN a first build of an action: nothing to restore yet
    const first = await build('Compile', 'one');
    expect(first).toMatchObject({ status: 'Succeeded', jobResults: 1, cache: 'miss' });
    expect(logOf(first)).toContain('restored=nothing');
    expect(first.successSummary).toMatch(/Cache: miss, saved \d+(\.\d)? (bytes|KB)\./);
    // WHEN the same action builds again
    const second = await build('Compile', 'two');
    // THEN its build finds both directories as the first build left them, and says so
    expect(second).toMatchObject({ status: 'Succeeded', cache: 'hit' });
    expect(logOf(second)).toContain('restored=one nested=nested-ok');
    expect(second.successSummary).toMatch(/Cache: hit \(restored \d+(\.\d)? (bytes|KB)\), saved /);
    // AND another action of the same pipeline and stage finds nothing of it
    const other = await build('Test', 'three');
    expect(other).toMatchObject({ status: 'Succeeded', cache: 'miss' });
    expect(logOf(other)).toContain('restored=nothing');
  }, 180_000);

  it('saves nothing after a failed build', async () => {
    // GIVEN a build that writes its cache directories and then fails
    const failed = await build('Package', 'failed', '; exit 3');
    expect(failed).toMatchObject({ status: 'Failed', failureType: 'JobFailed', cache: 'miss' });
    // WHEN the action builds again, THEN there is nothing to restore
    const next = await build('Package', 'after');
    expect(next).toMatchObject({ status: 'Succeeded', cache: 'miss' });
    expect(logOf(next)).toContain('restored=nothing');
  }, 180_000);

  it('builds without its cache, and succeeds, when the cache is corrupt', async () => {
    // GIVEN an action whose saved cache was overwritten with bytes that are no archive
    expect(await build('Lint', 'one')).toMatchObject({ status: 'Succeeded' });
    await cloud.s3.client.send(new PutObjectCommand({ Bucket: jobBucket(), Key: keyOf('Lint', 'deps,.cache/tool'), Body: Buffer.from('\x28\xb5\x2f\xfd not zstd at all') }));
    // WHEN it builds again
    const next = await build('Lint', 'two');
    // THEN it is a miss (nothing half-restored), said in the log, and the build succeeds
    expect(next).toMatchObject({ status: 'Succeeded', cache: 'miss' });
    const log = logOf(next);
    expect(log).toContain('restored=nothing');
    expect(log).toContain('cache: miss (HTTP 200, unreadable archive)');
    // AND the next build has the cache this one saved
    expect(await build('Lint', 'three')).toMatchObject({ status: 'Succeeded', cache: 'hit' });
  }, 240_000);

  it('builds without its cache, and succeeds, when the cache URLs have expired', async () => {
    // GIVEN an action with a saved cache, and a store whose clock is past the cache URLs' expiry
    expect(await build('Docs', 'one')).toMatchObject({ status: 'Succeeded' });
    const clock = cloud.s3.clockAheadMs;
    cloud.s3.clockAheadMs = (key) => (key.includes('/cache/') ? 31 * 60 * 1000 : clock(key));
    try {
      // WHEN it builds again
      const next = await build('Docs', 'two');
      // THEN the restore is a miss (HTTP 403), the save is refused, and the build still succeeds
      expect(next).toMatchObject({ status: 'Succeeded', jobResults: 1, cache: 'miss' });
      expect(logOf(next)).toContain('cache: miss (HTTP 403)');
      expect(next.successSummary).toMatch(/Cache: miss, not saved \(see the log\)\./);
    } finally {
      cloud.s3.clockAheadMs = clock;
    }
  }, 180_000);

  it('used the statement only cached builds need (the faults\' runs leave it out)', () => {
    const statements = cloud.authorizer.allStatements().filter((st) => CACHE_STATEMENTS.test(st));
    expect(statements).toHaveLength(1);
    expect(cloud.authorizer.usedStatements.has(statements[0])).toBe(true);
  });
});
