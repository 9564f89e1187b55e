import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactLocation, ArtifactUrl } from './types';

/**
 * Presigned URLs for one job's artifacts, signed with the job's own artifact credentials,
 * so the build instance needs no standing access to the artifact bucket.
 */

/** How long a URL stays valid: enough to start the transfer, not to reuse it later. */
export const URL_TTL_SECONDS = 30 * 60;
/**
 * The input URL is signed while the instance boots; if the instance is ready more than this after
 * signing, it is signed again, so the build always starts with at least 25 minutes of validity
 * and job credentials no more than 5 minutes old.
 */
export const REFRESH_AFTER_SECONDS = 5 * 60;

/**
 * The environment object's URLs (a bearer key to the job's secrets until the build reads and deletes the object) live
 * this long: past REFRESH_AFTER_SECONDS, after which the state machine signs them again before "Run Build", by enough
 * for the command's delivery and the document's first step (it reads the environment before the input's download).
 */
export const ENVIRONMENT_URL_TTL_SECONDS = REFRESH_AFTER_SECONDS + 5 * 60;

/** Headers the SSE-KMS upload sends; they are signed, so they cannot be dropped or changed. */
export const SSE_HEADERS = ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id'];

export interface SigningOptions {
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  readonly forcePathStyle: boolean;
  readonly now?: Date;
}

function clientFor(options: SigningOptions): S3Client {
  return new S3Client({
    credentials: {
      accessKeyId: options.credentials.accessKeyId,
      secretAccessKey: options.credentials.secretAccessKey,
      sessionToken: options.credentials.sessionToken,
    },
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** How long a URL signed now holds, and when the state machine signs it again (every URL this stack signs: URL_TTL_SECONDS). */
export function validity(options: Pick<SigningOptions, 'now'> = {}): Pick<ArtifactUrl, 'expiresAt' | 'refreshAfter'> {
  const signedAt = (options.now ?? new Date()).getTime();
  return {
    expiresAt: new Date(signedAt + URL_TTL_SECONDS * 1000).toISOString(),
    refreshAfter: new Date(signedAt + REFRESH_AFTER_SECONDS * 1000).toISOString(),
  };
}

export async function presignDownload(location: ArtifactLocation, options: SigningOptions): Promise<ArtifactUrl> {
  const command = new GetObjectCommand({ Bucket: location.bucket, Key: location.key });
  const url = await getSignedUrl(clientFor(options), command, { expiresIn: URL_TTL_SECONDS, signingDate: options.now });
  return { url, ...validity(options) };
}

/** A PUT URL that only accepts the object encrypted with SSE-KMS (the job's key when it names one). */
export async function presignUpload(
  location: ArtifactLocation,
  kmsKeyId: string,
  options: SigningOptions,
): Promise<ArtifactUrl> {
  const command = new PutObjectCommand({
    Bucket: location.bucket,
    Key: location.key,
    ServerSideEncryption: 'aws:kms',
    ...(kmsKeyId ? { SSEKMSKeyId: kmsKeyId } : {}),
  });
  const url = await getSignedUrl(clientFor(options), command, {
    expiresIn: URL_TTL_SECONDS,
    signingDate: options.now,
    unhoistableHeaders: new Set(SSE_HEADERS),
  });
  return { url, ...validity(options) };
}
