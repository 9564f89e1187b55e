import { environmentReadKey, jobObjectKey, type JobObjects } from '../shared/job-objects';
import { ENVIRONMENT_URL_TTL_SECONDS } from '../shared/artifacts';

/**
 * The instance's URLs for the job's objects in the job bucket: the environment's GET and DELETE beside the input
 * artifact's URL, the exported variables' PUT beside the output's, so neither adds a state or a wait. The environment
 * object itself was written right after the job was acknowledged ("Store Build Environment": lambdas/build-environment/store-environment.ts).
 */

/** The instance's URLs for its environment object: to read it, and to delete it once read. */
export interface EnvironmentUrls {
  readonly environmentUrl: string;
  readonly environmentDeleteUrl: string;
}

/**
 * A GET for the execution's environment object and a DELETE the document sends as soon as it has read it. The URLs
 * travel as command parameters and in the execution's history (which anyone allowed ssm:ListCommands or
 * states:GetExecutionHistory reads): they live ENVIRONMENT_URL_TTL_SECONDS only, and the state machine signs them again
 * when the instance took longer than REFRESH_AFTER_SECONDS to be ready, so a URL that still opens the object exists
 * for minutes before the build reads it, and the object is gone seconds after. '' when the job has no variables.
 */
export async function environmentUrls(variableCount: number, executionName: string, objects: () => JobObjects): Promise<EnvironmentUrls> {
  if (variableCount === 0) return { environmentUrl: '', environmentDeleteUrl: '' };
  if (!executionName) throw new Error('the execution\'s name is needed to name its environment object');
  const store = objects();
  // The instance reads (and deletes) a copy: Store Build Environment's object stays for a build that runs again.
  const environment = await store.read(jobObjectKey('environment', executionName), ENVIRONMENT_OBJECT_MAX_BYTES);
  if (!environment) throw new Error(`the environment object of ${executionName} is missing from the job bucket: Store Build Environment stores it before the launch`);
  const key = environmentReadKey(executionName);
  await store.put(key, environment);
  return { environmentUrl: await store.presign(key, 'GET', undefined, ENVIRONMENT_URL_TTL_SECONDS), environmentDeleteUrl: await store.presign(key, 'DELETE', undefined, ENVIRONMENT_URL_TTL_SECONDS) };
}

/**
 * An environment object's largest size: the property's 1,000 characters name at most a few hundred variables, and a
 * secret's value is at most 65,536 bytes (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html),
 * a parameter's 8 KB (advanced tier); 4 MB leaves room for every variable a secret, well inside a Lambda's memory.
 */
const ENVIRONMENT_OBJECT_MAX_BYTES = 4 * 1024 * 1024;

/** A PUT URL for the values of the exported variables; '' when the job exports none. */
export async function exportsUrl(exported: string | undefined, executionName: string, objects: () => JobObjects): Promise<string> {
  if (!exported) return '';
  return objects().presign(jobObjectKey('exports', executionName), 'PUT');
}
