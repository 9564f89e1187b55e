import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { presignDownload, presignUpload } from '../../lambdas/shared/artifacts';
import { checkPresigned } from '../../local/s3-auth';
import { ARTIFACT_BUCKET, LocalS3, S3_CREDENTIALS } from '../../local/s3';

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

describe('the running store applies the check before s3rver', () => {
  let dir: string;
  let store: LocalS3;
  let signing: { credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }; forcePathStyle: boolean };
  const location = { bucket: ARTIFACT_BUCKET, key: 'checked/artifact.zip' };
  const previous = process.env.AWS_ENDPOINT_URL_S3;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-check-'));
    store = new LocalS3(dir);
    process.env.AWS_ENDPOINT_URL_S3 = await store.start();
    process.env.AWS_REGION = 'us-east-1';
    signing = { credentials: { ...S3_CREDENTIALS, sessionToken: 'session-token' }, forcePathStyle: true };
  });
  afterAll(async () => {
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = previous;
  });

  const sse = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/artifacts' };

  it('refuses a wrong signature over HTTP and stores nothing; serves the object to a good URL', async () => {
    const bad = await presignUpload(location, 'alias/artifacts', { ...signing, credentials: { ...signing.credentials, secretAccessKey: 'wrong' } });
    const refused = await fetch(bad.url, { method: 'PUT', headers: sse, body: 'forged' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await store.download(location.key, path.join(dir, 'none.zip'))).toBe(false);

    const good = await presignUpload(location, 'alias/artifacts', signing);
    expect((await fetch(good.url, { method: 'PUT', headers: sse, body: 'built' })).status).toBe(200);
    const download = await presignDownload(location, signing);
    const served = await fetch(download.url);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('built');
  });

  it('refuses a URL that has expired by the store clock (403 AccessDenied)', async () => {
    store.clockAheadMs = (key) => (key === location.key ? 31 * 60 * 1000 : 0);
    try {
      const { url } = await presignDownload(location, signing);
      const answer = await fetch(url);
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain('<Message>Request has expired</Message>');
    } finally {
      store.clockAheadMs = () => 0;
    }
  });
});
