import { cacheKey, cacheOwner } from '../shared/cache-paths';
import type { JobObjects } from '../shared/job-objects';
import type { BuildJob } from '../shared/types';

/**
 * The instance's URL for the job's cache (CachePaths: one archive of all its directories): a GET beside the input
 * artifact's URL (the restore, before the build), a PUT beside the output's (the save, signed only after a successful
 * build, right before the upload). The object is the action's own (lambdas/shared/cache-paths.ts: keyed by pipeline,
 * stage and action, and the directories), so different actions never share one. '' when the job caches nothing, or
 * when CodePipeline did not name its pipeline, stage and action (a cache it could share with another action is none).
 * One URL, not one per directory: each is about 1.5 KB of the command's parameters, which count toward the document's
 * 64 KB (test/lambdas/artifact-sizes.test.ts).
 */
export async function cacheUrl(job: BuildJob, method: 'GET' | 'PUT', objects: () => JobObjects): Promise<string> {
  const owner = cacheOwner(job.context);
  if (!job.properties.cachePaths || owner === null) return '';
  return objects().presign(cacheKey(owner, job.properties.cachePaths), method);
}
