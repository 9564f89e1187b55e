/**
 * The names of an execution's objects in the stack's job bucket (lambdas/shared/job-objects.ts), in a module of their
 * own so that lib/ can name them in IAM without loading the S3 client (not a dependency of a user's CDK app).
 */
export type JobObjectKind = 'environment' | 'exports';

/** One object per execution and kind: an execution's name is unique in its state machine for 90 days. */
export function jobObjectKey(kind: JobObjectKind, executionName: string): string {
  return `${kind}/${executionName}`;
}
