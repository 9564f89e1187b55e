/**
 * What the build document says about the job's caches, on lines of its standard error that start with CACHE_MARKER
 * (ssm-documents/run-build.yaml): the restore before the build, the archives after it, the upload after the output.
 * Standard error holds nothing else on a successful build (the build's own output goes to standard output), so these
 * lines reach the command's result however much the build printed.
 */
export const CACHE_MARKER = 'ec2-build-action-cache';

export type CacheOutcome = 'hit' | 'miss' | 'none';

export interface CacheReport {
  /** hit: every directory restored; miss: at least one was not; none: the job caches nothing. */
  readonly restore: CacheOutcome;
  readonly restoredBytes: number;
  /** How the save went (null: never attempted, as after a failed build). */
  readonly save: 'saved' | 'skipped' | 'failed' | null;
  readonly savedBytes: number;
}

interface Line {
  readonly fields: Record<string, string>;
}

function lines(text: string | undefined, kind: string): Line[] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l.startsWith(`${CACHE_MARKER} ${kind}`))
    .map((l) => ({ fields: Object.fromEntries(l.slice(CACHE_MARKER.length + 1).split(' ').map((f) => f.split('=') as [string, string])) }));
}

const bytesOf = (line: Line | undefined) => (Number.isFinite(Number(line?.fields.bytes)) ? Number(line?.fields.bytes) : 0);

/** The caches' report from the build and upload commands' standard error, or null when neither speaks of caches. */
export function cacheReport(buildStderr: string | undefined, uploadStderr: string | undefined): CacheReport | null {
  const restore = lines(buildStderr, 'restore=').pop();
  if (!restore) return null;
  const save = lines(uploadStderr, 'save=').pop();
  const outcome = restore.fields.restore;
  const saved = save?.fields.save;
  return {
    restore: outcome === 'hit' || outcome === 'miss' ? outcome : 'none',
    restoredBytes: bytesOf(restore),
    save: saved === 'saved' || saved === 'skipped' || saved === 'failed' ? saved : null,
    savedBytes: bytesOf(save),
  };
}

/** A size for people: bytes, KB, MB or GB (powers of 1,000, as S3's console shows them). */
export function size(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The summary's sentence about the caches ('' when the job has none). */
export function cacheSentence(report: CacheReport | null): string {
  if (!report || report.restore === 'none') return '';
  const restored = report.restore === 'hit' ? `hit (restored ${size(report.restoredBytes)})` : report.restoredBytes > 0 ? `miss (restored ${size(report.restoredBytes)} of it)` : 'miss';
  const saved = report.save === 'saved' ? `, saved ${size(report.savedBytes)}` : report.save === 'skipped' ? ', not saved (over 5 GB)' : report.save === 'failed' ? ', not saved (see the log)' : '';
  return ` Cache: ${restored}${saved}.`;
}
