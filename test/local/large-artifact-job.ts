/**
 * Runs one job on a local cloud of its own and prints, as one JSON line, its summary and the most memory this process
 * held while the job ran. Started by large-artifact.test.ts in a fresh process with V8's --expose-gc: a collection in a
 * fresh heap takes milliseconds, where in a long-lived jest worker it took longer than the sampling interval.
 *
 * Usage: node --expose-gc --import tsx test/local/large-artifact-job.ts SOURCE_DIR OUT_ZIP
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { runJob } from '../../local/job';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('start this script with node --expose-gc');

/** What this process still holds after a collection: its heap and its buffers (where an artifact read whole would be). */
function heldBytes(): number {
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function main(source: string, out: string): Promise<void> {
  const cloud = await LocalCloud.start();
  const warm = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-'));
  try {
    // The functions' execution environments are worker threads of this process: a small job first starts them, so
    // that what is measured is the artifact's way through, not the functions' own memory.
    fs.writeFileSync(path.join(warm, 'a.txt'), 'a');
    const first = await runJob(cloud, { source: warm, command: 'mkdir -p dist && cp a.txt dist/', outputPath: 'dist' });
    if (first.status !== 'Succeeded') throw new Error(`the warm-up job ended ${first.status}`);

    const before = heldBytes();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, heldBytes())), 250);
    try {
      const summary = await runJob(cloud, { source, command: 'mkdir -p dist && mv data.bin dist/ && ls -l dist', outputPath: 'dist', out });
      peak = Math.max(peak, heldBytes());
      process.stdout.write(`${JSON.stringify({ summary, heldGrowth: peak - before })}\n`);
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await cloud.stop();
    fs.rmSync(warm, { recursive: true, force: true });
  }
}

const [source, out] = process.argv.slice(2);
main(source, out).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
