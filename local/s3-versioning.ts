import type * as http from 'node:http';
import { readBody } from './services/http';

/**
 * Bucket versioning for the local S3 store, which s3rver does not implement (it answers
 * NotImplemented): PutBucketVersioning and GetBucketVersioning keep each bucket's status, and
 * ListObjectVersions lists the current objects. The S3 source action needs a versioned bucket
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html: "the bucket
 * must be versioned"), so the local CodePipeline checks the status the way AWS depends on it.
 *
 * Simplification: one version per key (VersionId "null"); deleting an object deletes it, with no
 * delete marker left behind. A clean-up written for AWS (delete every version listed) works here too.
 */

interface Store {
  getBucket(name: string): Promise<unknown>;
  listObjects(bucket: string, options: { maxKeys: number; prefix?: string }): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string> }[] }>;
}

/** The part of s3rver's Koa context this middleware uses. */
interface Ctx {
  readonly req: http.IncomingMessage;
  readonly store: Store;
  status: number;
  type: string;
  body: unknown;
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const xmlEscape = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class BucketVersioning {
  private readonly status = new Map<string, 'Enabled' | 'Suspended'>();

  /** The bucket's versioning status; undefined when it was never set. */
  statusOf(bucket: string): 'Enabled' | 'Suspended' | undefined {
    return this.status.get(bucket);
  }

  /** Forgets a deleted bucket's status (a new bucket of the same name starts unversioned). */
  forget(bucket: string): void {
    this.status.delete(bucket);
  }

  /** A Koa middleware for s3rver that answers the versioning requests and passes the rest on. */
  middleware(): (ctx: Ctx, next: () => Promise<void>) => Promise<void> {
    return async (ctx, next) => {
      const url = new URL(ctx.req.url ?? '/', 'http://local');
      const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
      const onBucket = url.pathname.replace(/\/$/, '').split('/').length === 2;
      const method = ctx.req.method;
      if (method === 'DELETE' && onBucket && !url.search) {
        await next();
        if (ctx.status === 204) this.forget(bucket);
        return;
      }
      const kind = url.searchParams.has('versioning') ? 'versioning' : url.searchParams.has('versions') ? 'versions' : null;
      if (!onBucket || !kind || (method !== 'GET' && method !== 'PUT') || (kind === 'versions' && method !== 'GET')) return next();
      const reply = (status: number, body: string) => {
        ctx.status = status;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
      };
      if (!(await ctx.store.getBucket(bucket))) {
        ctx.req.resume();
        return reply(404, `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>${xmlEscape(bucket)}</BucketName></Error>`);
      }
      if (kind === 'versioning' && method === 'PUT') {
        const status = /<Status>(Enabled|Suspended)<\/Status>/.exec(await readBody(ctx.req))?.[1] as 'Enabled' | 'Suspended' | undefined;
        if (!status) return reply(400, '<Error><Code>MalformedXML</Code><Message>The XML you provided was not well-formed or did not validate against our published schema</Message></Error>');
        this.status.set(bucket, status);
        return reply(200, '');
      }
      if (kind === 'versioning') {
        const status = this.status.get(bucket);
        return reply(200, `<VersioningConfiguration xmlns="${NS}">${status ? `<Status>${status}</Status>` : ''}</VersioningConfiguration>`);
      }
      const prefix = url.searchParams.get('prefix') ?? undefined;
      const { objects } = await ctx.store.listObjects(bucket, { maxKeys: 1000, prefix });
      const versions = objects
        .map(
          (o) =>
            `<Version><Key>${xmlEscape(o.key)}</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>${o.lastModifiedDate.toISOString()}</LastModified><ETag>${xmlEscape(o.metadata.etag ?? '')}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Version>`,
        )
        .join('');
      return reply(200, `<ListVersionsResult xmlns="${NS}"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix ?? '')}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${versions}</ListVersionsResult>`);
    };
  }
}
