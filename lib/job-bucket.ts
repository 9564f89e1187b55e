import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import { CACHE_PREFIX } from '../lambdas/shared/cache-paths';
import { jobObjectKey } from '../lambdas/shared/job-object-keys';
import type { BuildActionFunction } from './lambda-function';

/** A day: every object is read within minutes of its writing and deleted at the job's result; this is the backstop. */
export const JOB_OBJECT_EXPIRY_DAYS = 1;

export interface JobBucketProps {
  /** "Store Build Environment": resolves the job's environment variables and writes the environment object, before launch. */
  readonly buildEnvironment: BuildActionFunction;
  /** "Get Input Artifact URL" / "Get Output Upload URL": signs the instance's URLs for the job's objects. */
  readonly artifactUrls: BuildActionFunction;
  /** "Report Result": reads the exported variables and deletes the job's objects. */
  readonly completion: BuildActionFunction;
  /** The poller checks a job's references against the same settings before the execution starts. */
  readonly poller: BuildActionFunction;
  /** The watchdog and the sweeper: they delete the objects of an execution that ended without "Report Result". */
  readonly releasers: readonly BuildActionFunction[];
  readonly parameterPrefixes: readonly string[];
  readonly secretPrefixes: readonly string[];
  /** Customer managed keys of the parameters and secrets builds name: decrypted only through SSM and Secrets Manager. */
  readonly referenceKmsKeyArns: readonly string[];
  /** Days a build's cache lives after its last save (the cache/ prefix's lifecycle rule). */
  readonly cacheExpiryDays: number;
}

/**
 * The stack's job bucket and the rights around it: per-execution objects (a build's resolved environment, its exported
 * variables' values) that must never pass through Step Functions or Systems Manager, and the builds' caches (CachePaths)
 * under cache/. The caches share this bucket rather than having one of their own: they need exactly its settings
 * (encrypted, TLS only, no public access, reached only through URLs the signing function presigns), and a prefix gives
 * them their own lifecycle rule and the signer rights scoped to them alone. Only the stack's functions touch it, each
 * for what it does with its objects' prefix; the build instance reaches one object through a presigned URL and has no right of
 * its own (so it can read exactly its job's parameters and secrets, only while the URL lives). Objects are encrypted
 * with SSE-KMS under the AWS managed key aws/s3, whose key policy lets the account's principals use it through S3, so no
 * KMS grant is needed (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
 */
