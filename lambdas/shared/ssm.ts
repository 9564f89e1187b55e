import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, GetParameterCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { isRunningStatus } from './types';

/** All Systems Manager calls the Lambdas make. The state machine sends commands itself. */
const client = new SSMClient({});
/**
 * The readiness watcher's, without retries of its own: the watcher asks again every tick and backs off in ticks when
 * throttled (lambdas/readiness-watcher/watch.ts), while the SDK's retries wait in real time with every other build's
 * round held up behind them (the standard mode's exponential backoff, 3 attempts:
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); under the local cloud's scaled clock,
 * those real seconds are minutes of simulated time.
 */
const watcherClient = new SSMClient({ maxAttempts: 1 });

/** The SSM agent's ping status for an instance; null when it has not registered. */
export async function agentPingStatus(instanceId: string): Promise<string | null> {
  const out = await client.send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
  );
  return out.InstanceInformationList?.[0]?.PingStatus ?? null;
}

/**
 * The agents among `instanceIds` that Systems Manager reports Online, asked 50 at a time: one call per 50 instances,
 * whatever their number (an InstanceIds filter takes up to 100 values and a page holds at most 50 nodes, MaxResults 5
 * to 50: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_InstanceInformationStringFilter.html,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html; 50 ids fit one
 * page, and a NextToken is followed anyway). An instance that has not registered yet is simply not in the answer.
 * A throttled call is not retried here: the watcher's next round is the retry. Every request, a page's too, goes
 * through `paced`: the watcher keeps its requests a tick apart, sends one only under a lease it holds, and gives one up
 * when its signal aborts (watch.ts askAgents).
 */
export async function onlineAgents(instanceIds: readonly string[], paced: Paced): Promise<Set<string>> {
  const online = new Set<string>();
  for (let i = 0; i < instanceIds.length; i += AGENTS_PER_CALL) {
    const Values = instanceIds.slice(i, i + AGENTS_PER_CALL);
    let NextToken: string | undefined;
    do {
      const out = await paced((abortSignal) => watcherClient.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values }], MaxResults: AGENTS_PER_CALL, NextToken }), { abortSignal }));
      for (const node of out.InstanceInformationList ?? []) if (node.PingStatus === 'Online' && node.InstanceId) online.add(node.InstanceId);
      NextToken = out.NextToken;
    } while (NextToken);
  }
  return online;
}

/**
 * Sends one request when its caller's pace allows, and notes when it was answered; the request is given up (its
 * promise rejects) when the signal aborts.
 */
export type Paced = <T>(send: (abortSignal: AbortSignal) => Promise<T>) => Promise<T>;

/** Instances asked about in one DescribeInstanceInformation call (onlineAgents). */
export const AGENTS_PER_CALL = 50;

export interface CommandRecord {
  readonly documentName: string;
  readonly parameters: Record<string, string[]>;
  /** The command's own status and its reason (e.g. TimedOut / DeliveryTimedOut), for all its targets. */
  readonly status: string;
  readonly statusDetails: string;
}

export async function getCommand(commandId: string): Promise<CommandRecord | null> {
  const out = await client.send(new ListCommandsCommand({ CommandId: commandId }));
  const command = out.Commands?.[0];
  if (!command) return null;
  return { documentName: command.DocumentName ?? '', parameters: command.Parameters ?? {}, status: command.Status ?? '', statusDetails: command.StatusDetails ?? '' };
}

export interface Invocation {
  readonly status: string;
  readonly statusDetails: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** ExecutionStartDateTime and ExecutionEndDateTime as SSM gives them ('' until the step runs). */
  readonly startedAt: string;
  readonly endedAt: string;
}

/**
 * The result of one step (plugin) of a command on one instance. PluginName is required because the
 * build document has more than one step:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
 */
export async function getInvocation(commandId: string, instanceId: string, pluginName: string): Promise<Invocation> {
  const out = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: pluginName }));
  return {
    status: out.Status ?? 'Unknown',
    statusDetails: out.StatusDetails ?? '',
    exitCode: out.ResponseCode ?? -1,
    stdout: out.StandardOutputContent ?? '',
    stderr: out.StandardErrorContent ?? '',
    startedAt: out.ExecutionStartDateTime ?? '',
    endedAt: out.ExecutionEndDateTime ?? '',
  };
}

/** Commands of a document on one instance that have finished (any final status), newest first. */
export async function finishedCommands(instanceId: string, documentName: string): Promise<{ commandId: string; status: string }[]> {
  const found: { commandId: string; status: string }[] = [];
  let NextToken: string | undefined;
  do {
    const out = await client.send(new ListCommandsCommand({ InstanceId: instanceId, Filters: [{ key: 'DocumentName', value: documentName }], NextToken }));
    for (const c of out?.Commands ?? []) {
      if (c.CommandId && c.Status && !isRunningStatus(c.Status)) found.push({ commandId: c.CommandId, status: c.Status });
    }
    NextToken = out?.NextToken;
  } while (NextToken);
  return found;
}

/** The build command an execution sent to its instance (Phase build, its ExecutionName), newest first; null if none. */
export async function buildCommandOf(instanceId: string, executionName: string): Promise<{ commandId: string; status: string } | null> {
  let NextToken: string | undefined;
  do {
    const out = await client.send(new ListCommandsCommand({ InstanceId: instanceId, NextToken }));
    for (const c of out?.Commands ?? []) {
      const p = c.Parameters ?? {};
      if (c.CommandId && p.Phase?.[0] === 'build' && p.ExecutionName?.[0] === executionName) return { commandId: c.CommandId, status: c.Status ?? 'Pending' };
    }
    NextToken = out?.NextToken;
  } while (NextToken);
  return null;
}

/**
 * A parameter's value for a build's environment (a String, StringList or SecureString, decrypted): GetParameter with
 * WithDecryption (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html), which
 * ignores it for the other types. `name` may carry :version or :label. Throws the SDK's error (ParameterNotFound, …).
 */
export async function decryptedParameter(name: string): Promise<string> {
  const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return out.Parameter?.Value ?? '';
}
