import type { AuthorizationCheck } from './authorize';
import type { RolePolicies } from './policies';

/**
 * The key an authorization decision is kept under (Authorizer's cache), so that a request on a resource the role's
 * policies cannot tell from one already decided reuses that decision instead of simulating IAM again: every build makes
 * new instance ids, execution names, parameters and object keys, and the simulation of each new ARN cost the 1,000-build
 * benchmark's local cloud about a sixth of its main thread.
 *
 * Two checks share a key only when they are the same role and action, their request contexts agree on every key a
 * Condition of the role names (and have the same keys), their ARNs agree on everything but the resource part's last
 * name (an instance id, an execution name; arnShape), or are the same ARN where it has a wildcard, and every Resource
 * and NotResource pattern of every statement of the role matches both or neither: the simulation reads the resource
 * only through those patterns and its resource type
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html: "You can use wildcard
 * characters (* and ?) within any ARN segment"). Matches are taken three ways as to case (Pattern), so the key is never
 * coarser than IAM's or the simulation's matching. A policy variable (${aws:username}) in a pattern or a condition
 * depends on the request, which this does not evaluate: such a role's checks keep the exact ARN and context.
 */
export function decisionKey(role: RolePolicies, check: AuthorizationCheck): string {
  const exact = JSON.stringify([role.role, check.action, check.resource, check.context ?? {}]);
  const patterns = patternsOf(role);
  const read = conditionKeysOf(role);
  if (patterns === null || read === null) return exact;
  // A resource with a wildcard (instance/* for what RunInstances creates) is simulated per resource type and matched
  // against the patterns by overlap, not as a name: it keeps its exact ARN, as does what is not an ARN.
  const shape = /[*?]/.test(check.resource) ? null : arnShape(check.resource);
  const resource = shape === null ? check.resource : [shape, patterns.map((p) => p.matches.map((m) => Number(m(check.resource))).join('')).join('')];
  // A context value no Condition reads cannot change the decision (its key's name stays: the simulation checks names).
  const context = Object.fromEntries(Object.entries(check.context ?? {}).map(([k, v]) => [k, read.has(k.toLowerCase()) ? v : UNREAD]));
  return JSON.stringify([role.role, check.action, resource, context]);
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
    for (const s of ([] as unknown[]).concat(p.policy.Statement)) {
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

/**
 * partition:service:region:account, and the resource part with only its last name left out (kept: whether it is empty):
 * the simulation finds the resource type by matching the ARN against the Service Authorization Reference's ARN formats,
 * whose fixed words and separators (log-group:NAME:log-stream:NAME, execution:MACHINE:NAME) this keeps, and whose
 * placeholders match one character at least. Null for what is not an ARN.
 */
function arnShape(resource: string): string | null {
  const parts = resource.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const rest = parts.slice(5).join(':');
  const last = /[^/:]*$/.exec(rest)?.[0] ?? '';
  return `${parts.slice(1, 5).join(':')}:${rest.slice(0, rest.length - last.length)}${last ? '…' : ''}`;
}

/**
 * One Resource or NotResource pattern, matched segment by segment three ways: with case, without, and as iam-simulate
 * does (the first five segments without case, the resource part with it). AWS does not say which segments ignore case:
 * a key that keeps all three is never coarser than any of them.
 */
interface Pattern {
  readonly matches: readonly ((resource: string) => boolean)[];
}

const compiled = new WeakMap<RolePolicies, Pattern[] | null>();

/** Every Resource and NotResource pattern of the role's statements, compiled once; null when one has a policy variable. */
function patternsOf(role: RolePolicies): Pattern[] | null {
  if (compiled.has(role)) return compiled.get(role)!;
  const texts = role.policies.flatMap((p) =>
    ([] as unknown[]).concat(p.policy.Statement).flatMap((s) => {
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

/** A segment's glob as a regular expression: * any run of characters, ? any one (neither a line break), the rest literal. */
const glob = (text: string, ignoreCase: boolean) => new RegExp(`^${text.replace(/[.+^$(){}|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');

function compile(pattern: string): Pattern {
  /** `folded(i)`: whether segment i is matched without case. */
  const matcher = (folded: (segment: number) => boolean) => {
    const parts = segments(pattern);
    // "*" alone, or a pattern that is not an ARN: matched whole.
    if (!parts) {
      const whole = glob(pattern, folded(5));
      return (resource: string) => whole.test(resource);
    }
    const each = parts.map((p, i) => glob(p, folded(i)));
    return (resource: string) => {
      const r = segments(resource);
      return !!r && each.every((re, i) => re.test(r[i]));
    };
  };
  return { matches: [matcher(() => false), matcher(() => true), matcher((i) => i < 5)] };
}
