import type { EnvironmentVariable } from '../shared/build-environment';
import { jobObjectKey, type JobObjects } from '../shared/job-objects';
import { encodeEnvironment, resolveEnvironment, type ValueSources } from './environment';

/**
 * The build's environment object and the exported variables' upload, for one execution: written and signed beside
 * the input artifact's URL (while the instance boots) and the output's (right before the upload), so neither adds a
 * state or a wait.
 */

/** Resolves the job's variables, writes them as the execution's environment object, and signs a GET for it; '' for none. */
export async function environmentUrl(variables: readonly EnvironmentVariable[] | undefined, executionName: string, objects: () => JobObjects, sources: ValueSources): Promise<string> {
  if (!variables?.length) return '';
  const pairs = await resolveEnvironment(variables, sources);
  const store = objects();
  const key = jobObjectKey('environment', executionName);
  await store.put(key, encodeEnvironment(pairs));
  return store.presign(key, 'GET');
}

/** A PUT URL for the values of the exported variables; '' when the job exports none. */
export async function exportsUrl(exported: string | undefined, executionName: string, objects: () => JobObjects): Promise<string> {
  if (!exported) return '';
  return objects().presign(jobObjectKey('exports', executionName), 'PUT');
}
