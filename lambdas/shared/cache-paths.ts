import { createHash } from 'node:crypto';
import { JobConfigurationError } from './errors';
import { PROPERTY, SSM_PATTERNS } from './properties';
import type { BuildContext } from './types';

/**
 * CachePaths (action type version 3): directories saved after a successful build and restored before the next build
 * of the same pipeline, stage and action, as one archive (a tar stream per directory, its members under the
 * directory's index in the list), one object under the job bucket's cache/ prefix (lib/job-bucket.ts), reached by the
 * instance through a presigned URL only.
 */

/** At most this many directories, as many as artifacts: a build that needs more caches their common parent. */
export const MAX_CACHE_PATHS = 5;
/**
 * At most this many characters, not the 1,000 of any property: the document and a command's parameters share 64 KB
 * (test/lambdas/artifact-sizes.test.ts), and five paths of 40 characters are plenty.
 */
export const MAX_CACHE_PATHS_LENGTH = 200;

/** The job bucket's prefix for caches: its own lifecycle rule (lib/job-bucket.ts) and the signer's only rights. */
export const CACHE_PREFIX = 'cache/';

const SAFE = new RegExp(SSM_PATTERNS.path);
/** A drive (C:, C:\\ or C:/...): trailing separators are dropped first, so C:\\ arrives as C:. */
const WINDOWS_DRIVE = /^[A-Za-z]:([\\/]|$)/;

function invalid(raw: string, rule: string, fix: string): JobConfigurationError {
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
  return new JobConfigurationError(`${PROPERTY.cachePaths} ${rule}, got ${JSON.stringify(shown)}. ${fix}`);
}

/** Why one directory cannot be cached, or null. */
function pathProblem(path: string): string | null {
  if (path === '') return 'lists an empty directory name (two commas in a row, or one at an end)';
  if (path.startsWith('~')) return `names ${JSON.stringify(path)}, but ~ is not expanded (the build runs as root: write /root/... on Linux, or the full path on Windows)`;
  if (path.split(/[\\/]+/).includes('..')) return `names ${JSON.stringify(path)}, which has a '..' segment`;
  const segments = path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || (WINDOWS_DRIVE.test(path) && segments.length === 1)) {
    return `names ${JSON.stringify(path)}, which is the working directory or a root, not a directory to cache`;
  }
  return null;
}

/**
 * The property's directories, each relative to the working directory or absolute (/root/.m2, C:\\cache), separated
 * by commas; trailing slashes dropped. Throws a JobConfigurationError naming CachePaths and the fix.
 */
export function parseCachePaths(raw: string): string[] {
  const value = raw.trim();
  if (value === '') return [];
  if (value.length > MAX_CACHE_PATHS_LENGTH) throw invalid(value, `is ${value.length} characters long; at most ${MAX_CACHE_PATHS_LENGTH}`, 'Cache fewer or shorter directories (their common parent, or paths relative to the working directory).');
  if (!SAFE.test(value)) throw invalid(value, 'must not contain control characters, quotes or any of ` $ ; & | < > * ?', 'List directories separated by commas, like node_modules,/root/.m2.');
  const paths = value.split(',').map((p) => p.trim().replace(/(.)[\\/]+$/, '$1'));
  for (const path of paths) {
    const problem = pathProblem(path);
    if (problem) throw invalid(value, problem, 'List directories, relative to the working directory or absolute, separated by commas, like node_modules,/root/.m2.');
  }
  if (paths.length > MAX_CACHE_PATHS) throw invalid(value, `lists ${paths.length} directories; at most ${MAX_CACHE_PATHS} are cached`, 'Cache their common parent directory instead.');
  if (new Set(paths).size !== paths.length) throw invalid(value, 'lists a directory twice', 'List each directory once.');
  return paths;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Which action a cache belongs to: its pipeline, stage and action, hashed (names hold '.', '@' and '-', so each is
 * length-prefixed first: a/b-c and a-b/c never meet). Null when CodePipeline did not say all three (the job then has
 * no cache rather than sharing one).
 */
export function cacheOwner(context: Pick<BuildContext, 'pipelineName' | 'stageName' | 'actionName'> | undefined): string | null {
  const parts = [context?.pipelineName ?? '', context?.stageName ?? '', context?.actionName ?? ''];
  if (parts.some((p) => p === '')) return null;
  return sha256(parts.map((p) => `${p.length}:${p}`).join('|')).slice(0, 40);
}

/**
 * The object key of an action's cache: under the action's hash, the hash of its directories (CachePaths as the poller
 * normalized it). No name or path the user wrote appears in it (or in the URL); a changed CachePaths starts afresh.
 */
export function cacheKey(owner: string, paths: string): string {
  return `${CACHE_PREFIX}${owner}/${sha256(paths).slice(0, 40)}`;
}
