import { AwsError } from '../services/aws-error';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from './identity';
import type { AuthorizationCheck } from './authorize';
import { parameterArn } from '../services/ssm-parameters';

/**
 * The request context AWS builds for each call the local services serve: the IAM action, the
 * resources in the ARN formats of the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
 * and the condition keys, including the authorizations AWS makes on the call's behalf. An
 * operation with no entry here is refused: a new call is strict until its context is written.
 */

/** What the gate needs to know about resources that already exist (their tags, their launch template). */
export interface ResourceState {
  instanceTags(instanceId: string): Record<string, string> | null;
  /** The role an instance profile in a launch template passes to instances launched from it. */
  instanceRoleArn(launchTemplateId: string): string | null;
  /** Security groups of a launch template (empty: the VPC's default group). */
  securityGroups(launchTemplateId: string): string[];
  /** The partition key's attribute name of a DynamoDB table (name or ARN) or of one of its indexes; null for a table the stack does not declare. */
  partitionKey?(table: string, index?: string): string | null;
  /** The ARN of the secret a SecretId names (local/services/secrets-manager.ts). */
  secretArn?(secretId: string): string;
}

const arn = (service: string, resource: string, account = LOCAL_ACCOUNT) => `arn:${LOCAL_PARTITION}:${service}:${LOCAL_REGION}:${account}:${resource}`;
/** The default VPC's subnet and security group, when a launch names neither. */
export const DEFAULT_SUBNET = 'subnet-0default0000000';
export const DEFAULT_SECURITY_GROUP = 'sg-0default00000000';

function tagContext(tags: Record<string, string>, prefixes: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) for (const p of prefixes) out[`${p}/${k}`] = v;
  return out;
}

function instanceChecks(action: string, ids: string[], state: ResourceState, extraPrefixes: string[] = []): AuthorizationCheck[] {
  return ids.map((id) => {
    const tags = state.instanceTags(id) ?? {};
    return { action, resource: arn('ec2', `instance/${id}`), context: tagContext(tags, ['aws:ResourceTag', 'ec2:ResourceTag', ...extraPrefixes]) };
  });
}

