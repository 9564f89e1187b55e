import type { LocalStack } from '../template/stack';

/** An IAM policy document, as the template holds it. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: unknown[];
}

export interface RolePolicies {
  /** The role's logical id in the template (what its local credentials name). */
  readonly role: string;
  /** The role's ARN as deployed locally. */
  readonly roleArn: string;
  /** The principals trusted to assume it (e.g. lambda.amazonaws.com). */
  readonly trustedServices: string[];
  readonly policies: { readonly name: string; readonly policy: PolicyDocument }[];
}

function refOf(value: unknown): string | null {
  const v = value as { Ref?: unknown };
  return v && typeof v === 'object' && typeof v.Ref === 'string' ? v.Ref : null;
}

/**
 * Every role of the stack with the identity policies attached to it: its inline Policies and each
 * AWS::IAM::Policy that names it. A managed policy cannot be read offline, so a role with one is
 * refused here rather than simulated with fewer rights than it has on AWS.
 */
export function rolePolicies(stack: LocalStack): Map<string, RolePolicies> {
  const roles = new Map<string, RolePolicies>();
  for (const [id, props] of stack.resources('AWS::IAM::Role')) {
    if (Array.isArray(props.ManagedPolicyArns) && props.ManagedPolicyArns.length) {
      throw new Error(`role ${id} has managed policies (${JSON.stringify(props.ManagedPolicyArns)}), which the local cloud cannot read: use inline policies`);
    }
    const trust = (props.AssumeRolePolicyDocument as PolicyDocument | undefined)?.Statement ?? [];
    const trustedServices = trust.flatMap((s) => {
      const service = (s as { Principal?: { Service?: string | string[] } }).Principal?.Service;
      return service === undefined ? [] : ([] as string[]).concat(service);
    });
    const inline = ((props.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocument }[]).map((p) => ({ name: p.PolicyName, policy: p.PolicyDocument }));
    roles.set(id, { role: id, roleArn: stack.getAtt(id, 'Arn'), trustedServices, policies: inline });
  }
  for (const [id, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const props = stack.properties(id);
    for (const raw of ((resource.Properties?.Roles ?? []) as unknown[])) {
      const roleId = refOf(raw);
      const role = roleId ? roles.get(roleId) : undefined;
      if (!role) throw new Error(`policy ${id} is attached to ${JSON.stringify(raw)}, which is not a role of this stack`);
      role.policies.push({ name: String(props.PolicyName ?? id), policy: props.PolicyDocument as PolicyDocument });
    }
  }
  return roles;
}

/** The role the stack's instance profiles give instances launched from a launch template. */
export function instanceRoleOfLaunchTemplate(stack: LocalStack, launchTemplateId: string): string | null {
  for (const [id] of stack.resources('AWS::EC2::LaunchTemplate')) {
    if (stack.ref(id) !== launchTemplateId) continue;
    const raw = stack.template.Resources[id].Properties as { LaunchTemplateData?: { IamInstanceProfile?: { Arn?: { 'Fn::GetAtt'?: [string, string] } } } };
    const profileId = raw.LaunchTemplateData?.IamInstanceProfile?.Arn?.['Fn::GetAtt']?.[0];
    if (!profileId) return null;
    const roles = (stack.template.Resources[profileId].Properties?.Roles ?? []) as unknown[];
    return refOf(roles[0]);
  }
  return null;
}