export class JobBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: JobBucketProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // One rule per prefix: where two expiration rules overlap, S3 applies the shorter
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-conflicts.html), so a bucket-wide day would
      // expire the caches too. Days count from an object's creation, and each successful build writes its caches anew
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).
      lifecycleRules: [
        ...(['environment', 'exports'] as const).map((kind) => ({ id: `${kind}-objects`, prefix: jobObjectKey(kind, ''), expiration: Duration.days(JOB_OBJECT_EXPIRY_DAYS) })),
        { id: 'caches', prefix: CACHE_PREFIX, expiration: Duration.days(props.cacheExpiryDays) },
        { id: 'incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Job objects live for the minutes of one build and are deleted at its result, caches until their lifecycle expiry; every access is by the stack\'s functions or a presigned URL they signed, recorded by CloudTrail data events where the account enables them.',
    });
    const objects = (kind: 'environment' | 'exports') => this.bucket.arnForObjects(jobObjectKey(kind, '*'));
    // s3:GetObject, s3:DeleteObject and s3:PutObject also authorize the presigned GET, DELETE and PUT the function signs
    // for the instance (S3 authorizes a presigned request as its signer).
    props.buildEnvironment.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteBuildEnvironment', actions: ['s3:PutObject'], resources: [objects('environment')] }));
    // The signer copies Store Build Environment's object to the one the instance reads and deletes (environmentReadKey), so
    // a build that runs again gets a copy of its own; it reads, writes and signs nothing outside the environment prefix.
    props.artifactUrls.addToRolePolicy(new iam.PolicyStatement({ sid: 'SignBuildEnvironment', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [objects('environment')] }));
    props.artifactUrls.addToRolePolicy(new iam.PolicyStatement({ sid: 'SignExportsUpload', actions: ['s3:PutObject'], resources: [objects('exports')] }));
    // The caches: a GET signed for the restore, a PUT for the save, both by the signing function alone (the instance has no
    // right of its own); no list right, so a missing cache is a 403 to the instance, which it takes as a miss.
    props.artifactUrls.addToRolePolicy(new iam.PolicyStatement({ sid: 'SignCacheTransfers', actions: ['s3:GetObject', 's3:PutObject'], resources: [this.bucket.arnForObjects(`${CACHE_PREFIX}*`)] }));
    props.artifactUrls.acknowledgeFinding(`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${CACHE_PREFIX}*]`, 'Build caches, one object per action and directory (hashed names) under the cache/ prefix of the stack\'s own job bucket.');
    props.completion.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadExports', actions: ['s3:GetObject'], resources: [objects('exports')] }));
    // Deleted at the result; an execution that ended without one (aborted, timed out, its report failed) has them deleted
    // by whichever safety net releases it, since S3's lifecycle expiry runs late (asynchronously, rounded to midnight
    // UTC: https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html).
    for (const fn of [props.completion, ...props.releasers]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'DeleteJobObjects', actions: ['s3:DeleteObject'], resources: [objects('environment'), objects('exports')] }));
    }
    const objectsReason = 'Per-execution objects, named by the execution: the wildcard is the execution\'s name under one prefix of the stack\'s own job bucket.';
    for (const fn of [props.buildEnvironment, props.artifactUrls, props.completion, ...props.releasers]) {
      for (const kind of fn === props.buildEnvironment ? ['environment'] : ['environment', 'exports']) fn.acknowledgeFinding(`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${kind}/*]`, objectsReason);
      fn.addEnvironment(ENV.jobBucketName, this.bucket.bucketName);
    }
    props.poller.addEnvironment(ENV.parameterPrefixes, props.parameterPrefixes.join(','));
    props.poller.addEnvironment(ENV.secretPrefixes, props.secretPrefixes.join(','));
    this.grantReferences(props.buildEnvironment, props.parameterPrefixes, props.secretPrefixes);
    this.grantReferenceKeys(props.buildEnvironment, props.referenceKmsKeyArns, props.parameterPrefixes.length > 0, props.secretPrefixes.length > 0);
  }

  /**
   * kms:Decrypt on the customer managed keys of the referenced values, only as Parameter Store or Secrets Manager asks
   * on the function's behalf in this Region (kms:ViaService,
   * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service; both services
   * call Decrypt with the caller's credentials: https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html,
   * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html). No key, or no prefix of
   * either kind: no statement.
   */
  private grantReferenceKeys(fn: BuildActionFunction, keyArns: readonly string[], parameters: boolean, secrets: boolean): void {
    const services = [...(parameters ? ['ssm'] : []), ...(secrets ? ['secretsmanager'] : [])].map((s) => `${s}.${Stack.of(this).region}.amazonaws.com`);
    if (keyArns.length === 0 || services.length === 0) return;
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'DecryptBuildReferences', actions: ['kms:Decrypt'], resources: [...keyArns], conditions: { StringEquals: { 'kms:ViaService': services } } }));
  }

  /**
   * The resolving function may read exactly the parameters and secrets under the stack's prefixes: GetParameter on
   * parameter/<path>* and GetSecretValue on secret:<prefix>* (the resource types' ARN formats:
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html,
   * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html; a secret's ARN ends
   * in a hyphen and six random characters, which the wildcard covers). With no prefix, no statement at all.
   */
  private grantReferences(fn: BuildActionFunction, parameterPrefixes: readonly string[], secretPrefixes: readonly string[]): void {
    const stack = Stack.of(this);
    const reason = 'The parameter paths and secret name prefixes the stack\'s settings name (parameterPrefixes, secretPrefixes): builds may reference what lies under them, and nothing else.';
    if (parameterPrefixes.length > 0) {
      const resources = parameterPrefixes.map((p) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${p.replace(/^\//, '')}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }));
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadBuildParameters', actions: ['ssm:GetParameter'], resources }));
      for (const p of parameterPrefixes) fn.acknowledgeFinding(`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${p.replace(/^\//, '')}*]`, reason);
    }
    if (secretPrefixes.length > 0) {
      const resources = secretPrefixes.map((p) => stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${p}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadBuildSecrets', actions: ['secretsmanager:GetSecretValue'], resources }));
      for (const p of secretPrefixes) fn.acknowledgeFinding(`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${p}*]`, reason);
    }
  }
}
