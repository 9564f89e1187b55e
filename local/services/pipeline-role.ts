import { Authorizer, type AuthorizationCheck } from '../iam/authorize';
import type { LocalIam } from './iam';

/**
 * What CodePipeline does with the pipeline's service role, authorized against that role's policies
 * as they are in the local IAM: the S3 source reads the source object's version and its bucket's
 * versioning and writes the artifact; the artifact credentials a job worker gets are a session of
 * the same role, so a custom action's job needs s3:GetObject on its inputs and s3:PutObject on its
 * outputs (https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role,
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html "Service role permissions").
 * A role that lacks one fails the action, as the first denied S3 call would on AWS.
 */

const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

export function sourceChecks(bucket: string, key: string, to: { bucket: string; key: string }): AuthorizationCheck[] {
  return [
    { action: 's3:GetBucketVersioning', resource: `arn:aws:s3:::${bucket}` },
    { action: 's3:GetObject', resource: object(bucket, key) },
    { action: 's3:GetObjectVersion', resource: object(bucket, key) },
    { action: 's3:PutObject', resource: object(to.bucket, to.key) },
  ];
}

export function jobChecks(inputs: { bucket: string; key: string }[], outputs: { bucket: string; key: string }[]): AuthorizationCheck[] {
  return [...inputs.map((i) => ({ action: 's3:GetObject', resource: object(i.bucket, i.key) })), ...outputs.map((o) => ({ action: 's3:PutObject', resource: object(o.bucket, o.key) }))];
}

/** Throws, naming the role, the action and the resource, when the role does not allow every check. */
export async function authorizeRole(iam: LocalIam, roleArn: string, checks: AuthorizationCheck[]): Promise<void> {
  const role = [...iam.roles.values()].find((r) => r.arn === roleArn);
  if (!role) throw new Error(`The pipeline's service role ${roleArn} does not exist.`);
  const policies = [...role.inlinePolicies].map(([name, policy]) => ({ name, policy: { ...policy, Statement: [policy.Statement].flat() } }));
  const authorizer = new Authorizer(new Map([[role.roleName, { role: role.roleName, roleArn, trustedServices: ['codepipeline.amazonaws.com'], policies }]]));
  for (const check of checks) {
    if (!(await authorizer.isAllowed(role.roleName, check))) {
      throw new Error(`Access denied: the pipeline's service role ${roleArn} is not authorized to perform ${check.action} on ${check.resource}.`);
    }
  }
}
