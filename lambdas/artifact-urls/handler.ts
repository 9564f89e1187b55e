import type { Handler } from 'aws-lambda';
import { ENVIRONMENT_URL_TTL_SECONDS, validity } from '../shared/artifacts';
import { loadJobBucket, loadS3ForcePathStyle } from '../shared/config';
import { JobConfigurationError } from '../shared/errors';
import { JobObjects } from '../shared/job-objects';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import type { ArtifactDirection, BuildJob, SignedArtifacts } from '../shared/types';
import { artifactsOf, signArtifacts } from './artifacts';
import { cacheUrl } from './cache-url';
import { environmentUrls, exportsUrl, type EnvironmentUrls } from './job-environment';

export interface ArtifactUrlEvent {
  readonly job: BuildJob;
  readonly direction: ArtifactDirection;
  /** The execution's name, which names its objects in the job bucket (absent from executions started before them). */
  readonly executionName?: string;
}

/** The artifacts' URLs (the first's, the others' as name=url), and the job bucket's: the environment's GET beside the input, the exports' PUT beside the output. */
export type ArtifactUrls = SignedArtifacts & Partial<EnvironmentUrls> & { readonly exportsUrl?: string; readonly cacheUrl?: string };

const forcePathStyle = loadS3ForcePathStyle();
const jobBucket = loadJobBucket();
const logger = createLogger('artifact-urls');
const metrics = createMetrics('artifact-urls');
let objects: JobObjects | undefined;
const jobObjects = () => (objects ??= new JobObjects(jobBucket(), forcePathStyle));

/**
 * "Get Input Artifact URL" and "Get Output Upload URL": presigned URLs for this job's artifacts, signed with fresh
 * credentials from GetJobDetails: the input while the instance boots (again if that took long), the output right
 * before the upload. Beside the input, the URLs of the build's environment object (written by Store Build Environment, before the launch); beside the
 * output, the exported variables' upload is signed. Never logs a URL or a value.
 */
export const handler: Handler<ArtifactUrlEvent, ArtifactUrls> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  const { job, direction, executionName = '' } = event;
  logger.appendKeys({ jobId: job.jobId, direction });
  const { first: location, others } = artifactsOf(job, direction);
  const exported = job.properties.exportedVariables;
  if (direction === 'output' && !location && !exported && !job.properties.cachePaths) throw new JobConfigurationError('The action has no output artifact to upload.');
  const url = await signArtifacts(job, direction, forcePathStyle);
  if (location) logger.info('artifact URLs signed', { bucket: location.bucket, artifacts: 1 + others.length, expiresAt: url.expiresAt });
  if (direction === 'input') {
    const environment = await environmentUrls(job.properties.environmentVariables?.length ?? 0, executionName, jobObjects);
    // The caches' GETs are signed now too, and again with the input's when the instance took long to boot.
    const caches = await cacheUrl(job, 'GET', jobObjects);
    // With no input artifact, the environment's or the caches' URLs alone say when to sign again (a slow boot would
    // otherwise hand the build an expired URL: "Is The Input URL Fresh?" keys on refreshAfter) and when they expire.
    const alone = location ? {} : environment.environmentUrl ? { ...validity(), expiresAt: new Date(Date.now() + ENVIRONMENT_URL_TTL_SECONDS * 1000).toISOString() } : caches ? validity() : {};
    return { ...url, ...alone, ...environment, cacheUrl: caches };
  }
  return { url: url.url, expiresAt: url.expiresAt, refreshAfter: url.refreshAfter, secondaryUrls: url.secondaryUrls, exportsUrl: await exportsUrl(exported, executionName, jobObjects), cacheUrl: await cacheUrl(job, 'PUT', jobObjects) };
});
