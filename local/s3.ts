import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Server } from 'node:http';
import { startS3Front } from './s3-auth';
// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };

/** s3rver's built-in account, which it checks signatures against. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const ARTIFACT_BUCKET = 'codepipeline-local-artifacts';

/**
 * A real S3-compatible server on 127.0.0.1, holding the pipeline's artifact bucket, behind a front
 * that checks presigned URLs' signatures and expiry as S3 does (s3rver itself does not).
 */
export class LocalS3 {
  private server?: InstanceType<typeof S3rver>;
  private front?: Server;
  endpoint = '';
  client!: S3Client;

  /** How far the store's clock runs ahead for an object key (a fault makes URLs look expired). */
  clockAheadMs: (key: string) => number = () => 0;

  constructor(private readonly directory: string) {}

  async start(): Promise<string> {
    this.server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: ARTIFACT_BUCKET, configs: [] }],
    });
    const address = await this.server.run();
    this.front = await startS3Front(
      address,
      (key) => (key === S3_CREDENTIALS.accessKeyId ? S3_CREDENTIALS.secretAccessKey : undefined),
      (objectPath) => new Date(Date.now() + this.clockAheadMs(objectPath.replace(`/${ARTIFACT_BUCKET}/`, ''))),
    );
    this.endpoint = `http://127.0.0.1:${(this.front.address() as AddressInfo).port}`;
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

  async stop(): Promise<void> {
    this.client?.destroy();
    await new Promise((resolve) => (this.front ? (this.front.closeAllConnections(), this.front.close(resolve)) : resolve(undefined)));
    await this.server?.close();
  }

  /** Streams a file into the bucket (never whole in memory). */
  async upload(key: string, file: string): Promise<void> {
    const size = fs.statSync(file).size;
    await this.client.send(new PutObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key, Body: fs.createReadStream(file), ContentLength: size }));
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
