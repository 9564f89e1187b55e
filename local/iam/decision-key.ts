import type { AuthorizationCheck } from './authorize';
import type { RolePolicies } from './policies';

/**
 * The key an authorization decision is kept under (Authorizer's cache), so that a request on a resource the role's
 * policies cannot tell from one already decided reuses that decision instead of simulating IAM again: every build makes
 * new instance ids, execution names, parameters and object keys, and the simulation of each new ARN cost the 1,000-build
 * benchmark's local cloud about a sixth of its main thread.
 *
 * Two checks share a key only when they are the same role and action, their request contexts agree on every key a
 * Condition of the role names (and have the same keys), their ARNs agree on partition,
 * service, Region, account, the resource part's first name (the resource type: "instance", "execution", a bucket) and
 * the order of its '/' and ':' separators, and every Resource and NotResource pattern of every statement of the role
 * matches both or neither: the simulation reads the resource only through those patterns and its resource type
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: "You can use wildcard
 * characters (* and ?) within any ARN segment"). A match is taken both case-sensitively and not, so the key is never
 * coarser than IAM's own matching either way. A pattern with a policy variable (${aws:username}) depends on the request,
 * which this does not evaluate: such a role's checks (and those of a role with a policy variable in a Condition) keep
 * the exact ARN and context, as does any resource that is not an ARN.
 */
export function decisionKey(role: RolePolicies, check: AuthorizationCheck): string {
  const exact = JSON.stringify([role.role, check.action, check.resource, check.context ?? {}]);
  const shape = arnShape(check.resource);
  if (shape === null) return exact;
  const patterns = patternsOf(role);
  if (patterns === null) return exact;
  const read = conditionKeysOf(role);
  if (read === null) return exact;
  const vector = patterns.map((p) => `${Number(p.exact(check.resource))}${Number(p.folded(check.resource))}`).join('');
  // A context value no Condition reads cannot change the decision (its key's name stays: the simulation checks names).
  const context = Object.fromEntries(Object.entries(check.context ?? {}).map(([k, v]) => [k, read.has(k.toLowerCase()) ? v : UNREAD]));
  return JSON.stringify([role.role, check.action, shape, vector, context]);
}

const UNREAD = '(no condition reads it)';

const conditionKeys = new WeakMap<RolePolicies, Set<string> | null>();

/**
 * The condition keys the role's statements name (lowercased: IAM's condition key names are case-insensitive,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html); null when a condition
 * value holds a policy variable, which reads the request's context by a name this does not parse.
 */
function conditionKeysOf(role: RolePolicies): Set<string> | null {
  if (conditionKeys.has(role)) return conditionKeys.get(role)!;
  const keys = new Set<string>();
  let variables = false;
  for (const p of role.policies) {
    for (const s of p.policy.Statement) {
      const condition = (s as { Condition?: Record<string, Record<string, unknown>> }).Condition ?? {};
      for (const block of Object.values(condition)) {
        for (const [key, value] of Object.entries(block)) {
          keys.add(key.toLowerCase());
          if (JSON.stringify(value).includes('${')) variables = true;
        }
      }
    }
  }
  const result = variables ? null : keys;
  conditionKeys.set(role, result);
  return result;
}

/** partition:service:region:account:type, and the resource part's separators; null for what is not an ARN. */
function arnShape(resource: string): string | null {
  const parts = resource.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const rest = parts.slice(5).join(':');
  const type = /^[^/:]*/.exec(rest)?.[0] ?? '';
  return `${parts.slice(1, 5).join(':')}:${type}|${rest.slice(type.length).replace(/[^/:]/g, '')}`;
}

/** One Resource or NotResource pattern, matched as IAM matches it: segment by segment, with and without case. */
interface Pattern {
  readonly exact: (resource: string) => boolean;
  readonly folded: (resource: string) => boolean;
}

const compiled = new WeakMap<RolePolicies, Pattern[] | null>();

/** Every Resource and NotResource pattern of the role's statements, compiled once; null when one has a policy variable. */
function patternsOf(role: RolePolicies): Pattern[] | null {
  if (compiled.has(role)) return compiled.get(role)!;
  const texts = role.policies.flatMap((p) =>
    p.policy.Statement.flatMap((s) => {
      const st = s as { Resource?: unknown; NotResource?: unknown };
      return [st.Resource, st.NotResource].flatMap((r) => (r === undefined ? [] : ([] as unknown[]).concat(r)));
    }),
  );
  const patterns = texts.some((t) => typeof t !== 'string' || t.includes('${')) ? null : (texts as string[]).map(compile);
  compiled.set(role, patterns);
  return patterns;
}

/** An ARN's six segments: the resource part keeps its own colons. */
const segments = (arn: string) => {
  const parts = arn.split(':');
  return parts.length < 6 ? null : [...parts.slice(0, 5), parts.slice(5).join(':')];
};

/** A segment's glob as a regular expression: * any run of characters, ? any one, the rest literal. */
const glob = (text: string, flags: string) => new RegExp(`^${text.replace(/[.+^$(){}|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);

function compile(pattern: string): Pattern {
  const matcher = (flags: string) => {
    const parts = segments(pattern);
    // "*" alone, or a pattern that is not an ARN: matched whole.
    if (!parts) {
      const whole = glob(pattern, flags);
      return (resource: string) => whole.test(resource);
    }
    const each = parts.map((p) => glob(p, flags));
    return (resource: string) => {
      const r = segments(resource);
      return !!r && each.every((re, i) => re.test(r[i]));
    };
  };
  return { exact: matcher('s'), folded: matcher('is') };
}
