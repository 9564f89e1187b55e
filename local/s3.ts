import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { presignedCheck } from './s3-auth';
import { roleRequests } from './s3-roles';
import { credentialsFor, roleOfAccessKey } from './iam/identity';
import { BucketVersioning } from './s3-versioning';
// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  /** Koa's middleware list (S3rver is a Koa app), composed when the server starts listening. */
  middleware: unknown[];
};

/** s3rver's built-in account, which it checks signatures against. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const ARTIFACT_BUCKET = 'codepipeline-local-artifacts';

/**
 * A real S3-compatible server on 127.0.0.1, holding the pipeline's artifact bucket, with a check in
 * front of its routes that verifies presigned URLs' signatures and expiry as S3 does (s3rver does not).
 */
export class LocalS3 {
  private server?: InstanceType<typeof S3rver>;
  endpoint = '';
  client!: S3Client;

  /** How far the store's clock runs ahead for an object key (a fault makes URLs look expired). */
  clockAheadMs: (key: string) => number = () => 0;
  /** Bucket versioning, which s3rver lacks (the S3 source action needs it). */
  readonly versioning = new BucketVersioning();

  constructor(private readonly directory: string) {}

  async start(): Promise<string> {
    this.server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: ARTIFACT_BUCKET, configs: [] }],
    });
    // First in line, before s3rver's own routes.
    this.server.middleware.unshift(
      presignedCheck(
        // s3rver's account, and the stack's roles (a function presigns its job objects with its own credentials).
        (key) => (key === S3_CREDENTIALS.accessKeyId ? S3_CREDENTIALS.secretAccessKey : roleOfAccessKey(key) ? credentialsFor(roleOfAccessKey(key)!).secretAccessKey : undefined),
        (objectPath) => new Date(Date.now() + this.clockAheadMs(objectPath.replace(`/${ARTIFACT_BUCKET}/`, ''))),
      ),
    );
    this.server.middleware.splice(1, 0, roleRequests(), this.versioning.middleware());
    const address = await this.server.run();
    this.endpoint = `http://127.0.0.1:${address.port}`;
    this.client = new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3_CREDENTIALS,
      // s3rver stores SDK v3's default streaming checksummed uploads corrupted.
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    return this.endpoint;
  }

  /** Creates a bucket of the template (CloudFormation creates it before its users). */
  async createBucket(name: string): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    await this.server?.close();
  }

  /**
   * Streams a file into the bucket (never whole in memory). The SDK cannot retry a streamed body, so
   * a keep-alive socket the server closed just as the request went out ("socket hang up") is retried
   * here, with the file read again from its start.
   */
  async upload(key: string, file: string): Promise<void> {
    const size = fs.statSync(file).size;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key, Body: fs.createReadStream(file), ContentLength: size }));
        return;
      } catch (err) {
        if (attempt >= 3 || !/socket hang up|ECONNRESET/.test(String((err as Error).message))) throw err;
      }
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key }));
  }

  /** Streams an object to a file; false when it does not exist. */
  async download(key: string, file: string): Promise<boolean> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key }));
      await pipeline(out.Body as Readable, fs.createWriteStream(file));
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return false;
      throw err;
    }
  }
}
