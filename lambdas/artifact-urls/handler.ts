import type { Handler } from 'aws-lambda';
import { ENVIRONMENT_URL_TTL_SECONDS, presignDownload, presignUpload, validity } from '../shared/artifacts';
import { getJobDetails } from '../shared/codepipeline';
import { loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import { JobConfigurationError } from '../shared/errors';
import { JobObjects } from '../shared/job-objects';
import { createLogger } from '../shared/logger';
import type { ArtifactDirection, ArtifactLocation, ArtifactUrl, BuildJob } from '../shared/types';
import { environmentUrls, exportsUrl, type EnvironmentUrls } from './job-environment';

export interface ArtifactUrlEvent {
  readonly job: BuildJob;
  readonly direction: ArtifactDirection;
  /** The execution's name, which names its objects in the job bucket (absent from executions started before them). */
  readonly executionName?: string;
}

/** The artifact's URL, and the job bucket's: the environment's GET beside the input, the exports' PUT beside the output. */
export type ArtifactUrls = ArtifactUrl & Partial<EnvironmentUrls> & { readonly exportsUrl?: string };

const forcePathStyle = loadS3ForcePathStyle();
const jobBucket = loadJobBucket();
const logger = createLogger('artifact-urls');
let objects: JobObjects | undefined;
const jobObjects = () => (objects ??= new JobObjects(jobBucket(), forcePathStyle));

/** A presigned URL for one artifact object, signed with fresh credentials from GetJobDetails. */
async function artifactUrl(job: BuildJob, direction: ArtifactDirection, location: ArtifactLocation): Promise<ArtifactUrl> {
  const credentials = (await getJobDetails(job.jobId)).artifactCredentials;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken) {
    throw new Error('GetJobDetails returned no artifact credentials');
  }
  const options = {
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    forcePathStyle,
  };
  return direction === 'input' ? presignDownload(location, options) : presignUpload(location, job.kmsKeyId, options);
}

/**
 * "Get Input Artifact URL" and "Get Output Upload URL": presigned URLs for this job's artifacts, signed with fresh
 * credentials from GetJobDetails: the input while the instance boots (again if that took long), the output right
 * before the upload. Beside the input, the URLs of the build's environment object (written at the acknowledgement); beside the
 * output, the exported variables' upload is signed. Never logs a URL or a value.
 */
export const handler: Handler<ArtifactUrlEvent, ArtifactUrls> = async (event, context) => {
  logger.addContext(context);
  const { job, direction, executionName = '' } = event;
  logger.appendKeys({ jobId: job.jobId, direction });
  const location = direction === 'input' ? job.input : job.output;
  const exported = job.properties.exportedVariables;
  if (direction === 'output' && !location && !exported) throw new JobConfigurationError('The action has no output artifact to upload.');
  const url = location ? await artifactUrl(job, direction, location) : { url: '', expiresAt: null, refreshAfter: null };
  if (location) logger.info('artifact URL signed', { bucket: location.bucket, expiresAt: url.expiresAt });
  if (direction === 'input') {
    const environment = await environmentUrls(job.properties.environmentVariables?.length ?? 0, executionName, jobObjects);
    // With no input artifact, the environment's URLs alone say when to sign again (a slow boot would otherwise hand the
    // build an expired URL: "Is The Input URL Fresh?" keys on refreshAfter) and when they expire.
    const alone = !location && environment.environmentUrl ? { ...validity(), expiresAt: new Date(Date.now() + ENVIRONMENT_URL_TTL_SECONDS * 1000).toISOString() } : {};
    return { ...url, ...alone, ...environment };
  }
  return { url: url.url, expiresAt: url.expiresAt, refreshAfter: url.refreshAfter, exportsUrl: await exportsUrl(exported, executionName, jobObjects) };
};
