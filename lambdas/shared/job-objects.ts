import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { URL_TTL_SECONDS } from './artifacts';
import { environmentReadKey, jobObjectKey } from './job-object-keys';

/**
 * The stack's job bucket: per-build objects that must not travel through Step Functions or Systems Manager, since
 * both keep what passes through them (execution history, command parameters): a build's resolved environment, and the
 * values of its exported variables. The instance reaches each through one presigned URL (the function that signs it
 * is the only principal with access: the instance role has none), the completion function deletes both, and the
 * bucket's lifecycle rule expires whatever an aborted execution left (and the safety nets delete an ended execution's).
 */

export { environmentReadKey, jobObjectKey, type JobObjectKind } from './job-object-keys';

/** A job object larger than its reader takes (the exports' upload is not capped by its presigned URL). */
export class JobObjectTooLargeError extends Error {
  override readonly name = 'JobObjectTooLargeError';
}

export class JobObjects {
  private readonly client: S3Client;

  constructor(
    readonly bucket: string,
    forcePathStyle: boolean,
  ) {
    // WHEN_REQUIRED: no flexible checksum on a presigned PUT, which curl and Invoke-WebRequest could not compute.
    this.client = new S3Client({ forcePathStyle, requestChecksumCalculation: 'WHEN_REQUIRED' });
  }

  /** Writes an object; the bucket's default encryption (SSE-KMS) encrypts it. */
  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }));
  }

  /** A short-lived URL the instance reads (GET), writes (PUT) or deletes (DELETE) one object with, and nothing else. */
  async presign(key: string, method: 'GET' | 'PUT' | 'DELETE', now?: Date, expiresIn = URL_TTL_SECONDS): Promise<string> {
    const command =
      method === 'GET' ? new GetObjectCommand({ Bucket: this.bucket, Key: key }) : method === 'PUT' ? new PutObjectCommand({ Bucket: this.bucket, Key: key }) : new DeleteObjectCommand({ Bucket: this.bucket, Key: key });
    return getSignedUrl(this.client, command, { expiresIn, signingDate: now });
  }

  /**
   * An object's bytes, or null when it does not exist: NoSuchKey (404) for a caller allowed s3:ListBucket on the
   * bucket, AccessDenied (403) for one that is not, as the functions are not
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"). An object larger than
   * `maxBytes` is refused before its body is read (a presigned PUT cannot cap what the instance sends).
   */
  async read(key: string, maxBytes: number): Promise<Buffer | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((out.ContentLength ?? 0) > maxBytes) {
        // The body is a stream of the response (an IncomingMessage in Node.js): dropped unread, not loaded.
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new JobObjectTooLargeError(`${key} holds ${out.ContentLength} bytes, more than the ${maxBytes} it may`);
      }
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'AccessDenied') return null;
      throw err;
    }
  }

  /** Deletes an execution's objects (its environment, its read copy, its exports); a missing one is no error (DeleteObject answers 204 for it). */
  async removeExecution(executionName: string): Promise<void> {
    const keys = [jobObjectKey('environment', executionName), environmentReadKey(executionName), jobObjectKey('exports', executionName)];
    await Promise.all(keys.map((Key) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))));
  }
}
