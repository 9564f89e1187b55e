import { runSimulation } from '@cloud-copilot/iam-simulate';
import { AwsError } from '../services/aws-error';
import { LOCAL_ACCOUNT, roleOfAccessKey } from './identity';
import type { RolePolicies } from './policies';
import { forSimulation } from './aws-owned';
import { decisionKey } from './decision-key';

/** One authorization AWS makes for a request: an action on a resource, in a context. */
export interface AuthorizationCheck {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

/** How a service answers an unknown key or a denied request (its protocol's error shape). */
export interface DenialStyle {
  /** Unknown credentials. JSON services: UnrecognizedClientException; EC2: AuthFailure. */
  readonly unknownKey: () => AwsError;
  /** A denied action. JSON services: AccessDeniedException; EC2: UnauthorizedOperation. */
  readonly denied: (message: string) => AwsError;
}

/**
 * JSON-protocol services (CodePipeline, Systems Manager, Step Functions, CloudWatch Logs): an
 * unknown key is UnrecognizedClientException, "The security token included in the request is
 * invalid." and a denial AccessDeniedException, both HTTP 400
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html).
 */
export const JSON_DENIALS: DenialStyle = {
  unknownKey: () => new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
  denied: (message) => new AwsError('AccessDeniedException', message),
};

/**
 * EC2: AuthFailure when the credentials cannot be validated, UnauthorizedOperation ("You are not
 * authorized to perform this operation.", with an encoded message) when a policy does not allow it
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html#unauthorized-operation).
 */
export const EC2_DENIALS: DenialStyle = {
  unknownKey: () => new AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
  denied: (message) =>
    new AwsError('UnauthorizedOperation', `You are not authorized to perform this operation. ${message} Encoded authorization failure message: ${Buffer.from(message).toString('base64')}`, 403),
};

/** How a statement is named in coverage reports: its policy and its Sid (CDK sets one on each of ours). */
export function statementKey(policy: string, statement: unknown): string {
  // iam-simulate hands back its own statement objects: their JSON is the policy's statement.
  const plain = JSON.parse(JSON.stringify(statement)) as { Sid?: string };
  return `${policy}/${plain.Sid ?? JSON.stringify(plain)}`;
}

export interface Decision {
  readonly allowed: boolean;
  readonly check: AuthorizationCheck;
}

/**
 * Decides requests with @cloud-copilot/iam-simulate, which evaluates identity policies with AWS's
 * own authorization data (actions, resource types, condition keys of the Service Authorization
 * Reference). Decisions are cached: the policies do not change while the cloud runs; a resource the role's policies
 * cannot tell from one already decided reuses its decision (decision-key.ts).
 */
export class Authorizer {
  private readonly cache = new Map<string, Promise<boolean>>();
  /** IAM simulations run (decisions not found in the cache), for tests. */
  simulations = 0;
  /** Every denial, for tests and the runner's explanation of a job that was never picked up. */
  readonly denials: { role: string; action: string; resource: string }[] = [];
  /** The statements that allowed at least one request, as `<role> <policy>/<Sid or index>`. */
  readonly usedStatements = new Set<string>();

  constructor(private readonly roles: Map<string, RolePolicies>) {}

  /** Every statement of every role, named as in usedStatements. */
  allStatements(): string[] {
    return [...this.roles.values()].flatMap((r) => r.policies.flatMap((p) => p.policy.Statement.map((s) => `${r.role} ${statementKey(p.name, s)}`)));
  }

  /** The role an access key names, or null when it names none of this stack's roles. */
  roleOf(accessKeyId: string | null): RolePolicies | null {
    const name = accessKeyId ? roleOfAccessKey(accessKeyId) : null;
    return (name && this.roles.get(name)) || null;
  }

  private allowed(role: RolePolicies, check: AuthorizationCheck): Promise<boolean> {
    const key = decisionKey(role, check);
    let decision = this.cache.get(key);
    if (!decision) {
      // ARNs without an account (AWS's public parameters) are simulated with a stand-in: see aws-owned.ts.
      const simulated = forSimulation(check, role.policies);
      this.simulations++;
      decision = runSimulation(
        {
          request: {
            principal: `${role.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/local`,
            action: check.action,
            resource: { resource: simulated.check.resource, accountId: LOCAL_ACCOUNT },
            contextVariables: check.context ?? {},
          },
          identityPolicies: simulated.policies.map((p) => ({ name: p.name, policy: p.policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      ).then((r) => {
        if (r.resultType === 'error') throw new Error(`IAM simulation of ${check.action} on ${check.resource} failed: ${r.errors.message}`);
        // A resource not created yet (instance/*) is simulated as a wildcard: one result per resource type.
        const analyses = r.resultType === 'single' ? [r.result.analysis] : r.results.map((x) => x.analysis);
        for (const a of analyses) for (const s of a.identityAnalysis?.allowStatements ?? []) this.usedStatements.add(`${role.role} ${statementKey(s.policyId, s.statement)}`);
        return r.overallResult === 'Allowed';
      });
      this.cache.set(key, decision);
    }
    return decision;
  }

  /**
   * Authorizes every check of a request as the role the key names; throws the service's own
   * error for an unknown key or the first denied check, with IAM's message
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
   */
  async authorize(accessKeyId: string | null, checks: readonly AuthorizationCheck[], style: DenialStyle): Promise<void> {
    const role = this.roleOf(accessKeyId);
    if (!role) throw style.unknownKey();
    for (const check of checks) {
      if (await this.allowed(role, check)) continue;
      this.denials.push({ role: role.role, action: check.action, resource: check.resource });
      const principal = `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${role.roleArn.split('/').pop()}/local`;
      throw style.denied(`User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} because no identity-based policy allows the ${check.action} action`);
    }
  }

  /** The same decision for a call made by a role directly (an instance's agent, a service on the stack's behalf). */
  async isAllowed(role: string, check: AuthorizationCheck): Promise<boolean> {
    const r = this.roles.get(role);
    if (!r) throw new Error(`no role ${role} in the stack`);
    const ok = await this.allowed(r, check);
    if (!ok) this.denials.push({ role, action: check.action, resource: check.resource });
    return ok;
  }
}
