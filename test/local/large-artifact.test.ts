import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';

const MB = 1024 * 1024;
const SIZE_MB = 500;
let cloud: LocalCloud;
let tmp: string;

beforeAll(async () => {
  cloud = await LocalCloud.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'large-'));
});
afterAll(async () => {
  await cloud.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sha256(file: string): string {
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
}

/** Highest resident set size of this process while `work` runs, sampled every 50 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const result = await work();
    return { result, growth: Math.max(peak, process.memoryUsage().rss) - before };
  } finally {
    clearInterval(sampler);
  }
}

describe('a 500 MB artifact', () => {
  it('goes in and out of the build streamed, with its bytes intact and memory flat', async () => {
    // GIVEN a source of 500 MB that does not compress, so the artifacts are 500 MB too
    const source = path.join(tmp, 'source dir');
    fs.mkdirSync(source);
    const big = path.join(source, 'data.bin');
    execFileSync('bash', ['-c', `head -c ${SIZE_MB}M /dev/urandom > "$1"`, '_', big]);
    const inputHash = sha256(big);
    const out = path.join(tmp, 'output.zip');

    // (the functions' execution environments are worker threads of this process: a small job first
    // starts them, so that what is measured is the artifact's way through, not the functions' own memory)
    const warm = path.join(tmp, 'warm');
    fs.mkdirSync(warm);
    fs.writeFileSync(path.join(warm, 'a.txt'), 'a');
    expect((await runJob(cloud, { source: warm, command: 'mkdir -p dist && cp a.txt dist/', outputPath: 'dist' })).status).toBe('Succeeded');

    // WHEN a build moves it into its output
    const { result: summary, growth } = await peakRss(() =>
      runJob(cloud, { source, command: 'mkdir -p dist && mv data.bin dist/ && ls -l dist', outputPath: 'dist', out }),
    );

    // THEN the job succeeds, once, with its instance released
    expect(summary).toMatchObject({ status: 'Succeeded', jobResults: 1, instancesLaunched: 1, instancesReleased: 1, outputArtifact: out });
    // AND the output artifact holds the same 500 MB
    expect(fs.statSync(out).size).toBeGreaterThan(SIZE_MB * MB);
    const extracted = path.join(tmp, 'extracted');
    execFileSync('unzip', ['-q', out, '-d', extracted]);
    expect(sha256(path.join(extracted, 'data.bin'))).toBe(inputHash);
    // AND this process (runner, artifact store and its signature check) never held the artifact in memory
    expect(growth).toBeLessThan(150 * MB);
  }, 600_000);
});
