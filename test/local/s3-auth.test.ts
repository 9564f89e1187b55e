import { presignDownload, presignUpload } from '../../lambdas/shared/artifacts';
import { checkPresigned } from '../../local/s3-auth';

const SECRETS: Record<string, string> = { AKIDLOCAL: 'right-secret' };
const secretFor = (key: string) => SECRETS[key];
const LOCATION = { bucket: 'artifacts', key: 'my pipeline/Source Arti/ü.zip' };
const SIGNED_AT = new Date('2026-11-22T10:00:00Z');

function credentials(secretAccessKey: string) {
  return { credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey, sessionToken: 'session-token' }, forcePathStyle: true, now: SIGNED_AT };
}

/** The request a client sends for a presigned URL: its path and query, plus the headers it was told to send. */
function requestFor(url: string, method: string, headers: Record<string, string> = {}) {
  const u = new URL(url);
  return { method, url: u.pathname + u.search, headers: { host: u.host, ...headers } };
}

describe('the local artifact store checks presigned URLs as S3 does', () => {
  const previous = process.env.AWS_ENDPOINT_URL_S3;
  beforeAll(() => {
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:4569';
    process.env.AWS_REGION = 'us-east-1';
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = previous;
  });

  it('accepts a download URL signed with the right secret, before it expires', async () => {
    const { url } = await presignDownload(LOCATION, credentials('right-secret'));
    expect(await checkPresigned(requestFor(url, 'GET'), secretFor, new Date('2026-11-22T10:29:00Z'))).toBeNull();
  });

  it('refuses a URL signed with the wrong secret (SignatureDoesNotMatch)', async () => {
    const { url } = await presignDownload(LOCATION, credentials('revoked-secret'));
    expect(await checkPresigned(requestFor(url, 'GET'), secretFor, SIGNED_AT)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses an expired URL (AccessDenied: Request has expired)', async () => {
    const { url } = await presignDownload(LOCATION, credentials('right-secret'));
    expect(await checkPresigned(requestFor(url, 'GET'), secretFor, new Date('2026-11-22T10:31:00Z'))).toMatchObject({
      status: 403,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('refuses an unknown access key', async () => {
    const { url } = await presignDownload(LOCATION, credentials('right-secret'));
    const other = url.replace('AKIDLOCAL', 'AKIDOTHER');
    expect(await checkPresigned(requestFor(other, 'GET'), secretFor, SIGNED_AT)).toMatchObject({ code: 'InvalidAccessKeyId' });
  });

  it('refuses a URL used for another method or object', async () => {
    const { url } = await presignDownload(LOCATION, credentials('right-secret'));
    expect(await checkPresigned(requestFor(url, 'PUT'), secretFor, SIGNED_AT)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    const elsewhere = url.replace('%C3%BC.zip', 'other.zip');
    expect(elsewhere).not.toBe(url);
    expect(await checkPresigned(requestFor(elsewhere, 'GET'), secretFor, SIGNED_AT)).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  describe('an upload URL that requires SSE-KMS', () => {
    const sse = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/artifacts' };

    it('accepts the upload with the signed encryption headers', async () => {
      const { url } = await presignUpload(LOCATION, 'alias/artifacts', credentials('right-secret'));
      expect(await checkPresigned(requestFor(url, 'PUT', sse), secretFor, SIGNED_AT)).toBeNull();
    });

    it('refuses the upload when the encryption headers are dropped or changed', async () => {
      const { url } = await presignUpload(LOCATION, 'alias/artifacts', credentials('right-secret'));
      expect(await checkPresigned(requestFor(url, 'PUT'), secretFor, SIGNED_AT)).toMatchObject({ code: 'SignatureDoesNotMatch' });
      const otherKey = { ...sse, 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/attacker' };
      expect(await checkPresigned(requestFor(url, 'PUT', otherKey), secretFor, SIGNED_AT)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    });
  });

  it('lets requests without a presigned signature through to the server (its own checks apply)', async () => {
    expect(await checkPresigned({ method: 'GET', url: '/artifacts/x.zip', headers: {} }, secretFor, SIGNED_AT)).toBeNull();
  });
});
