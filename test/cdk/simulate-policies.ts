import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';

/**
 * Evaluates a synthesized role's policies as IAM would, with @cloud-copilot/iam-simulate (built from
 * the Service Authorization Reference): the template's intrinsics are resolved to one concrete
 * account and Region first, as CloudFormation would resolve them on deployment.
 */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

type Json = unknown;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;

/** The physical name CloudFormation would give a resource: any stable name will do. */
const physicalName = (logicalId: string) => `${logicalId.toLowerCase()}-name`;

/** What `Ref` returns, per resource type (most return a name; a few an ARN or ID). */
function ref(logicalId: string, resources: Resources): string {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': PARTITION,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Ec2BuildAction',
  };
  if (logicalId in pseudo) return pseudo[logicalId];
  const type = resources[logicalId]?.Type;
  if (!type) throw new Error(`Ref to unknown resource ${logicalId}`);
  if (type === 'AWS::StepFunctions::StateMachine') return `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:${physicalName(logicalId)}`;
  if (type === 'AWS::EC2::LaunchTemplate') return 'lt-0123456789abcdef0';
  return physicalName(logicalId);
}

/** What `Fn::GetAtt [id, Arn]` returns, per resource type, in the formats CloudFormation documents. */
function arnOf(logicalId: string, resources: Resources): string {
  const type = resources[logicalId]?.Type;
  const name = physicalName(logicalId);
  switch (type) {
    case 'AWS::Logs::LogGroup':
      return `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
    case 'AWS::IAM::Role':
      return `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`;
    case 'AWS::IAM::InstanceProfile':
      return `arn:${PARTITION}:iam::${ACCOUNT}:instance-profile/${name}`;
    case 'AWS::Lambda::Function':
      return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    case 'AWS::DynamoDB::Table':
      return `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    case 'AWS::S3::Bucket':
      return `arn:${PARTITION}:s3:::${name}`;
    default:
      throw new Error(`GetAtt Arn of ${logicalId} (${type}) is not modelled`);
  }
}

/** Resolves Ref, Fn::GetAtt (Arn), Fn::Join and Fn::Sub; any other intrinsic fails loudly. */
export function resolve(value: Json, resources: Resources): Json {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, Json>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const [fn] = keys;
    const arg = obj[fn];
    if (fn === 'Ref') return ref(arg as string, resources);
    if (fn === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
      if (attr !== 'Arn') throw new Error(`GetAtt ${id}.${attr} is not modelled`);
      return arnOf(id, resources);
    }
    if (fn === 'Fn::Join') {
      const [sep, parts] = arg as [string, Json[]];
      return parts.map((p) => resolve(p, resources)).join(sep);
    }
    if (fn === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [arg as string, {}];
      return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
        name in vars ? String(resolve(vars[name], resources)) : name.includes('.') ? arnOf(name.split('.')[0], resources) : ref(name, resources),
      );
    }
    throw new Error(`intrinsic ${fn} is not modelled`);
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(obj[k], resources)]));
}

/** The resolved policy documents attached to the one role whose logical ID starts with `rolePrefix`. */
export function rolePolicies(template: Template, rolePrefix: string): { name: string; policy: Json }[] {
  const resources = template.toJSON().Resources as Resources;
  const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  if (roles.length !== 1) throw new Error(`expected one role starting with ${rolePrefix}, found ${JSON.stringify(roles)}`);
  const [roleId] = roles;
  const inline = ((resources[roleId].Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: Json }[]).map((p) => ({
    name: p.PolicyName,
    policy: resolve(p.PolicyDocument, resources),
  }));
  const attached = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
    .map(([id, p]) => ({ name: id, policy: resolve(p.Properties.PolicyDocument, resources) }));
  if (resources[roleId].Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies, which this check does not model`);
  return [...inline, ...attached];
}

/** IAM's decision for one request by a principal holding `policies`: 'Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied'. */
export async function decide(
  policies: { name: string; policy: Json }[],
  action: string,
  resource: string,
  contextVariables: Record<string, string | string[]> = {},
  resourcePolicy?: Json,
): Promise<string> {
  const result = await runSimulation(
    {
      request: { principal: `arn:${PARTITION}:iam::${ACCOUNT}:role/caller`, action, resource: { resource, accountId: ACCOUNT }, contextVariables },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation of ${action} on ${resource} could not run: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}
