import { LOCAL_ACCOUNT, LOCAL_REGION } from '../iam/identity';
import type { AuthorizationCheck } from '../iam/authorize';
import type { LocalLogs } from './logs';

/**
 * What the SSM agent on a build instance does with the instance's role, which the local cloud
 * checks as AWS would: registering (ssm:UpdateInstanceInformation, without which the instance
 * never comes online), taking commands through ec2messages, and streaming command output to
 * CloudWatch Logs. Each call is authorized as the role the instance profile gives the instance.
 */
export interface AgentIdentity {
  /** Whether the instance's role may make this call; undefined role: no profile, nothing allowed. */
  allowed(instanceId: string, check: AuthorizationCheck): Promise<boolean>;
}

const instanceArn = (id: string) => `arn:aws:ec2:${LOCAL_REGION}:${LOCAL_ACCOUNT}:instance/${id}`;
const logGroupArn = (group: string) => `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${group}`;

/**
 * Registration: the agent calls UpdateInstanceInformation for its own instance, with
 * ec2:SourceInstanceARN set (https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html).
 */
export function mayRegister(identity: AgentIdentity, instanceId: string): Promise<boolean> {
  const context = { 'ec2:SourceInstanceARN': instanceArn(instanceId), 'ssm:SourceInstanceARN': instanceArn(instanceId) };
  return identity.allowed(instanceId, { action: 'ssm:UpdateInstanceInformation', resource: instanceArn(instanceId), context });
}

/** Run Command reaches the agent through ec2messages: without these, no command is ever delivered. */
export async function mayReceiveCommands(identity: AgentIdentity, instanceId: string): Promise<boolean> {
  const context = { 'ec2:SourceInstanceARN': instanceArn(instanceId), 'ssm:SourceInstanceARN': instanceArn(instanceId) };
  for (const action of ['ec2messages:GetMessages', 'ec2messages:AcknowledgeMessage', 'ec2messages:SendReply']) {
    if (!(await identity.allowed(instanceId, { action, resource: '*', context }))) return false;
  }
  return true;
}

/** Where a command's output goes in CloudWatch Logs, or null when the agent cannot stream it. */
export interface OutputStreams {
  readonly group: string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Streaming output (CloudWatchOutputConfig): the agent first calls CreateLogGroup for the group,
 * then DescribeLogGroups to see it exists, and streams nothing when both are refused; then it
 * creates one stream per output, named CommandId/InstanceId/StepName/stdout|stderr, and puts the
 * output's events there (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-rc-setting-up-cwlogs.html).
 */
export async function openOutputStreams(identity: AgentIdentity, logs: LocalLogs, instanceId: string, group: string, commandId: string, step: string): Promise<OutputStreams | null> {
  // Whether the agent describes the group after creating it, or only when the creation fails, is not
  // documented: it does both here, and streams when either call was allowed and the group exists.
  const created = await identity.allowed(instanceId, { action: 'logs:CreateLogGroup', resource: logGroupArn(group) });
  if (created) logs.createLogGroup(group);
  const described = await identity.allowed(instanceId, { action: 'logs:DescribeLogGroups', resource: '*' });
  if ((!created && !described) || !logs.hasLogGroup(group)) return null;
  const streams = { group, stdout: `${commandId}/${instanceId}/${step}/stdout`, stderr: `${commandId}/${instanceId}/${step}/stderr` };
  for (const stream of [streams.stdout, streams.stderr]) {
    const streamArn = `${logGroupArn(group)}:log-stream:${stream}`;
    if (!(await identity.allowed(instanceId, { action: 'logs:CreateLogStream', resource: streamArn }))) return null;
    if (!(await identity.allowed(instanceId, { action: 'logs:PutLogEvents', resource: streamArn }))) return null;
    logs.createLogStream(group, stream);
  }
  return streams;
}
