import { presignDownload, presignUpload, type SigningOptions } from '../shared/artifacts';
import { getJobDetails } from '../shared/codepipeline';
import type { ArtifactDirection, ArtifactLocation, ArtifactUrl, BuildJob, NamedArtifact, SignedArtifacts } from '../shared/types';

/**
 * Presigned URLs for every artifact of one direction of a job, signed with one set of fresh job credentials: the first
 * artifact's as `url` (the document's InputUrl or OutputUrl, as before several artifacts were served) and the others'
 * as `name=url` pairs (SecondaryInputUrls, SecondaryOutputUrls). Each output's URL takes only its own object, with
 * SSE-KMS (shared/artifacts.ts).
 */

const NONE: ArtifactUrl = { url: '', expiresAt: null, refreshAfter: null };

async function signingOptions(jobId: string, forcePathStyle: boolean): Promise<SigningOptions> {
  const credentials = (await getJobDetails(jobId)).artifactCredentials;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken) {
    throw new Error('GetJobDetails returned no artifact credentials');
  }
  return {
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    forcePathStyle,
  };
}

/** The first artifact of the direction, and the others (absent from jobs of executions started before them: none). */
export function artifactsOf(job: BuildJob, direction: ArtifactDirection): { first: ArtifactLocation | null; others: readonly NamedArtifact[] } {
  return direction === 'input' ? { first: job.input, others: job.secondaryInputs ?? [] } : { first: job.output, others: job.secondaryOutputs ?? [] };
}

export async function signArtifacts(job: BuildJob, direction: ArtifactDirection, forcePathStyle: boolean): Promise<SignedArtifacts> {
  const { first, others } = artifactsOf(job, direction);
  if (!first && others.length === 0) return { ...NONE, secondaryUrls: '' };
  const options = await signingOptions(job.jobId, forcePathStyle);
  const sign = (at: ArtifactLocation) => (direction === 'input' ? presignDownload(at, options) : presignUpload(at, job.kmsKeyId, options));
  const [main, ...rest] = await Promise.all([first ? sign(first) : NONE, ...others.map(sign)]);
  return { ...main, secondaryUrls: others.map((a, i) => `${a.name}=${rest[i].url}`).join(' ') };
}
