/**
 * The names of an execution's objects in the stack's job bucket (lambdas/shared/job-objects.ts), in a module of their
 * own so that lib/ can name them in IAM without loading the S3 client (not a dependency of a user's CDK app).
 */
export type JobObjectKind = 'environment' | 'exports';

/** One object per execution and kind: an execution's name is unique in its state machine for 90 days. */
export function jobObjectKey(kind: JobObjectKind, executionName: string): string {
  return `${kind}/${executionName}`;
}

/**
 * The copy of the environment object the instance reads and deletes: Store Build Environment's own stays until the job's
 * result, so a build that runs again (a Spot interruption's rerun on on-demand) gets a fresh copy to read.
 */
export function environmentReadKey(executionName: string): string {
  return `${jobObjectKey('environment', executionName)}.read`;
}
