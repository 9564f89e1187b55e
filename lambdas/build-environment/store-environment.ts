import type { EnvironmentVariable } from '../shared/build-environment';
import { jobObjectKey } from '../shared/job-object-keys';
import type { JobObjects } from '../shared/job-objects';
import { encodeEnvironment, resolveEnvironment, type ValueSources } from './environment';

/**
 * Resolves the job's variables and writes them as the execution's environment object, in "Store Build Environment"
 * (after the job is acknowledged, before any instance is launched), so a parameter or secret the job cannot read is a
 * ConfigurationError with nothing to release (issue #13: "before launch where it can be known"). The object is read by
 * no one but the function that signs the instance's URL for it, minutes later ("Get Input Artifact URL"); the job's
 * result deletes it, and the safety nets delete an ended execution's. False when there was nothing to store.
 */
export async function storeEnvironment(variables: readonly EnvironmentVariable[], executionName: string, objects: Pick<JobObjects, 'put'>, sources: ValueSources): Promise<boolean> {
  // No variables, no object (what "Get Input Artifact URL" expects of such a job): a job from a poller of the version
  // before this state, which sent an empty list, may come here while a deployment updates the stack.
  if (variables.length === 0) return false;
  if (!executionName) throw new Error('the execution\'s name is needed to name its environment object');
  const pairs = await resolveEnvironment(variables, sources);
  const masked = variables.filter((v) => v.type !== 'PLAINTEXT').map((v) => v.name);
  await objects.put(jobObjectKey('environment', executionName), encodeEnvironment(pairs, masked));
  return true;
}
