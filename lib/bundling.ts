import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';

/**
 * How the Lambdas are bundled: one set of esbuild options for the stack, the package and the benchmark,
 * so each measures and ships the same code. ES module entry points first: esbuild can then drop the parts
 * of each AWS SDK client a function does not use (the CommonJS builds are single files it cannot shake).
 * Every function is one file, index.js, exporting `handler`, with the SDK clients it imports bundled in.
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** The package's root: lib/ and lambdas/ here, dist/lib/ and dist/bundles/ in the packed package. */
const ROOT = path.join(__dirname, '..');
/** Where `npm pack` puts each function's bundle (scripts/package/build.ts), so a user's synth runs no bundler. */
export const PACKED_BUNDLES_DIR = path.join(ROOT, 'bundles');
const SOURCES_DIR = path.join(ROOT, 'lambdas');

/** The functions: each folder of lambdas/ with a handler.ts. */
export function lambdaEntries(): string[] {
  return fs
    .readdirSync(SOURCES_DIR)
    .filter((d) => fs.existsSync(path.join(SOURCES_DIR, d, 'handler.ts')))
    .sort();
}

/** Bundles the named functions into outDir/<entry>/index.js, in one esbuild run. */
export function bundleLambdas(outDir: string, entries: readonly string[] = lambdaEntries()): void {
  // Loaded only here: the packed package holds the bundles and never needs esbuild.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    ...BUNDLE_OPTIONS,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    entryPoints: Object.fromEntries(entries.map((e) => [`${e}/index`, path.join(SOURCES_DIR, e, 'handler.ts')])),
    outdir: outDir,
  });
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

/**
 * In the source tree: every function bundled once per change of lambdas/ or the lock file, into a folder of
 * node_modules/.cache named after their hash (built beside it and renamed, so concurrent synths never read half).
 * Found once per process: a synth asks for each of the functions in turn.
 */
let sourceTreeDir: string | undefined;
function sourceTreeBundles(): string {
  sourceTreeDir ??= bundledSourceTree();
  return sourceTreeDir;
}

function bundledSourceTree(): string {
  const hash = createHash('sha256').update(JSON.stringify(BUNDLE_OPTIONS));
  for (const file of [...filesUnder(SOURCES_DIR), path.join(ROOT, 'package-lock.json')].filter((f) => fs.existsSync(f))) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const dir = path.join(ROOT, 'node_modules', '.cache', 'ec2-build-action', 'bundles', hash.digest('hex').slice(0, 16));
  if (fs.existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  bundleLambdas(tmp);
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw err;
  }
  return dir;
}

/** The folder holding one function's index.js: the packed bundle, or in the source tree a fresh one. */
export function bundleDir(entry: string): string {
  const packed = path.join(PACKED_BUNDLES_DIR, entry);
  if (fs.existsSync(path.join(packed, 'index.js'))) return packed;
  if (!fs.existsSync(path.join(SOURCES_DIR, entry, 'handler.ts'))) {
    throw new Error(`the bundle of the ${entry} function is missing from ${PACKED_BUNDLES_DIR}; reinstall ec2-build-action`);
  }
  return path.join(sourceTreeBundles(), entry);
}
