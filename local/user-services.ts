import { randomUUID } from 'node:crypto';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_USER } from './iam/gate';
import { credentialsFor, LOCAL_ACCOUNT } from './iam/identity';
import type { LocalCodePipeline } from './services/codepipeline';
import { LocalCloudFormation } from './services/cloudformation';
import type { LocalEventBus } from './services/events';
import { LocalIam } from './services/iam';
import { authorizeRole, jobChecks, sourceChecks } from './services/pipeline-role';
import { registeredActionTypes } from './services/pipeline-structure';
import { LocalPipelines } from './services/pipelines';
import { S3_CREDENTIALS, type LocalS3 } from './s3';
import type { LocalStack } from './template/stack';

// s3rver ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3RVER_ACCOUNTS = require('s3rver/lib/models/account') as { DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secret: string): void } };

/**
 * What a user's tools talk to besides the stack's own services (`npm run verify`): the pipeline API
 * on the CodePipeline endpoint, IAM for the throwaway pipeline's role, and CloudFormation for the
 * deployed stack's outputs. Pipelines run on the local bus and artifact store.
 */
export class UserServices {
  readonly pipelines: LocalPipelines;
  readonly iam = new LocalIam(LOCAL_ACCOUNT);
  readonly cloudformation: LocalCloudFormation;

  constructor(codepipeline: LocalCodePipeline, bus: LocalEventBus, private readonly s3: LocalS3, stack: LocalStack) {
    // The person at the keyboard has an account in the artifact store too (s3rver knows keys by its account registry).
    const user = credentialsFor(LOCAL_USER);
    S3RVER_ACCOUNTS.DUMMY_ACCOUNT.createKeyPair(user.accessKeyId, user.secretAccessKey);
    this.cloudformation = new LocalCloudFormation(stack);
    this.pipelines = new LocalPipelines(codepipeline, {
      actionTypes: registeredActionTypes(stack),
      region: stack.region,
      account: stack.account,
      emit: (event) => bus.put(event),
      copySource: async (roleArn, bucket, key, to) => {
        await authorizeRole(this.iam, roleArn, sourceChecks(bucket, key, to));
        return this.copySource(bucket, key, to);
      },
      authorizeJob: (roleArn, inputs, outputs) => authorizeRole(this.iam, roleArn, jobChecks(inputs, outputs)),
      // On AWS, temporary credentials scoped to the artifact store; here, the store's own account with a session of its own.
      artifactCredentials: () => ({ ...S3_CREDENTIALS, sessionToken: `local-session-${randomUUID().slice(0, 8)}` }),
      roleAssumable: (roleArn) => this.iam.trusts(roleArn, 'codepipeline.amazonaws.com'),
    });
  }

  /** Starts IAM and CloudFormation; returns their endpoints by AWS_ENDPOINT_URL_<SERVICE> suffix. */
  async start(): Promise<Record<string, string>> {
    return { IAM: await this.iam.start(), CLOUDFORMATION: await this.cloudformation.start() };
  }

  async stop(): Promise<void> {
    await Promise.all([this.iam.stop(), this.cloudformation.stop()]);
  }

  /**
   * The S3 source action: the latest version of the source object, copied into the artifact store.
   * The bucket must be versioned (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html).
   */
  private async copySource(bucket: string, key: string, to: { bucket: string; key: string }): Promise<string> {
    if (this.s3.versioning.statusOf(bucket) !== 'Enabled') throw new Error(`The S3 source bucket ${bucket} is not versioned: enable versioning on it.`);
    try {
      const out = await this.s3.client.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}` }));
      return String(out.CopyObjectResult?.ETag ?? '').replace(/"/g, '');
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NoSuchBucket') throw new Error(`The object with key ${key} does not exist in bucket ${bucket}, or the bucket does not exist.`, { cause: err });
      throw err;
    }
  }
}
