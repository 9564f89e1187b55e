import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreatePipelineCommand, DeletePipelineCommand, type ActionTypeId } from '@aws-sdk/client-codepipeline';
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { VerifyOptions } from './args';
import type { Clients } from './clients';

/** Everything verify creates, each with how to delete it; deleted last-created first. */
export class Cleanup {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];

  add(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }

  /** Runs every step, even after one fails; returns what could not be deleted. */
  async run(log: (line: string) => void): Promise<string[]> {
    const failed: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
        log(`deleted ${step.what}`);
      } catch (err) {
        failed.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    return failed;
  }
}

export interface StackInfo {
  readonly actionTypeId: ActionTypeId;
  readonly partition: string;
  readonly account: string;
}

/** The stack's ActionTypeId output ("Owner=Custom,Category=Build,Provider=EC2-Build,Version=1") and partition. */
export async function readStack(c: Clients, stackName: string): Promise<StackInfo> {
  const out = await c.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = out.Stacks?.[0];
  const value = stack?.Outputs?.find((o) => o.OutputKey === 'ActionTypeId')?.OutputValue;
  if (!stack || !value) throw new Error(`stack ${stackName} has no ActionTypeId output: is it this project's stack, deployed?`);
  const fields = Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]));
  return {
    actionTypeId: { owner: 'Custom', category: fields.Category as ActionTypeId['category'], provider: fields.Provider, version: fields.Version },
    // arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    partition: String(stack.StackId).split(':')[1] ?? 'aws',
    account: String(stack.StackId).split(':')[4] ?? '',
  };
}

/** A versioned bucket (the S3 source action needs one) serving as source and artifact store. */
export async function createBucket(c: Clients, name: string, region: string, cleanup: Cleanup): Promise<void> {
  // us-east-1 takes no LocationConstraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
  await c.s3.send(new CreateBucketCommand({ Bucket: name, ...(region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {}) }));
  cleanup.add(`bucket ${name}`, () => emptyAndDeleteBucket(c, name));
  await c.s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** A versioned bucket is empty only when every version and delete marker is gone. */
async function emptyAndDeleteBucket(c: Clients, name: string): Promise<void> {
  for (;;) {
    const page = await c.s3.send(new ListObjectVersionsCommand({ Bucket: name }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length === 0) break;
    await c.s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: objects, Quiet: true } }));
  }
  await c.s3.send(new DeleteBucketCommand({ Bucket: name }));
}

/** Zips the source with the zip tool and uploads it; returns the object key. */
export async function uploadSource(c: Clients, bucket: string, source: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-'));
  const zip = path.join(dir, 'source.zip');
  try {
    await promisify(execFile)('zip', ['-q', '-r', '-y', zip, '.'], { cwd: source });
    const key = 'source/source.zip';
    await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(zip), ContentLength: fs.statSync(zip).size }));
    return key;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The pipeline's service role: trusted by CodePipeline only, on behalf of this account only (the
 * confused-deputy guard, aws:SourceAccount), allowed to read and write objects of the throwaway
 * bucket and to read its versioning (what the S3 source and the artifact store need; the job's
 * artifact credentials come from this role). No other permission.
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-service-role-cli.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */
export async function createRole(c: Clients, name: string, bucket: string, stack: StackInfo, cleanup: Cleanup): Promise<string> {
  const { partition, account } = stack;
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'codepipeline.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': account } } }],
  };
  const role = await c.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust), Description: 'Throwaway role of npm run verify' }));
  cleanup.add(`role ${name}`, async () => void (await c.iam.send(new DeleteRoleCommand({ RoleName: name }))));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Objects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'], Resource: `arn:${partition}:s3:::${bucket}/*` },
      { Sid: 'Bucket', Effect: 'Allow', Action: ['s3:GetBucketVersioning', 's3:GetBucketLocation'], Resource: `arn:${partition}:s3:::${bucket}` },
    ],
  };
  await c.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'verify-pipeline', PolicyDocument: JSON.stringify(policy) }));
  cleanup.add(`policy verify-pipeline of role ${name}`, async () => void (await c.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: 'verify-pipeline' }))));
  return role.Role!.Arn!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * S3 source -> this action. A new role takes a few seconds to be usable (IAM is eventually
 * consistent: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
 * so CreatePipeline's "not authorized to perform AssumeRole" is retried for up to a minute.
 */
export async function createPipeline(
  c: Clients,
  o: VerifyOptions,
  names: { pipeline: string; bucket: string; sourceKey: string; roleArn: string },
  actionTypeId: ActionTypeId,
  cleanup: Cleanup,
  pollMs: number,
): Promise<void> {
  const send = () =>
    c.codepipeline.send(
      new CreatePipelineCommand({
        pipeline: {
          name: names.pipeline,
          roleArn: names.roleArn,
          artifactStore: { type: 'S3', location: names.bucket },
          stages: [
            {
              name: 'Source',
              actions: [
                {
                  name: 'Source',
                  actionTypeId: { owner: 'AWS', category: 'Source', provider: 'S3', version: '1' },
                  configuration: { S3Bucket: names.bucket, S3ObjectKey: names.sourceKey, PollForSourceChanges: 'false' },
                  outputArtifacts: [{ name: 'SourceArtifact' }],
                },
              ],
            },
            {
              name: 'Build',
              actions: [
                {
                  name: 'BuildOnEc2',
                  actionTypeId,
                  configuration: { ImageId: o.imageId, InstanceType: o.instanceType, Command: o.command, OutputArtifactPath: o.outputPath },
                  inputArtifacts: [{ name: 'SourceArtifact' }],
                  outputArtifacts: [{ name: 'BuildArtifact' }],
                },
              ],
            },
          ],
        },
      }),
    );
  for (const deadline = Date.now() + 60_000; ; await sleep(Math.max(pollMs, 1000))) {
    try {
      await send();
      break;
    } catch (err) {
      if ((err as Error).name !== 'InvalidStructureException' || !/AssumeRole/.test((err as Error).message) || Date.now() > deadline) throw err;
    }
  }
  cleanup.add(`pipeline ${names.pipeline}`, async () => void (await c.codepipeline.send(new DeletePipelineCommand({ name: names.pipeline }))));
}
