import type { AuthorizationCheck } from './authorize';
import type { RolePolicies } from './policies';

/**
 * AWS-owned resources whose ARNs name no account: AWS's public SSM parameters, arn:aws:ssm:REGION::parameter/aws/service/…
 * (local/services/ssm-parameters.ts). @cloud-copilot/iam-simulate finds a resource's type by the Service Authorization
 * Reference's ARN pattern, arn:${Partition}:ssm:${Region}:${Account}:parameter/…, whose ${Account} it matches with one
 * character or more, so it cannot evaluate such an ARN at all. The simulation is given the same question with a
 * stand-in account, `aws` (never a real account, which is 12 digits), put both in the ARN checked and in every policy
 * Resource and NotResource that names an empty account: a statement then matches exactly when it matches the real
 * ARN. A wildcard account (`*`) matches the empty account and the stand-in alike; a named account matches neither.
 */
const PUBLIC_PARAMETER = /^arn:[^:]+:ssm:[^:]+::parameter\//;
const EMPTY_ACCOUNT = /^(arn:[^:]*:[^:]*:[^:]*:)(:)/;
const STAND_IN = 'aws';

const standIn = (arn: string) => arn.replace(EMPTY_ACCOUNT, `$1${STAND_IN}$2`);

function rewrite(value: unknown): unknown {
  if (typeof value === 'string') return standIn(value);
  return Array.isArray(value) ? value.map(rewrite) : value;
}

/**
 * The check and policies to simulate: as given, unless the check is on a public parameter. (EC2's public images,
 * arn:aws:ec2:REGION::image/…, need no stand-in: their ARN pattern has no account, and iam-simulate types them.)
 */
export function forSimulation(check: AuthorizationCheck, policies: RolePolicies['policies']): { check: AuthorizationCheck; policies: RolePolicies['policies'] } {
  if (!PUBLIC_PARAMETER.test(check.resource)) return { check, policies };
  const statements = (list: unknown[]) =>
    list.map((s) => {
      const st = { ...(s as Record<string, unknown>) };
      for (const key of ['Resource', 'NotResource']) if (key in st) st[key] = rewrite(st[key]);
      return st;
    });
  return {
    check: { ...check, resource: standIn(check.resource) },
    policies: policies.map((p) => ({ name: p.name, policy: { ...p.policy, Statement: statements(p.policy.Statement) } })),
  };
}