function queryList(p: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`) ?? '');
  return out;
}

/** Tags requested at launch, per resource type (TagSpecification.N). */
function requestedTags(p: URLSearchParams): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 1; p.has(`TagSpecification.${i}.ResourceType`); i++) {
    const tags: Record<string, string> = {};
    for (let j = 1; p.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) tags[p.get(`TagSpecification.${i}.Tag.${j}.Key`)!] = p.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
    out.set(p.get(`TagSpecification.${i}.ResourceType`)!, tags);
  }
  return out;
}

/**
 * RunInstances is authorized on every resource it uses or creates: the instance, its volumes and
 * network interface (not created yet, so `*`), the image, subnet, security groups and launch
 * template, with ec2:LaunchTemplate on each when a template is used; tags applied at launch need
 * ec2:CreateTags (with ec2:CreateAction RunInstances) on the tagged resources; an instance profile
 * needs iam:PassRole on its role.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-runinstances
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
 */
function runInstances(p: URLSearchParams, state: ResourceState): AuthorizationCheck[] {
  const templateId = p.get('LaunchTemplate.LaunchTemplateId');
  const launchTemplate: Record<string, string> = templateId ? { 'ec2:LaunchTemplate': arn('ec2', `launch-template/${templateId}`) } : {};
  const tags = requestedTags(p);
  const creating = (type: string): Record<string, string | string[]> => {
    const t = tags.get(type) ?? {};
    return { ...tagContext(t, ['aws:RequestTag']), ...(Object.keys(t).length ? { 'aws:TagKeys': Object.keys(t) } : {}) };
  };
  const groups = queryList(p, 'SecurityGroupId');
  const securityGroups = groups.length ? groups : templateId && state.securityGroups(templateId).length ? state.securityGroups(templateId) : [DEFAULT_SECURITY_GROUP];
  const checks: AuthorizationCheck[] = [
    { action: 'ec2:RunInstances', resource: arn('ec2', 'instance/*'), context: { ...launchTemplate, ...creating('instance') } },
    { action: 'ec2:RunInstances', resource: arn('ec2', 'volume/*'), context: { ...launchTemplate, ...creating('volume') } },
    { action: 'ec2:RunInstances', resource: arn('ec2', 'network-interface/*'), context: { ...launchTemplate, ...creating('network-interface') } },
    { action: 'ec2:RunInstances', resource: arn('ec2', `image/${p.get('ImageId') ?? ''}`, ''), context: launchTemplate },
    { action: 'ec2:RunInstances', resource: arn('ec2', `subnet/${p.get('SubnetId') ?? DEFAULT_SUBNET}`), context: launchTemplate },
    ...securityGroups.map((sg) => ({ action: 'ec2:RunInstances', resource: arn('ec2', `security-group/${sg}`), context: launchTemplate })),
  ];
  if (templateId) checks.push({ action: 'ec2:RunInstances', resource: arn('ec2', `launch-template/${templateId}`), context: launchTemplate });
  for (const [type, t] of tags) {
    if (!Object.keys(t).length) continue;
    checks.push({ action: 'ec2:CreateTags', resource: arn('ec2', `${type}/*`), context: { 'ec2:CreateAction': 'RunInstances', ...creating(type) } });
  }
  const role = templateId ? state.instanceRoleArn(templateId) : null;
  if (role) checks.push({ action: 'iam:PassRole', resource: role, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  if (p.get('InstanceMarketOptions.MarketType') === 'spot') {
    // The Spot request the launch creates (resource spot-instances-request, conditions aws:RequestTag and aws:TagKeys only:
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-RunInstances),
    // and the account's Spot service-linked role, which EC2 creates as the caller on first use
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html). This
    // simulated account never has that role yet, so every Spot launch needs the right to create it: at least as strict
    // as an account's first Spot launch.
    checks.push({ action: 'ec2:RunInstances', resource: arn('ec2', 'spot-instances-request/*'), context: {} });
    checks.push({ action: 'iam:CreateServiceLinkedRole', resource: `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`, context: { 'iam:AWSServiceName': 'spot.amazonaws.com' } });
  }
  return checks;
}

const ANY = '*';
type Checks<I> = (input: I, state: ResourceState) => AuthorizationCheck[];

/** EC2 (Query protocol). */
export const EC2_REQUESTS: Record<string, Checks<URLSearchParams>> = {
  RunInstances: runInstances,
  DescribeImages: () => [{ action: 'ec2:DescribeImages', resource: ANY }],
  // No resource types or condition keys of its own (list_amazonec2.html, DescribeInstanceTypes): Resource "*".
  DescribeInstanceTypes: () => [{ action: 'ec2:DescribeInstanceTypes', resource: ANY }],
  DescribeInstances: () => [{ action: 'ec2:DescribeInstances', resource: ANY }],
  TerminateInstances: (p, s) => instanceChecks('ec2:TerminateInstances', queryList(p, 'InstanceId'), s),
  StopInstances: (p, s) => instanceChecks('ec2:StopInstances', queryList(p, 'InstanceId'), s),
  StartInstances: (p, s) => instanceChecks('ec2:StartInstances', queryList(p, 'InstanceId'), s),
  // On each instance, with its tags (aws:ResourceTag) and the requested ones (aws:RequestTag/<key>, aws:TagKeys):
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html (CreateTags).
  CreateTags: (p, s) => {
    const requested: Record<string, string> = {};
    for (let n = 1; p.has(`Tag.${n}.Key`); n++) requested[p.get(`Tag.${n}.Key`)!] = p.get(`Tag.${n}.Value`) ?? '';
    return instanceChecks('ec2:CreateTags', queryList(p, 'ResourceId'), s).map((check) => ({
      ...check,
      context: { ...check.context, ...tagContext(requested, ['aws:RequestTag']), 'aws:TagKeys': Object.keys(requested) },
    }));
  },
};

type Body = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Systems Manager. SendCommand is authorized on the document and on each target instance. */
export const SSM_REQUESTS: Record<string, Checks<Body>> = {
  SendCommand: (b, s) => [
    { action: 'ssm:SendCommand', resource: arn('ssm', `document/${str(b.DocumentName)}`) },
    ...instanceChecks('ssm:SendCommand', ((b.InstanceIds ?? []) as string[]).map(String), s, ['ssm:resourceTag']),
  ],
  DescribeInstanceInformation: () => [{ action: 'ssm:DescribeInstanceInformation', resource: ANY }],
  ListCommands: () => [{ action: 'ssm:ListCommands', resource: ANY }],
  ListCommandInvocations: () => [{ action: 'ssm:ListCommandInvocations', resource: ANY }],
  GetCommandInvocation: () => [{ action: 'ssm:GetCommandInvocation', resource: ANY }],
  CancelCommand: () => [{ action: 'ssm:CancelCommand', resource: ANY }],
  // On each parameter named (GetParameters: every one, or the call is refused), by its ARN without a selector.
  GetParameter: (b) => [{ action: 'ssm:GetParameter', resource: parameterArn(str(b.Name)) }],
  GetParameters: (b) => (Array.isArray(b.Names) ? b.Names : []).map((n) => ({ action: 'ssm:GetParameters', resource: parameterArn(String(n)) })),
};

/** Step Functions. */
export const SFN_REQUESTS: Record<string, Checks<Body>> = {
  StartExecution: (b) => [{ action: 'states:StartExecution', resource: str(b.stateMachineArn) }],
  ListExecutions: (b) => [{ action: 'states:ListExecutions', resource: str(b.stateMachineArn) }],
  DescribeExecution: (b) => [{ action: 'states:DescribeExecution', resource: str(b.executionArn) }],
  StopExecution: (b) => [{ action: 'states:StopExecution', resource: str(b.executionArn) }],
  GetExecutionHistory: (b) => [{ action: 'states:GetExecutionHistory', resource: str(b.executionArn) }],
  // Task tokens name no resource: these support no resource-level permissions.
  SendTaskSuccess: () => [{ action: 'states:SendTaskSuccess', resource: ANY }],
  SendTaskFailure: () => [{ action: 'states:SendTaskFailure', resource: ANY }],
  SendTaskHeartbeat: () => [{ action: 'states:SendTaskHeartbeat', resource: ANY }],
};

/** CodePipeline. PollForJobs is authorized on the action type; the other job-worker calls on `*`. */
export const CODEPIPELINE_REQUESTS: Record<string, Checks<Body>> = {
  PollForJobs: (b) => {
    const t = (b.actionTypeId ?? {}) as Record<string, string>;
    return [{ action: 'codepipeline:PollForJobs', resource: arn('codepipeline', `actiontype:${t.owner}/${t.category}/${t.provider}/${t.version}`) }];
  },
  AcknowledgeJob: () => [{ action: 'codepipeline:AcknowledgeJob', resource: ANY }],
  GetJobDetails: () => [{ action: 'codepipeline:GetJobDetails', resource: ANY }],
  PutJobSuccessResult: () => [{ action: 'codepipeline:PutJobSuccessResult', resource: ANY }],
  PutJobFailureResult: () => [{ action: 'codepipeline:PutJobFailureResult', resource: ANY }],
  // The pipeline API: each on the pipeline, arn:aws:codepipeline:REGION:ACCOUNT:PIPELINE-NAME
  // (https://docs.aws.amazon.com/codepipeline/latest/userguide/permissions-reference.html). CreatePipeline passes
  // the pipeline's service role to CodePipeline, which needs iam:PassRole on it
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
  CreatePipeline: (b) => {
    const p = (b.pipeline ?? {}) as Record<string, unknown>;
    return [
      { action: 'codepipeline:CreatePipeline', resource: arn('codepipeline', str(p.name)) },
      { action: 'iam:PassRole', resource: str(p.roleArn), context: { 'iam:PassedToService': 'codepipeline.amazonaws.com' } },
    ];
  },
  GetPipeline: (b) => [{ action: 'codepipeline:GetPipeline', resource: arn('codepipeline', str(b.name)) }],
  DeletePipeline: (b) => [{ action: 'codepipeline:DeletePipeline', resource: arn('codepipeline', str(b.name)) }],
  StartPipelineExecution: (b) => [{ action: 'codepipeline:StartPipelineExecution', resource: arn('codepipeline', str(b.name)) }],
  GetPipelineExecution: (b) => [{ action: 'codepipeline:GetPipelineExecution', resource: arn('codepipeline', str(b.pipelineName)) }],
  GetPipelineState: (b) => [{ action: 'codepipeline:GetPipelineState', resource: arn('codepipeline', str(b.name)) }],
  ListActionExecutions: (b) => [{ action: 'codepipeline:ListActionExecutions', resource: arn('codepipeline', str(b.pipelineName)) }],
  StopPipelineExecution: (b) => [{ action: 'codepipeline:StopPipelineExecution', resource: arn('codepipeline', str(b.pipelineName)) }],
};

/** IAM (awsQuery): each role call on the role, arn:aws:iam::ACCOUNT:role/PATH/NAME (IAM ARNs name no Region). */
const roleArn = (p: URLSearchParams) => `arn:${LOCAL_PARTITION}:iam::${LOCAL_ACCOUNT}:role${p.get('Path') ?? '/'}${p.get('RoleName') ?? ''}`;
export const IAM_REQUESTS: Record<string, Checks<URLSearchParams>> = {
  CreateRole: (p) => [{ action: 'iam:CreateRole', resource: roleArn(p) }],
  GetRole: (p) => [{ action: 'iam:GetRole', resource: roleArn(p) }],
  PutRolePolicy: (p) => [{ action: 'iam:PutRolePolicy', resource: roleArn(p) }],
  DeleteRolePolicy: (p) => [{ action: 'iam:DeleteRolePolicy', resource: roleArn(p) }],
  DeleteRole: (p) => [{ action: 'iam:DeleteRole', resource: roleArn(p) }],
};

/** CloudFormation (awsQuery): DescribeStacks on the stack, arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID; all stacks without a name. */
export const CLOUDFORMATION_REQUESTS: Record<string, Checks<URLSearchParams>> = {
  DescribeStacks: (p) => {
    const name = p.get('StackName');
    return [{ action: 'cloudformation:DescribeStacks', resource: name ? (name.startsWith('arn:') ? name : arn('cloudformation', `stack/${name}/*`)) : ANY }];
  },
};

/**
 * DynamoDB (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html):
 * each item and table call on the table, arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}
 * (TableName may itself be the table's ARN: "You can also provide the Amazon Resource Name (ARN) of
 * the table in this parameter", https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-TableName);
 * Query and Scan with IndexName on the index, table/${TableName}/index/${IndexName}
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html);
 * batch calls on each table they name; ListTables names no resource. Condition keys given: the
 * request's dynamodb:ReturnValues, dynamodb:ReturnConsumedCapacity and dynamodb:Select, tags on
 * CreateTable and TagResource, and dynamodb:LeadingKeys, the partition key values the request
 * touches (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html):
 * the Key or Item of an item call, every key of a batch call, the partition key's equality in a
 * Query's KeyConditionExpression (or legacy KeyConditions). For a Query on an index the index's
 * partition key is read: the page does not say which key an index query reports, so a policy that
 * relies on it is refused here for any value but the one queried. Not given: dynamodb:Attributes
 * (docs/local-cloud.md).
 */
const tableArn = (name: unknown) => (str(name).startsWith('arn:') ? str(name) : arn('dynamodb', `table/${str(name)}`));
type Item = Record<string, Record<string, unknown> | undefined>;
/** A key attribute's value as IAM compares it: the string of an S, N or B value. */
const scalar = (value: Record<string, unknown> | undefined) => [value?.S, value?.N, value?.B].find((v) => v !== undefined);
function leadingKeys(values: unknown[]): Record<string, string[]> {
  const keys = values.filter((v) => v !== undefined).map(String);
  return keys.length ? { 'dynamodb:LeadingKeys': [...new Set(keys)] } : {};
}
/** The partition key's value in a Query: `name = :value` in the KeyConditionExpression (names through #aliases), or KeyConditions. */
function queriedPartition(b: Body, key: string): unknown {
  const legacy = (b.KeyConditions as Record<string, { AttributeValueList?: Record<string, unknown>[] }> | undefined)?.[key];
  if (legacy) return scalar(legacy.AttributeValueList?.[0]);
  const names = (b.ExpressionAttributeNames ?? {}) as Record<string, string>;
  for (const m of str(b.KeyConditionExpression).matchAll(/([#\w.-]+)\s*=\s*(:[\w-]+)/g)) {
    if ((names[m[1]] ?? m[1]) === key) return scalar((b.ExpressionAttributeValues as Item | undefined)?.[m[2]]);
  }
  return undefined;
}
function itemContext(b: Body, s: ResourceState): Record<string, string | string[]> {
  const keys = { 'dynamodb:ReturnValues': b.ReturnValues, 'dynamodb:ReturnConsumedCapacity': b.ReturnConsumedCapacity, 'dynamodb:Select': b.Select };
  const context: Record<string, string | string[]> = Object.fromEntries(Object.entries(keys).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const key = s.partitionKey?.(str(b.TableName), b.IndexName === undefined ? undefined : str(b.IndexName));
  if (!key) return context;
  const item = (b.Key ?? b.Item) as Item | undefined;
  return { ...context, ...leadingKeys([item ? scalar(item[key]) : queriedPartition(b, key)]) };
}
const onTable = (action: string) => (b: Body, s: ResourceState) => [{ action, resource: tableArn(b.TableName), context: itemContext(b, s) }];
const onTableOrIndex = (action: string) => (b: Body, s: ResourceState) => [
  { action, resource: b.IndexName === undefined ? tableArn(b.TableName) : `${tableArn(b.TableName)}/index/${str(b.IndexName)}`, context: itemContext(b, s) },
];
/** Batch calls: one check per table, with the partition keys of that table's requests. */
const onEachTable = (action: string) => (b: Body, s: ResourceState) =>
  Object.entries((b.RequestItems ?? {}) as Record<string, unknown>).map(([table, requests]) => {
    const key = s.partitionKey?.(table);
    const items = (Array.isArray(requests) ? requests : ((requests as { Keys?: Item[] }).Keys ?? [])) as (Item & { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } })[];
    const values = key ? items.map((i) => scalar((i.PutRequest?.Item ?? i.DeleteRequest?.Key ?? i)[key])) : [];
    return { action, resource: tableArn(table), context: { ...itemContext({ ReturnConsumedCapacity: b.ReturnConsumedCapacity }, s), ...leadingKeys(values) } };
  });
function dynamoTagContext(tags: unknown): Record<string, string | string[]> {
  const list = (Array.isArray(tags) ? tags : []) as { Key: string; Value: string }[];
  return list.length ? { ...Object.fromEntries(list.map((t) => [`aws:RequestTag/${t.Key}`, t.Value])), 'aws:TagKeys': list.map((t) => t.Key) } : {};
}
export const DYNAMODB_REQUESTS: Record<string, Checks<Body>> = {
  GetItem: onTable('dynamodb:GetItem'),
  PutItem: onTable('dynamodb:PutItem'),
  UpdateItem: onTable('dynamodb:UpdateItem'),
  DeleteItem: onTable('dynamodb:DeleteItem'),
  Query: onTableOrIndex('dynamodb:Query'),
  Scan: onTableOrIndex('dynamodb:Scan'),
  BatchGetItem: onEachTable('dynamodb:BatchGetItem'),
  BatchWriteItem: onEachTable('dynamodb:BatchWriteItem'),
  CreateTable: (b) => [{ action: 'dynamodb:CreateTable', resource: tableArn(b.TableName), context: dynamoTagContext(b.Tags) }],
  DescribeTable: (b) => [{ action: 'dynamodb:DescribeTable', resource: tableArn(b.TableName) }],
  UpdateTable: (b) => [{ action: 'dynamodb:UpdateTable', resource: tableArn(b.TableName) }],
  DeleteTable: (b) => [{ action: 'dynamodb:DeleteTable', resource: tableArn(b.TableName) }],
  DescribeTimeToLive: (b) => [{ action: 'dynamodb:DescribeTimeToLive', resource: tableArn(b.TableName) }],
  ListTables: () => [{ action: 'dynamodb:ListTables', resource: ANY }],
  TagResource: (b) => [{ action: 'dynamodb:TagResource', resource: str(b.ResourceArn), context: dynamoTagContext(b.Tags) }],
  UntagResource: (b) => [{ action: 'dynamodb:UntagResource', resource: str(b.ResourceArn), context: { 'aws:TagKeys': ((b.TagKeys ?? []) as string[]).map(String) } }],
  ListTagsOfResource: (b) => [{ action: 'dynamodb:ListTagsOfResource', resource: str(b.ResourceArn) }],
};

/**
 * Secrets Manager: GetSecretValue on the secret's ARN (its name's, with the suffix Secrets Manager appends), as the
 * Service Authorization Reference's Secret resource type gives it
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html).
 */
export const SECRETSMANAGER_REQUESTS: Record<string, Checks<Body>> = {
  GetSecretValue: (b, s) => [{ action: 'secretsmanager:GetSecretValue', resource: s.secretArn ? s.secretArn(str(b.SecretId)) : arn('secretsmanager', `secret:${str(b.SecretId)}`) }],
};

/**
 * S3 object calls made with a role's credentials (a header signature, or a URL the role presigned: S3 authorizes a
 * presigned request as its signer): the object's ARN arn:${Partition}:s3:::${BucketName}/${ObjectName}
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html). HEAD is authorized as
 * s3:GetObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
 */
const objectArn = (b: Body) => `arn:${LOCAL_PARTITION}:s3:::${str(b.Bucket)}/${str(b.Key)}`;
export const S3_REQUESTS: Record<string, Checks<Body>> = {
  GetObject: (b) => [{ action: 's3:GetObject', resource: objectArn(b) }],
  HeadObject: (b) => [{ action: 's3:GetObject', resource: objectArn(b) }],
  PutObject: (b) => [{ action: 's3:PutObject', resource: objectArn(b) }],
  DeleteObject: (b) => [{ action: 's3:DeleteObject', resource: objectArn(b) }],
};

/** Lambda: the caller of Invoke needs lambda:InvokeFunction on the function. */
export function invokeChecks(functionArn: string): AuthorizationCheck[] {
  return [{ action: 'lambda:InvokeFunction', resource: functionArn }];
}

/** Lambda's API as the functions call it (local/services/lambda-api.ts resolves FunctionName to the function's ARN first). */
export const LAMBDA_REQUESTS: Record<string, Checks<Body>> = {
  Invoke: (b) => invokeChecks(String(b.FunctionName)),
};

/** The checks for one request, or the refusal of an operation whose context nobody wrote. */
export function checksFor<I>(table: Record<string, Checks<I>>, service: string, operation: string, input: I, state: ResourceState): AuthorizationCheck[] {
  const checks = table[operation];
  if (!checks) throw new AwsError('AccessDeniedException', `${service} (local) has no authorization context for ${operation}: write it in local/iam/requests.ts`);
  return checks(input, state);
}
