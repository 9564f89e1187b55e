/**
 * Where a build's whole output is, one click away. "Run Build" and "Upload Output Artifact" send their command with
 * CloudWatchOutputConfig to the stack's build log group, and the SSM agent writes each step's output to streams named
 * CommandId/InstanceId/<step>/stdout and .../stderr
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-rc-setting-up-cwlogs.html; the API's
 * CloudWatchOutputConfig: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CloudWatchOutputConfig.html).
 * The link opens the log group filtered by the command's stream prefix, CommandId/InstanceId/: both streams of
 * whichever step ran (runBuildLinux or runBuildWindows), and whatever the agent names the step part.
 */

/** The prefix of a command's streams on one instance. */
export function logStreamPrefix(commandId: string, instanceId: string): string {
  return `${commandId}/${instanceId}/`;
}

/**
 * The CloudWatch console's page of a log group, its streams filtered by a prefix. The console's URL scheme is not
 * documented: it escapes each part with encodeURIComponent and then '%' as '$25', and '?' and '=' of its own query as
 * '$3F' and '$3D' (as the console itself writes these links). The stream prefix is also in the message, in words.
 */
export function logConsoleUrl(region: string, group: string, prefix: string): string {
  const part = (s: string) => encodeURIComponent(s).replace(/%/g, '$25');
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${part(group)}$3FlogStreamNameFilter$3D${part(prefix)}`;
}
