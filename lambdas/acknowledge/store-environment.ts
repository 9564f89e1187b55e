import type { EnvironmentVariable } from '../shared/build-environment';
import { jobObjectKey, type JobObjects } from '../shared/job-objects';
import { encodeEnvironment, resolveEnvironment, type ValueSources } from './environment';

/**
 * Resolves the job's variables and writes them as the execution's environment object, when the job is acknowledged:
 * before any instance is launched, so a parameter or secret the job cannot read is a ConfigurationError with nothing
 * to release (issue #13: "before launch where it can be known"). The object is read by no one but the function that
 * signs the instance's URL for it, minutes later ("Get Input Artifact URL"); the job's result deletes it, and the
 * safety nets delete an ended execution's. False when the job has no variables (no object).
 */
export async function storeEnvironment(variables: readonly EnvironmentVariable[] | undefined, executionName: string, objects: () => JobObjects, sources: ValueSources): Promise<boolean> {
  if (!variables?.length) return false;
  if (!executionName) throw new Error('the execution\'s name is needed to name its environment object');
  const pairs = await resolveEnvironment(variables, sources);
  const masked = variables.filter((v) => v.type !== 'PLAINTEXT').map((v) => v.name);
  await objects().put(jobObjectKey('environment', executionName), encodeEnvironment(pairs, masked));
  return true;
}
