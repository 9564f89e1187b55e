import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The current stack, synthesized once per change: `npm run local` and the tests run the local cloud
 * against the real template and its Lambda bundles, and a synth takes seconds. The cloud assembly is
 * kept under node_modules/.cache, in a folder named after a hash of everything the synth reads, and
 * reused while that hash matches. Concurrent processes (jest workers) synthesize once: one holds a
 * lock folder, the others wait for the finished assembly, which appears by an atomic rename.
 */

const ROOT = path.join(__dirname, '..');
const INPUTS = ['bin', 'lib', 'lambdas', 'state-machines', 'ssm-documents', 'action-types', 'package-lock.json', 'cdk.json', 'tsconfig.json'];
export const STACK_NAME = 'Ec2BuildAction';
/**
 * The local cloud's VPC has two subnets (local/services/ec2.ts); the stack is synthesized to launch in
 * them, as `-c ec2-build-action:subnetIds=…` would on an account, so that the capacity faults can move on.
 */
export const LOCAL_SUBNETS = ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'];
const SYNTH_ARGS = ['cdk', 'synth', '-q', '-c', `ec2-build-action:subnetIds=${LOCAL_SUBNETS.join(',')}`];
/** Older than any synth, even on a loaded machine: the lock of a process that died. */
const LOCK_STALE_MS = 600_000;

function filesUnder(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [entry];
  return fs
    .readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(path.join(entry, name)));
}

/** The synth's arguments: the local subnets, and any context the run adds (its fleets). */
function synthArgs(context: Readonly<Record<string, string>>): string[] {
  return [...SYNTH_ARGS, ...Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
}

/** A hash of every input of the synth, and of how it is run. */
export function inputsHash(context: Readonly<Record<string, string>> = {}): string {
  const hash = createHash('sha256').update(JSON.stringify(synthArgs(context)));
  for (const file of INPUTS.flatMap(filesUnder)) hash.update(file).update('\0').update(fs.readFileSync(path.join(ROOT, file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drops assemblies of earlier inputs unused for a day (another checkout's run may still read a recent one), and crashed synths' leftovers. */
function prune(cache: string, keep: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(cache)) {
    const full = path.join(cache, name);
    if (full === keep || name.endsWith('.lock')) continue;
    const age = now - fs.statSync(full).mtimeMs;
    if (age > (name.includes('.tmp-') ? LOCK_STALE_MS : 86_400_000)) fs.rmSync(full, { recursive: true, force: true });
  }
}

/**
 * The template file of the current stack, synthesized now if the cache does not hold this version; `context` adds
 * context values (`ec2-build-action:fleets` for a run on fleets), each its own cached synth.
 */
export async function currentTemplate(log: (line: string) => void = () => undefined, context: Readonly<Record<string, string>> = {}): Promise<string> {
  const cache = path.join(ROOT, 'node_modules', '.cache', 'ec2-build-action');
  const dir = path.join(cache, inputsHash(context));
  const template = path.join(dir, `${STACK_NAME}.template.json`);
  const lock = `${dir}.lock`;
  fs.mkdirSync(cache, { recursive: true });
  for (;;) {
    if (fs.existsSync(template)) return template;
    try {
      fs.mkdirSync(lock);
    } catch {
      // Another process is synthesizing; a lock older than any synth is a crashed one's.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) fs.rmSync(lock, { recursive: true, force: true });
      await sleep(250);
      continue;
    }
    try {
      if (fs.existsSync(template)) return template;
      const out = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
      log(`synthesizing the stack into ${path.relative(ROOT, dir)} (once per change of bin, lib, lambdas, …)`);
      await promisify(execFile)('npx', [...synthArgs(context), '-o', out], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
      try {
        fs.renameSync(out, dir);
      } catch (err) {
        // Another process finished the same synth first (it took our lock for a stale one): keep theirs.
        fs.rmSync(out, { recursive: true, force: true });
        if (!fs.existsSync(template)) throw err;
      }
      prune(cache, dir);
      return template;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}
