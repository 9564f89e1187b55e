import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { mappedOutputNames } from '../lambdas/poller/artifacts';
import type { LocalCloud } from './cloud';
import { registeredActionTypes, type ActionTypeId } from './services/pipeline-structure';
import { ARTIFACT_BUCKET } from './s3';
import { runProgram } from './spawner';

/**
 * A local job's input and output artifacts, as a pipeline declares them for the action and CodePipeline hands them to
 * its job worker: each artifact by name with its S3 location in JobData's inputArtifacts and outputArtifacts
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_JobData.html, whose Artifact is name, revision and
 * location: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_Artifact.html), the first input being the
 * primary one.
 */

/** An input artifact of a local job: its name and the directory zipped into it. */
export interface LocalInput {
  readonly name: string;
  readonly dir: string;
}

/** An output artifact of a local job, as the summary gives it: its size in the store, and where --out wrote it. */
export interface OutputArtifactSummary {
  readonly name: string;
  readonly bytes: number;
  readonly file: string | null;
}

/** The name a source gets when none is given (as the console's wizard names it). */
export const SOURCE_ARTIFACT = 'SourceArtifact';
/** The output a plain OutputArtifactPath declares. */
export const BUILD_ARTIFACT = 'BuildArtifact';
/** CodePipeline's artifact name (ArtifactName in the API reference: 1 to 100 of [A-Za-z0-9_-]). */
export const ARTIFACT_NAME = /^[A-Za-z0-9_-]{1,100}$/;

/** The outputs a job declares: those OutputArtifactPath maps (app=dist,reports=test-results), or one for a plain path. */
export function outputNamesOf(outputArtifactPath: string | undefined): string[] {
  if (!outputArtifactPath) return [];
  return mappedOutputNames(outputArtifactPath) ?? [BUILD_ARTIFACT];
}

/**
 * Checks the artifacts as CreatePipeline checks an action's: names as the model's pattern, output names unique in the
 * pipeline, input names unique in the action, counts within the action type's (InvalidActionDeclarationException on AWS:
 * local/services/pipeline-structure.ts checks the same for the pipelines the local CodePipeline runs).
 */
export function checkDeclared(cloud: LocalCloud, type: ActionTypeId, inputs: readonly string[], outputs: readonly string[]): void {
  const registered = registeredActionTypes(cloud.stack).find((t) => t.id.category === type.category && t.id.provider === type.provider && t.id.version === type.version);
  for (const [names, what, bounds] of [[inputs, 'input', registered?.inputs], [outputs, 'output', registered?.outputs]] as const) {
    const bad = names.find((n) => !ARTIFACT_NAME.test(n));
    if (bad !== undefined) throw new Error(`${what} artifact name ${JSON.stringify(bad)}: an artifact name is 1 to 100 letters, digits, '_' or '-'`);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new Error(`${what} artifact name ${JSON.stringify(twice)} is used more than once`);
    if (bounds && (names.length < bounds.min || names.length > bounds.max)) throw new Error(`Action 'BuildOnEc2' must have ${bounds.min} to ${bounds.max} ${what} artifacts, has ${names.length}`);
  }
}

/** An object key as CodePipeline makes them: the pipeline, the artifact's name cut to 10 characters, a short id. */
const keyFor = (pipelineName: string, name: string) => `${pipelineName}/${name.slice(0, 10)}/${randomBytes(4).toString('hex').slice(0, 7)}.zip`;
const s3Location = (key: string) => ({ type: 'S3', s3Location: { bucketName: ARTIFACT_BUCKET, objectKey: key } });

/** A file's SHA-1, streamed: an artifact may be larger than this process should hold. */
function sha1Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1');
    fs.createReadStream(file).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });
}

/** Zips a directory with the zip tool, streaming to disk, as a source stage would. */
export async function zipDirectory(dir: string, zipFile: string): Promise<void> {
  // Through the spawner's small process: a fork of this one blocks its main thread (local/spawner).
  await runProgram('zip', ['-q', '-r', '-y', zipFile, '.'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
}

/** Each input zipped into the store, as a source action leaves it: JobData's inputArtifacts, and each one's key. */
export async function stageInputs(cloud: LocalCloud, pipelineName: string, inputs: readonly LocalInput[]): Promise<{ artifacts: unknown[]; keys: string[] }> {
  const artifacts: unknown[] = [];
  const keys: string[] = [];
  for (const input of inputs) {
    const zipFile = path.join(cloud.dir, `input-${randomBytes(4).toString('hex')}.zip`);
    await zipDirectory(input.dir, zipFile);
    const key = keyFor(pipelineName, input.name);
    await cloud.s3.upload(key, zipFile);
    // The source's revision, as a source action records it (a commit ID): here the SHA-1 of what was zipped.
    const revision = await sha1Of(zipFile);
    fs.rmSync(zipFile, { force: true });
    artifacts.push({ name: input.name, revision, location: s3Location(key) });
    keys.push(key);
  }
  return { artifacts, keys };
}

/** JobData's outputArtifacts: a fresh key for each declared output. */
export function declareOutputs(pipelineName: string, names: readonly string[]): { name: string; key: string; artifact: unknown }[] {
  return names.map((name) => {
    const key = keyFor(pipelineName, name);
    return { name, key, artifact: { name, location: s3Location(key) } };
  });
}

/**
 * The outputs the job uploaded, with their sizes; with `out`, each written there: one output to the file `out`, several
 * to the directory `out`, each as NAME.zip.
 */
export async function collectOutputs(cloud: LocalCloud, outputs: readonly { name: string; key: string }[], out: string | undefined): Promise<OutputArtifactSummary[]> {
  const found: OutputArtifactSummary[] = [];
  if (out && outputs.length > 1) fs.mkdirSync(out, { recursive: true });
  for (const { name, key } of outputs) {
    let bytes: number;
    try {
      bytes = (await cloud.s3.client.send(new HeadObjectCommand({ Bucket: ARTIFACT_BUCKET, Key: key }))).ContentLength ?? 0;
    } catch (err) {
      if ((err as { name?: string }).name === 'NotFound' || (err as { name?: string }).name === 'NoSuchKey') continue;
      throw err;
    }
    const target = out ? path.resolve(outputs.length > 1 ? path.join(out, `${name}.zip`) : out) : null;
    const file = target && (await cloud.s3.download(key, target)) ? target : null;
    found.push({ name, bytes, file });
  }
  return found;
}

