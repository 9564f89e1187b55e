import type { EnvironmentVariable } from '../shared/build-environment';
import { jobObjectKey, type JobObjects } from '../shared/job-objects';
import { encodeEnvironment, resolveEnvironment, type ValueSources } from './environment';

/**
 * The build's environment object and the exported variables' upload, for one execution: written and signed beside
 * the input artifact's URL (while the instance boots) and the output's (right before the upload), so neither adds a
 * state or a wait.
 */

/** The instance's URLs for its environment object: to read it, and to delete it once read. */
export interface EnvironmentUrls {
  readonly environmentUrl: string;
  readonly environmentDeleteUrl: string;
}

/**
 * Resolves the job's variables, writes them as the execution's environment object, and signs a GET for it and a DELETE
 * the document sends as soon as it has read it: the URLs travel as command parameters (which anyone allowed
 * ssm:ListCommands reads), so the object is gone seconds after the build starts, not at the job's result. '' for none.
 */
export async function environmentUrls(variables: readonly EnvironmentVariable[] | undefined, executionName: string, objects: () => JobObjects, sources: ValueSources): Promise<EnvironmentUrls> {
  if (!variables?.length) return { environmentUrl: '', environmentDeleteUrl: '' };
  if (!executionName) throw new Error('the execution\'s name is needed to name its environment object');
  const pairs = await resolveEnvironment(variables, sources);
  const store = objects();
  const key = jobObjectKey('environment', executionName);
  await store.put(key, encodeEnvironment(pairs));
  return { environmentUrl: await store.presign(key, 'GET'), environmentDeleteUrl: await store.presign(key, 'DELETE') };
}

/** A PUT URL for the values of the exported variables; '' when the job exports none. */
export async function exportsUrl(exported: string | undefined, executionName: string, objects: () => JobObjects): Promise<string> {
  if (!exported) return '';
  return objects().presign(jobObjectKey('exports', executionName), 'PUT');
}
