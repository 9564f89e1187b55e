import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { EnvironmentVariable } from '../shared/build-environment';
import { jobObjectKey } from '../shared/job-object-keys';
import { secretText } from '../shared/secrets';
import { decryptedParameter } from '../shared/ssm';
import { encodeEnvironment, resolveEnvironment, type ValueSources } from './environment';

/** Where the object goes: the job bucket, through an S3 client. */
export interface ObjectWriter {
  put(key: string, body: Buffer): Promise<void>;
  remove(key: string): Promise<void>;
}

/**
 * Resolves the job's variables and writes them as the execution's environment object, in "Acknowledge Job" (just before
 * its AcknowledgeJob), before any instance is launched, so a parameter or secret the job cannot read is a ConfigurationError with nothing
 * to release (issue #13: "before launch where it can be known"). The object is read by no one but the function that
 * signs the instance's URL for it, minutes later ("Get Input Artifact URL"); the job's result deletes it, and the
 * safety nets delete an ended execution's. False when the job has no variables (no object).
 */
export async function storeEnvironment(variables: readonly EnvironmentVariable[] | undefined, executionName: string, objects: () => ObjectWriter, sources: ValueSources): Promise<boolean> {
  if (!variables?.length) return false;
  if (!executionName) throw new Error('the execution\'s name is needed to name its environment object');
  const pairs = await resolveEnvironment(variables, sources);
  const masked = variables.filter((v) => v.type !== 'PLAINTEXT').map((v) => v.name);
  await objects().put(jobObjectKey('environment', executionName), encodeEnvironment(pairs, masked));
  return true;
}

let writer: ObjectWriter | undefined;

/** The job bucket's writer, made on the first job with variables. */
function stackWriter(bucket: string, forcePathStyle: boolean): ObjectWriter {
  writer ??= (() => {
    const client = new S3Client({ forcePathStyle });
    return {
      // The bucket's default encryption (SSE-KMS) encrypts the object.
      put: async (key, body) => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/octet-stream' }))),
      remove: async (key) => void (await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
    };
  })();
  return writer;
}

/**
 * The stack's own sources and job bucket (what the acknowledge handler loads on its first job with variables: this
 * module holds the S3, Parameter Store and Secrets Manager clients, so a job without variables never loads them).
 */
export function storeWithStackSources(variables: readonly EnvironmentVariable[], executionName: string, bucket: string, forcePathStyle: boolean): Promise<boolean> {
  const store = stackWriter(bucket, forcePathStyle);
  return storeEnvironment(variables, executionName, () => store, { parameter: decryptedParameter, secret: secretText });
}

/** Deletes the execution's environment object (its job turned out to be another execution's). */
export function discardWithStackSources(executionName: string, bucket: string, forcePathStyle: boolean): Promise<void> {
  return stackWriter(bucket, forcePathStyle).remove(jobObjectKey('environment', executionName));
}
