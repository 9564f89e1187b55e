import { cacheReport, cacheSentence, size } from '../../lambdas/shared/cache-report';

describe('the caches\' report in the job\'s summary', () => {
  it('reads the restore from the build\'s standard error and the save from the upload\'s', () => {
    const build = 'ec2-build-action-cache restore=hit bytes=1234567 ms=80\nec2-build-action-cache archive bytes=1300000 ms=90\n';
    const upload = 'ec2-build-action-cache save=saved bytes=1300000 ms=40\n';
    const report = cacheReport(build, upload);
    expect(report).toEqual({ restore: 'hit', restoredBytes: 1234567, save: 'saved', savedBytes: 1300000 });
    expect(cacheSentence(report)).toBe(' Cache: hit (restored 1.2 MB), saved 1.3 MB.');
  });

  it('says miss, and why nothing was saved', () => {
    expect(cacheSentence(cacheReport('ec2-build-action-cache restore=miss bytes=0 ms=3', 'ec2-build-action-cache save=failed bytes=0 ms=5'))).toBe(' Cache: miss, not saved (see the log).');
    expect(cacheSentence(cacheReport('ec2-build-action-cache restore=miss bytes=10 ms=3', 'ec2-build-action-cache save=skipped bytes=0 ms=5'))).toBe(' Cache: miss (restored 10 bytes of it), not saved (over 5 GB).');
    // A failed build never saved: the sentence stops at the restore.
    expect(cacheSentence(cacheReport('ec2-build-action-cache restore=miss bytes=0 ms=3', undefined))).toBe(' Cache: miss.');
  });

  it('says nothing for a job without caches', () => {
    expect(cacheReport('', '')).toBeNull();
    expect(cacheSentence(cacheReport(undefined, undefined))).toBe('');
    expect(cacheSentence(cacheReport('ec2-build-action-cache restore=none bytes=0 ms=0', ''))).toBe('');
  });

  it('writes sizes as S3\'s console does', () => {
    expect([size(0), size(999), size(1000), size(5_300_000_000)]).toEqual(['0 bytes', '999 bytes', '1.0 KB', '5.3 GB']);
  });
});
