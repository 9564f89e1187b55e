import { GATE, accessKeyOf } from './services/http';
import { AwsError } from './services/aws-error';
import { LOCAL_USER } from './iam/gate';
import { roleOfAccessKey } from './iam/identity';
import type { CheckContext } from './s3-auth';

/**
 * Object calls signed by one of the stack's roles (a function writing its job objects, or a URL it presigned for an
 * instance) pass the IAM gate as that role, as S3 authorizes them (a presigned URL's signature is checked before, by
 * presignedCheck). s3rver knows only its own account, so a request the gate allowed goes on to it unsigned: its
 * authorization is done. Anything a role asks that is not an object call is refused, as no role of the stack may.
 * The person at the keyboard (LOCAL_USER, an administrator: `npm run verify` creates its bucket and pipeline as them)
 * signs as s3rver's own account, as before.
 */
const OPERATIONS: Record<string, string> = { GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' };
const QUERY_AUTH = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token', 'x-id'];

function refuse(ctx: CheckContext, e: AwsError): void {
  ctx.req.resume();
  ctx.status = e.status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`;
}

export function roleRequests(): (ctx: CheckContext & { url: string }, next: () => Promise<void>) => Promise<void> {
  return async (ctx, next) => {
    const url = new URL(ctx.req.url ?? '/', 'http://local');
    const presigner = url.searchParams.get('X-Amz-Credential')?.split('/')[0];
    const key = presigner ?? accessKeyOf(ctx.req);
    const role = key ? roleOfAccessKey(key) : null;
    if (!role || role === LOCAL_USER) return next();
    const [, bucket = '', ...rest] = decodeURIComponent(url.pathname).split('/');
    const operation = OPERATIONS[ctx.req.method ?? ''];
    if (!operation || rest.join('/') === '') return refuse(ctx, new AwsError('AccessDenied', 'Access Denied', 403));
    try {
      await GATE.authorize?.({ service: 'S3', operation, input: { Bucket: bucket, Key: rest.join('/') }, accessKeyId: key });
    } catch (err) {
      return refuse(ctx, err instanceof AwsError ? err : new AwsError('InternalError', String(err), 500));
    }
    delete ctx.req.headers.authorization;
    for (const name of QUERY_AUTH) url.searchParams.delete(name);
    ctx.url = `${url.pathname}${url.search}`;
    await next();
    // A missing object is 404 NoSuchKey only to a caller allowed s3:ListBucket on the bucket, 403 AccessDenied to any
    // other (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"); no role of the stack
    // may list the job bucket (test/cdk/build-environment-iam.test.ts), so each of them is told AccessDenied.
    if (ctx.status === 404 && (operation === 'GetObject' || operation === 'HeadObject')) refuse(ctx, new AwsError('AccessDenied', 'Access Denied', 403));
  };
}
