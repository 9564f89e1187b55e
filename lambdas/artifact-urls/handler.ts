import type { Handler } from 'aws-lambda';
import { presignDownload, presignUpload } from '../shared/artifacts';
import { getJobDetails } from '../shared/codepipeline';
import { loadS3ForcePathStyle } from '../shared/config';
import { JobConfigurationError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import type { ArtifactDirection, ArtifactUrl, BuildJob } from '../shared/types';

export interface ArtifactUrlEvent {
  readonly job: BuildJob;
  readonly direction: ArtifactDirection;
}

const forcePathStyle = loadS3ForcePathStyle();
const logger = createLogger('artifact-urls');

/**
 * "Get Input Artifact URL" and "Get Output Upload URL": presigned URLs for this job's artifacts,
 * signed with fresh credentials from GetJobDetails: the input while the instance boots (again if
 * that took long), the output right before the upload. Never logs the URL.
 */
export const handler: Handler<ArtifactUrlEvent, ArtifactUrl> = async (event, context) => {
  logger.addContext(context);
  const { job, direction } = event;
  logger.appendKeys({ jobId: job.jobId, direction });
  const location = direction === 'input' ? job.input : job.output;
  if (!location) {
    if (direction === 'output') throw new JobConfigurationError('The action has no output artifact to upload.');
    return { url: '', expiresAt: null, refreshAfter: null };
  }
  const details = await getJobDetails(job.jobId);
  const credentials = details.artifactCredentials;
  if (!credentials?.accessKeyId || !credentials.secretAccessKey || !credentials.sessionToken) {
    throw new Error('GetJobDetails returned no artifact credentials');
  }
  const options = {
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
    forcePathStyle,
  };
  const url = direction === 'input' ? await presignDownload(location, options) : await presignUpload(location, job.kmsKeyId, options);
  logger.info('artifact URL signed', { bucket: location.bucket, expiresAt: url.expiresAt });
  return url;
};
