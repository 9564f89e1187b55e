import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PROPERTY } from '../lambdas/shared/properties';
import { ACTION_TYPE, type LocalCloud } from './cloud';
import { DEFAULT_IMAGE_ID } from './services/ec2';
import type { JobResult } from './services/codepipeline';
import { ARTIFACT_BUCKET, S3_CREDENTIALS } from './s3';

const run = promisify(execFile);

export interface JobOptions {
  readonly source: string | null;
  readonly command: string;
  readonly workingDirectory?: string;
  readonly outputPath?: string;
  readonly imageId?: string;
  readonly instanceType?: string;
  readonly timeoutMinutes?: string;
  readonly out?: string;
  /** The artifact store's KMS key, as a pipeline names it. */
  readonly kmsKeyId?: string;
}

/** The --json summary (see shared/CONTRACTS.md). */
export interface JobSummary {
  status: 'Succeeded' | 'Failed';
  jobId: string;
  failureType: string | null;
  failureMessage: string | null;
  jobResults: number;
  instancesLaunched: number;
  instancesReleased: number;
  stateTransitions: number;
  outputArtifact: string | null;
  durationMs: number;
  executionStatus: string | null;
}

/** Zips a directory with the zip tool, streaming to disk, as a source stage would. */
export async function zipDirectory(dir: string, zipFile: string): Promise<void> {
  await run('zip', ['-q', '-r', '-y', zipFile, '.'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
}

/**
 * Runs one build job the way CodePipeline would: the input artifact in the store, a queued job,
 * a STARTED event to the stack's rule, and then whatever the real handlers and state machine do.
 */
export async function runJob(cloud: LocalCloud, options: JobOptions): Promise<JobSummary> {
  const started = Date.now();
  const pipelineName = 'local-pipeline';
  const tag = randomUUID().slice(0, 8);
  let inputArtifacts: unknown[] = [];
  if (options.source) {
    const zipFile = path.join(cloud.dir, `input-${tag}.zip`);
    await zipDirectory(options.source, zipFile);
    const key = `${pipelineName}/SourceArti/${tag}.zip`;
    await cloud.s3.upload(key, zipFile);
    fs.rmSync(zipFile, { force: true });
    inputArtifacts = [{ name: 'SourceArtifact', location: { type: 'S3', s3Location: { bucketName: ARTIFACT_BUCKET, objectKey: key } } }];
  }
  const outputKey = `${pipelineName}/BuildArtif/${tag}.zip`;
  const outputArtifacts = options.outputPath
    ? [{ name: 'BuildArtifact', location: { type: 'S3', s3Location: { bucketName: ARTIFACT_BUCKET, objectKey: outputKey } } }]
    : [];
  const configuration: Record<string, string> = {
    [PROPERTY.imageId]: options.imageId ?? DEFAULT_IMAGE_ID,
    [PROPERTY.instanceType]: options.instanceType ?? 't3.medium',
    [PROPERTY.command]: options.command,
  };
  if (options.workingDirectory) configuration[PROPERTY.workingDirectory] = options.workingDirectory;
  if (options.outputPath) configuration[PROPERTY.outputArtifactPath] = options.outputPath;
  if (options.timeoutMinutes) configuration[PROPERTY.timeoutMinutes] = options.timeoutMinutes;
  const jobId = cloud.codepipeline.createJob(ACTION_TYPE, {
    actionTypeId: ACTION_TYPE,
    actionConfiguration: { configuration },
    pipelineContext: { pipelineName, stage: { name: 'Build' }, action: { name: 'BuildOnEc2' } },
    inputArtifacts,
    outputArtifacts,
    artifactCredentials: { ...S3_CREDENTIALS, sessionToken: `local-session-${tag}` },
    ...(options.kmsKeyId ? { encryptionKey: { id: options.kmsKeyId, type: 'KMS' } } : {}),
  });
  cloud.bus.put({
    source: 'aws.codepipeline',
    'detail-type': 'CodePipeline Action Execution State Change',
    detail: { pipeline: pipelineName, state: 'STARTED', type: { ...ACTION_TYPE } },
  });
  const result: JobResult = await cloud.codepipeline.waitForResult(jobId);
  const execution = [...cloud.sfn.executions.values()].find((e) => e.name === jobId);
  await execution?.done;
  await cloud.bus.drain();
  let outputArtifact: string | null = null;
  if (result.status === 'Succeeded' && options.outputPath && options.out) {
    const out = path.resolve(options.out);
    if (await cloud.s3.download(outputKey, out)) outputArtifact = out;
  }
  const launched = [...cloud.ec2.instances.values()].filter((i) => i.tags['ec2-build-action:job-id'] === jobId);
  return {
    status: result.status,
    jobId,
    failureType: result.status === 'Failed' ? result.failureDetails.type : null,
    failureMessage: result.status === 'Failed' ? result.failureDetails.message : null,
    jobResults: cloud.codepipeline.resultCalls.get(jobId) === undefined ? 0 : cloud.codepipeline.results(jobId).length,
    instancesLaunched: launched.length,
    instancesReleased: launched.filter((i) => i.state === 'shutting-down' || i.state === 'terminated').length,
    stateTransitions: execution?.events.filter((e) => e.type === 'StateEntered').length ?? 0,
    outputArtifact,
    durationMs: Date.now() - started,
    executionStatus: execution?.status ?? null,
  };
}
