import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_MARKER } from '../../lambdas/shared/cache-report';
import { LocalCloud } from '../cloud';
import { ARTIFACT_BUCKET } from '../s3';
import { runJob, type JobSummary } from '../job';
import { SCALED } from './jobs';
import { median } from './stats';

/**
 * `cache_restore_ratio_500mb` (#13): what CachePaths costs a build for a 500 MB directory (archive and upload after
 * one build, download and unpack before the next: the document's own timings of those steps, in the same jobs) against
 * a plain tar and untar of the same directory through the same store: tar to a file, PUT it with curl to a presigned
 * URL of the same local S3 server, GET it with curl into tar (a cache is kept off the instance, so the plain way moves
 * the same bytes over the same network; what is left is the cache's own work: compression, staging, reports).
 * Beside it, `cache_restore_ratio_500mb_local_tar`: the same against a tar and untar on the local disk alone (no transfer),
 * the comparison the wording can also be read as. Side by side, median of several runs each.
 */

export interface CacheFigures {
  /** Median of the cache's own work per build: restore, then archive and upload (ms). */
  readonly cachedMs: number;
  /** Median of tar to a file, PUT through the store, GET into untar (ms). */
  readonly plainMs: number;
  /** Median of tar to a file plus untar from it, on the local disk (ms). */
  readonly localTarMs: number;
  readonly sizeMb: number;
  /** Compressed size of the directory's archive (bytes). */
  readonly archivedBytes: number;
  readonly samples: readonly { readonly cachedMs: number; readonly plainMs: number; readonly localTarMs: number; readonly steps: string }[];
}

const HELLO = path.join(__dirname, '..', '..', 'examples', 'hello');

/**
 * A directory like a dependency cache: files of 1 MB in 25 subdirectories, half of random bytes (already compressed:
 * packages, images) and half of text (base64), so the compressor meets both.
 */
function makeDirectory(dir: string, sizeMb: number): void {
  execFileSync('bash', ['-c', 'set -e; for i in $(seq 1 "$2"); do d="$1/pkg$((i % 25))"; mkdir -p "$d"; if [ $((i % 2)) -eq 0 ]; then head -c 1048576 /dev/urandom > "$d/blob$i.bin"; else head -c 786432 /dev/urandom | base64 -w 100 | head -c 1048576 > "$d/text$i.txt"; fi; done', '_', dir, String(sizeMb)]);
}

/** The cache's timings the document reported on a command's standard error (lambdas/shared/cache-report.ts). */
function reported(cloud: LocalCloud, summary: JobSummary): { ms: number; archivedBytes: number; hit: boolean; steps: string } {
  const instanceId = summary.timeline.commands.find((c) => c.phase === 'build')?.instanceId ?? '';
  const lines = cloud.ssm.errorOutputsOn(instanceId).flatMap((o) => o.stderr.split('\n')).filter((l) => l.startsWith(`${CACHE_MARKER} `));
  const field = (line: string, name: string) => Number(line.match(new RegExp(`\\b${name}=(\\d+)`))?.[1] ?? NaN);
  const ms = lines.reduce((sum, l) => sum + field(l, 'ms'), 0);
  const archive = lines.find((l) => l.includes(' archive '));
  const save = lines.find((l) => l.includes(' save=saved'));
  if (!archive || !save || !Number.isFinite(ms)) throw new Error(`the cache was not archived and saved: ${lines.join(' | ') || 'no cache report'}`);
  // Each step's share: restore (download and unpack), archive (tar and compress), save (upload).
  const steps = lines.map((l) => `${l.split(' ')[1].split('=')[0]} ${field(l, 'ms')}`).join(', ');
  return { ms, archivedBytes: field(archive, 'bytes'), hit: lines.some((l) => l.includes(' restore=hit ')), steps };
}

function timed(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const run = promisify(execFile);

async function timedAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function cacheRestore(sizeMb = 500, runs = 5): Promise<CacheFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cache-'));
  const cloud = await LocalCloud.start(SCALED);
  try {
    const source = path.join(dir, 'deps');
    makeDirectory(source, sizeMb);
    const flush = () => void execFileSync('sync');
    const job = (command: string) =>
      runJob(cloud, { source: HELLO, command, actionName: 'BenchCache', properties: { CachePaths: 'deps' }, beforeStarted: flush }).then((s) => {
        if (s.status !== 'Succeeded') throw new Error(`cache job failed: ${s.failureMessage}`);
        return s;
      });
    // The first build fills the cache (its copy of the directory is the build's own work, not the cache's).
    await job(`cp -a ${JSON.stringify(source)} deps`);
    const samples: { cachedMs: number; plainMs: number; localTarMs: number; steps: string }[] = [];
    const url = (command: PutObjectCommand | GetObjectCommand) => getSignedUrl(cloud.s3.client, command, { expiresIn: 600 });
    const key = 'bench/plain-cache.tar';
    let archivedBytes = 0;
    for (let i = 0; i < runs; i++) {
      // Each later build restores the directory, builds nothing, and saves it again.
      const s = await job('test -d deps');
      const r = reported(cloud, s);
      if (!r.hit) throw new Error('a later build did not restore the cache');
      archivedBytes = r.archivedBytes;
      // The same directory, plainly: tar to a file, PUT it to the store, GET it into untar elsewhere (S3 needs a PUT's
      // length: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonRequestHeaders.html, so a file, as the cache).
      const archive = path.join(dir, 'plain.tar');
      const out = fs.mkdtempSync(path.join(dir, 'untar-'));
      const [put, get] = [await url(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key })), await url(new GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key }))];
      flush();
      const tarMs = timed(() => execFileSync('tar', ['-c', '-f', archive, '-C', source, '.']));
      // (not execFileSync: the store serves from this process, whose event loop must run meanwhile)
      const putMs = await timedAsync(() => run('curl', ['-sf', '-T', archive, '-o', '/dev/null', put]));
      const getMs = await timedAsync(() => run('bash', ['-c', 'set -o pipefail; curl -sf "$1" | tar -x -C "$2"', '_', get, out]));
      fs.rmSync(out, { recursive: true, force: true });
      // And on the local disk alone: untar the same file.
      const local = fs.mkdtempSync(path.join(dir, 'untar-'));
      flush();
      const untarMs = timed(() => execFileSync('tar', ['-x', '-f', archive, '-C', local]));
      fs.rmSync(local, { recursive: true, force: true });
      fs.rmSync(archive, { force: true });
      const plainMs = tarMs + putMs + getMs;
      const localTarMs = tarMs + untarMs;
      samples.push({ cachedMs: r.ms, plainMs, localTarMs, steps: r.steps });
      process.stderr.write(`  run ${i + 1} of ${runs}: cache ${r.ms} ms (${r.steps}), plain through the store ${Math.round(plainMs)} ms (tar ${Math.round(tarMs)}, put ${Math.round(putMs)}, get and untar ${Math.round(getMs)}), local tar and untar ${Math.round(localTarMs)} ms\n`);
    }
    return { cachedMs: median(samples.map((s) => s.cachedMs)), plainMs: median(samples.map((s) => s.plainMs)), localTarMs: median(samples.map((s) => s.localTarMs)), sizeMb, archivedBytes, samples };
  } finally {
    await cloud.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
