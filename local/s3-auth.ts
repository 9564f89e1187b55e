import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

/**
 * A check in front of s3rver's routes for presigned URLs, as S3 does it. s3rver accepts any
 * Signature V4 ("calculation is unimplemented"), so without this a wrong secret, a dropped SSE
 * header or an expired URL would still be served. The check re-signs the request with the SDK's own S3
 * presigner and compares signatures; everything else goes on to s3rver untouched.
 */

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The SDK's Checksum interface, backed by node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export interface S3Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Parses X-Amz-Date (20261122T142219Z). */
function amzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return new Date(NaN);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/**
 * Why S3 would refuse this presigned request, or null when it would accept it.
 * `secretFor` returns the secret of an access key, or undefined for an unknown key.
 */
export async function checkPresigned(
  req: Pick<http.IncomingMessage, 'method' | 'url' | 'headers'>,
  secretFor: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): Promise<S3Refusal | null> {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return null;
  const [accessKeyId, , region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
  const secret = secretFor(accessKeyId);
  if (!secret) return { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  const signedAt = amzDate(q.get('X-Amz-Date') ?? '');
  const expiresIn = Number(q.get('X-Amz-Expires'));
  if (Number.isNaN(signedAt.getTime()) || !Number.isInteger(expiresIn)) {
    return { status: 400, code: 'AuthorizationQueryParametersError', message: 'X-Amz-Date and X-Amz-Expires must be set.' };
  }
  if (now.getTime() > signedAt.getTime() + expiresIn * 1000) return { status: 403, code: 'AccessDenied', message: 'Request has expired' };
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return { status: 403, code: 'SignatureDoesNotMatch', message: `Signed header ${name} is missing.` };
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of q) if (k !== 'X-Amz-Signature') query[k] = v;
  const presigner = new S3RequestPresigner({
    credentials: { accessKeyId, secretAccessKey: secret, sessionToken: q.get('X-Amz-Security-Token') ?? undefined },
    region,
    service,
    sha256: Sha256,
  });
  const resigned = await presigner.presign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: 'placeholder', path: url.pathname, query, headers },
    { signingDate: signedAt, expiresIn, unhoistableHeaders: new Set(signedHeaders.filter((h) => h !== 'host')) },
  );
  const expected = Buffer.from(String(resigned.query?.['X-Amz-Signature']));
  const given = Buffer.from(q.get('X-Amz-Signature') ?? '');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' };
  }
  return null;
}

/** The part of a Koa context the check uses. */
export interface CheckContext {
  readonly req: http.IncomingMessage;
  status: number;
  type: string;
  body: unknown;
}

/**
 * The check as the first middleware of s3rver's Koa app, so bodies stream straight into s3rver
 * with no proxy hop. `clock` gives the store's time for a request path (a fault can move it ahead).
 */
export function presignedCheck(
  secretFor: (accessKeyId: string) => string | undefined,
  clock: (path: string) => Date = () => new Date(),
): (ctx: CheckContext, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const refusal = await checkPresigned(ctx.req, secretFor, clock(decodeURIComponent(new URL(ctx.req.url ?? '/', 'http://x').pathname))).catch(
      (err: Error): S3Refusal => ({ status: 400, code: 'InvalidRequest', message: err.message }),
    );
    if (!refusal) return next();
    ctx.req.resume();
    ctx.status = refusal.status;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`;
  };
}
