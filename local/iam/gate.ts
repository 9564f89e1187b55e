import { GATE, type GatedCall } from '../services/http';
import type { AgentIdentity } from '../services/agent';
import type { LocalStack } from '../template/stack';
import { AwsError } from '../services/aws-error';
import { Authorizer, EC2_DENIALS, JSON_DENIALS, type DenialStyle } from './authorize';
import { LOCAL_ACCOUNT } from './identity';
import { instanceRoleOfLaunchTemplate, rolePolicies, type RolePolicies } from './policies';
import { checksFor, CLOUDFORMATION_REQUESTS, CODEPIPELINE_REQUESTS, DYNAMODB_REQUESTS, EC2_REQUESTS, IAM_REQUESTS, LAMBDA_REQUESTS, S3_REQUESTS, SECRETSMANAGER_REQUESTS, SFN_REQUESTS, SSM_REQUESTS, type ResourceState } from './requests';

interface ServiceEntry {
  readonly table: Record<string, (input: never, state: ResourceState) => ReturnType<typeof checksFor>>;
  readonly style: DenialStyle;
}

/**
 * The awsQuery services (IAM, CloudFormation): unknown credentials are InvalidClientTokenId, a
 * denial AccessDenied, both HTTP 403 (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html).
 */
const QUERY_DENIALS: DenialStyle = {
  unknownKey: () => new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
  denied: (message) => new AwsError('AccessDenied', message, 403),
};

/**
 * Lambda: a request signed with unknown credentials is UnrecognizedClientException and a denial AccessDeniedException,
 * both HTTP 403 (https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
 */
const LAMBDA_DENIALS: DenialStyle = {
  unknownKey: () => new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403),
  denied: (message) => new AwsError('AccessDeniedException', message, 403),
};

const S3_DENIALS: DenialStyle = {
  unknownKey: () => new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403),
  denied: () => new AwsError('AccessDenied', 'Access Denied', 403),
};

/** The local services by the name they serve under, with their request contexts and error shapes. */
const SERVICES: Record<string, ServiceEntry> = {
  CodePipeline: { table: CODEPIPELINE_REQUESTS, style: JSON_DENIALS },
  SSM: { table: SSM_REQUESTS, style: JSON_DENIALS },
  StepFunctions: { table: SFN_REQUESTS, style: JSON_DENIALS },
  EC2: { table: EC2_REQUESTS, style: EC2_DENIALS },
  IAM: { table: IAM_REQUESTS, style: QUERY_DENIALS },
  CloudFormation: { table: CLOUDFORMATION_REQUESTS, style: QUERY_DENIALS },
  // DynamoDB's AccessDeniedException and UnrecognizedClientException are HTTP 400 (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
  DynamoDB: { table: DYNAMODB_REQUESTS, style: JSON_DENIALS },
  Lambda: { table: LAMBDA_REQUESTS, style: LAMBDA_DENIALS },
  SecretsManager: { table: SECRETSMANAGER_REQUESTS, style: JSON_DENIALS },
  // S3's unknown key is InvalidAccessKeyId and a denial AccessDenied, both 403 (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
  S3: { table: S3_REQUESTS, style: S3_DENIALS },
};

/**
 * The person at the keyboard: what `npm run verify` and other user tools sign as locally. An
 * administrator, as a user deploying and verifying the stack would be; the stack's own roles are
 * what the gate is for.
 */
export const LOCAL_USER = 'LocalUser';
const LOCAL_USER_POLICIES: RolePolicies = {
  role: LOCAL_USER,
  roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${LOCAL_USER}`,
  trustedServices: [],
  policies: [{ name: 'AdministratorAccess', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
};

/** Resource state the gate reads from the stack itself (launch templates); instances come from the cloud. */
export function stackResourceState(stack: LocalStack, instanceTags: (id: string) => Record<string, string> | null): ResourceState {
  const roleArn = (launchTemplateId: string) => {
    const role = instanceRoleOfLaunchTemplate(stack, launchTemplateId);
    return role ? stack.getAtt(role, 'Arn') : null;
  };
  const securityGroups = (launchTemplateId: string) => {
    for (const [id, props] of stack.resources('AWS::EC2::LaunchTemplate')) {
      if (stack.ref(id) !== launchTemplateId) continue;
      return ((props.LaunchTemplateData as { SecurityGroupIds?: string[] }).SecurityGroupIds ?? []).map(String);
    }
    return [];
  };
  // A table's (or index's) partition key, from the template's AWS::DynamoDB::Table: what dynamodb:LeadingKeys reads.
  const partitionKey = (table: string, index?: string) => {
    for (const [id, props] of stack.resources('AWS::DynamoDB::Table')) {
      if (table !== stack.ref(id) && table !== stack.getAtt(id, 'Arn')) continue;
      type Keys = { KeySchema?: { AttributeName: string; KeyType: string }[] };
      const indexes = [...((props.GlobalSecondaryIndexes ?? []) as (Keys & { IndexName: string })[]), ...((props.LocalSecondaryIndexes ?? []) as (Keys & { IndexName: string })[])];
      const keys = index === undefined ? (props as Keys) : indexes.find((i) => i.IndexName === index);
      return keys?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? null;
    }
    return null;
  };
  return { instanceTags, instanceRoleArn: roleArn, securityGroups, partitionKey };
}

/**
 * Installs IAM on every local service: each request is authorized as the role its access key names,
 * against that role's policies in the synthesized template. Returns the authorizer (its denials
 * explain a run that went nowhere; direct calls by roles, such as an instance's agent, use it too).
 */
export function installIamGate(stack: LocalStack, state: ResourceState): Authorizer {
  const roles = rolePolicies(stack);
  roles.set(LOCAL_USER, LOCAL_USER_POLICIES);
  const authorizer = new Authorizer(roles);
  GATE.authorize = async (call: GatedCall) => {
    const service = SERVICES[call.service];
    if (!service) throw new Error(`IAM gate: no request contexts for the local service ${call.service}`);
    const checks = checksFor(service.table as Record<string, (i: unknown, s: ResourceState) => ReturnType<typeof checksFor>>, call.service, call.operation, call.input, state);
    await authorizer.authorize(call.accessKeyId, checks, service.style);
  };
  return authorizer;
}

/** Removes the gate (a cloud that stops). */
export function removeIamGate(): void {
  delete GATE.authorize;
}

/** The SSM agent's identity on an instance: the role of the instance profile in its launch template. */
export function agentIdentity(stack: LocalStack, authorizer: Authorizer, launchTemplateOf: (instanceId: string) => string | null): AgentIdentity {
  return {
    async allowed(instanceId, check) {
      const template = launchTemplateOf(instanceId);
      const role = template ? instanceRoleOfLaunchTemplate(stack, template) : null;
      return role ? authorizer.isAllowed(role, check) : false;
    },
  };
}
