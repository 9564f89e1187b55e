import { pathWithout } from './instance-tools';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AwsError } from './aws-error';
import { gated, type ApiThrottle } from './api-throttle';
import type { Chaos } from './chaos';
import { serveJsonProtocol, type LocalServer } from './http';
import { isReleased, jobOf, type SimInstance } from './ec2';
import { mayReceiveCommands, mayRegister, openOutputStreams, type AgentIdentity, type OutputStreams } from './agent';
import type { LocalLogs } from './logs';
import { documentBytes, loadDocument, resolveParameters, stepFor, type CommandDocument } from './ssm-document';
import { parameterBytes, SSM_PARAMETERS_BYTES } from './request-rules';
import { LocalParameters } from './ssm-parameters';
import { spawnProgram, type SpawnedProgram } from '../spawner';

/** SSM's own limits on the output GetCommandInvocation returns. */
export const OUTPUT_LIMITS = { stdout: 24000, stderr: 8000 } as const;

export interface SsmTiming {
  /** Time from running to the agent being online, in real milliseconds. */
  readonly registerMs: number;
}


interface Invocation {
  commandId: string;
  instanceId: string;
  documentName: string;
  parameters: Record<string, string[]>;
  comment: string;
  status: string;
  /** Why it ended (ExecutionTimedOut, DeliveryTimedOut, ...); the status itself while it runs. */
  statusDetails: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  process?: SpawnedProgram;
  /** The document's Phase parameter (build, upload). */
  phase: string;
  /** Where its output streams in CloudWatch Logs; null when the agent may not stream it. */
  streams?: OutputStreams | null;
  /** When the agent started running it, and when it ended (epoch ms). */
  startedAt?: number;
  endedAt?: number;
}

/** What happened to one command, for summaries and benchmarks. */
/** What a fault may do from outside while a command runs (local/cloud-faults.ts applies it). */
export const COMMAND_FAULTS = ['terminateInstance', 'interruptSpot', 'abortExecution', 'timeOutExecution', 'abandon'] as const;
export type CommandFault = (typeof COMMAND_FAULTS)[number];

export interface CommandRecord {
  readonly phase: string;
  readonly status: string;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
}

export interface CommandStatusEvent {
  readonly source: 'aws.ssm';
  readonly 'detail-type': 'EC2 Command Invocation Status-change Notification';
  readonly detail: { 'command-id': string; 'document-name': string; 'instance-id': string; status: string };
}

export interface SsmOptions {
  readonly documentName: string;
  readonly timing: SsmTiming;
  /** Folder that stands for each instance's disk: <disksDir>/<instanceId>. */
  readonly disksDir: string;
  /** Where the build's live output goes. */
  readonly onOutput?: (instanceId: string, chunk: string) => void;
  readonly onEvent: (event: CommandStatusEvent) => void;
  /**
   * The account's Systems Manager buckets (./api-throttle.ts, quotas in ./api-quotas.ts): every request takes its
   * token before anything else, besides injected throttling (chaos.throttle). The local cloud always gives them; a
   * bare LocalSsm in a service test throttles only when given them.
   */
  readonly throttle?: ApiThrottle;
}

/**
 * Systems Manager's control plane, simulated: agents register a while after their instance runs;
 * SendCommand runs the real Linux step of the real document with bash, with the parameters passed
 * as SSM passes them (ENV_VAR interpolation); statuses Pending → InProgress → Success, Failed,
 * TimedOut or Cancelled, each announced as an EventBridge event.
 */
export class LocalSsm {
  private readonly online = new Set<string>();

  /** Whether the instance's agent is online (what DescribeInstanceInformation reports). */
  isOnline(instanceId: string): boolean {
    return this.online.has(instanceId);
  }
  private readonly invocations = new Map<string, Invocation>();
  private readonly document: CommandDocument = loadDocument();
  private readonly documentBytes = documentBytes(this.document);
  private server?: LocalServer;
  private readonly timers = new Set<NodeJS.Timeout>();
  chaos: Chaos = {};
  /** Parameter Store: AWS's public AMI parameters; set() changes one (a new image published). */
  readonly parameters = new LocalParameters();
  /** Called when a fault says a running command's instance, execution or action is lost. */
  onCommandFault: (jobId: string, instanceId: string, what: CommandFault) => void = () => undefined;
  instanceState: (instanceId: string) => SimInstance | undefined = () => undefined;
  /**
   * The instances' own role, when the local cloud enforces IAM: the agent registers, receives
   * commands and streams output only as far as that role allows. Unset: the agent may do anything.
   */
  agent?: { readonly identity: AgentIdentity; readonly logs: LocalLogs };

  constructor(private readonly options: SsmOptions) {}

  /** The account's Systems Manager buckets, if throttled (a fault may spend them as another client would). */
  get throttle(): ApiThrottle | undefined {
    return this.options.throttle;
  }

  /** The folder that stands for an instance's disk. */
  diskOf(instanceId: string): string {
    return path.join(this.options.disksDir, instanceId);
  }

  async start(): Promise<string> {
    // An operation without a quota refuses to start (ApiThrottle.gate), so none goes unthrottled.
    this.server = await serveJsonProtocol('SSM', gated(this.throttle, {
      DescribeInstanceInformation: (b) => this.describeInstanceInformation(b),
      SendCommand: (b) => this.sendCommand(b),
      ListCommands: (b) => this.listCommands(b),
      GetCommandInvocation: (b) => this.getCommandInvocation(b),
      CancelCommand: (b) => this.cancelCommand(b),
      ...this.parameters.operations(),
    }), 'application/x-amz-json-1.1');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const inv of this.invocations.values()) killTree(inv.process);
    await this.server?.close();
  }

  /** The commands sent to an instance, in the order they were sent. */
  commandsOn(instanceId: string): CommandRecord[] {
    return [...this.invocations.values()]
      .filter((i) => i.instanceId === instanceId)
      .map((i) => ({ phase: i.phase, status: i.status, startedAt: i.startedAt ?? null, endedAt: i.endedAt ?? null }));
  }

  /** Each command's standard error on an instance, oldest first, by phase: the document's cache report (local/job.ts). */
  errorOutputsOn(instanceId: string): { phase: string; stderr: string }[] {
    return [...this.invocations.values()].filter((i) => i.instanceId === instanceId).map((i) => ({ phase: i.phase, stderr: i.stderr }));
  }

  /** The EC2 simulation reports state changes here. */
  instanceChanged(instance: SimInstance): void {
    if (instance.state === 'running' && !this.chaos.neverRegisters?.(jobOf(instance))) {
      // void: a timer ignores a promise; a rejection (a local-cloud bug) stays unhandled and ends the process.
      const t = setTimeout(() => void (async () => {
        this.timers.delete(t);
        // An agent whose role may not call UpdateInstanceInformation never comes online.
        if (this.agent && !(await mayRegister(this.agent.identity, instance.instanceId))) return;
        if (instance.state === 'running') {
          this.online.add(instance.instanceId);
          instance.onlineAt = Date.now();
        }
      })(), this.options.timing.registerMs);
      this.timers.add(t);
    }
    // A stopping instance's agent goes down with its OS, as a terminating one's does; it registers again when the
    // instance runs again (above).
    if (isReleased(instance) || instance.state === 'stopping' || instance.state === 'stopped') {
      this.online.delete(instance.instanceId);
      // The agent dies with its instance: what it was running never reports back. SSM ends such
      // invocations when the command expires, with StatusDetails DeliveryTimedOut ("If a command
      // expires, it changes status to DeliveryTimedOut for all invocations that have the status
      // InProgress, Pending, or Delayed": ExpiresAfter in
      // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Command.html), whose
      // Status is TimedOut (the CommandInvocationStatus enum has no finer value). Here that
      // happens at once rather than at the expiry: simulated time, the same statuses.
      for (const inv of this.invocations.values()) {
        if (inv.instanceId === instance.instanceId && ['Pending', 'InProgress'].includes(inv.status)) {
          killTree(inv.process);
          this.finish(inv, 'TimedOut', -1, 'DeliveryTimedOut');
        }
      }
    }
    // Its volume goes with it (DeleteOnTermination), with whatever the build left there.
    if (instance.state === 'terminated') {
      void fs.promises.rm(this.diskOf(instance.instanceId), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private throttled(operation: string, instanceId: string): void {
    const instance = this.instanceState(instanceId);
    if (instance && this.chaos.throttle?.('ssm', operation, jobOf(instance))) throw new AwsError('ThrottlingException', 'Rate exceeded');
  }

  private describeInstanceInformation(body: Record<string, unknown>) {
    const filters = (body.Filters ?? []) as { Key: string; Values: string[] }[];
    const ids = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
    if (ids[0]) this.throttled('DescribeInstanceInformation', ids[0]);
    const list = [...new Set(ids)].filter((id) => this.online.has(id)).sort().map((id) => ({ InstanceId: id, PingStatus: 'Online', PlatformType: 'Linux' }));
    // A page holds at most MaxResults nodes (5 to 50: MaxResultsEC2Compatible in local/models/ssm.json, checked before
    // this runs) and a NextToken while more are left
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html). The
    // default is not stated in the pages consulted: 10 here, a small page, so a caller that sends no MaxResults and
    // ignores NextToken misses nodes here as it may on AWS. The token resumes after the last
    // node returned (nodes in ID order), bound to the filter it was issued for.
    const max = typeof body.MaxResults === 'number' ? body.MaxResults : 10;
    const filterKey = JSON.stringify(filters);
    let after = '';
    if (body.NextToken !== undefined) {
      const token = (() => {
        try {
          return JSON.parse(Buffer.from(String(body.NextToken), 'base64url').toString('utf8')) as { after?: unknown; filters?: unknown };
        } catch {
          return null;
        }
      })();
      if (typeof token?.after !== 'string' || token.filters !== filterKey) throw new AwsError('InvalidNextToken', 'The specified token isn\'t valid.');
      after = token.after;
    }
    const rest = list.filter((i) => i.InstanceId > after);
    const page = rest.slice(0, max);
    const more = rest.length > max;
    const NextToken = more ? Buffer.from(JSON.stringify({ after: page[page.length - 1].InstanceId, filters: filterKey })).toString('base64url') : undefined;
    return { InstanceInformationList: page, ...(NextToken ? { NextToken } : {}) };
  }

  private sendCommand(body: Record<string, unknown>) {
    const documentName = String(body.DocumentName);
    if (documentName !== this.options.documentName) throw new AwsError('InvalidDocument', `Document ${documentName} does not exist`);
    const parameters = (body.Parameters ?? {}) as Record<string, string[]>;
    // "The content of the document must not exceed 64KB. This quota also includes the content specified for input
    // parameters at runtime" (CreateDocument's Content: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html#systemsmanager-CreateDocument-request-Content):
    // the document and the command's parameters together, here the document file's bytes (request-rules.ts checks the
    // parameters alone first).
    const size = this.documentBytes + parameterBytes(parameters);
    if (size > SSM_PARAMETERS_BYTES) throw new AwsError('MaxDocumentSizeExceeded', `The document and its parameters total ${size} bytes; the size limit of a document is 64 KB (${SSM_PARAMETERS_BYTES} bytes), its runtime parameters included`);
    const ids = (body.InstanceIds ?? []) as string[];
    if (ids.length !== 1 || !this.online.has(ids[0])) throw new AwsError('InvalidInstanceId', 'Instances not in a valid state for account');
    this.throttled('SendCommand', ids[0]);
    let resolved: ReturnType<typeof resolveParameters>;
    try {
      resolved = resolveParameters(this.document, parameters);
    } catch (err) {
      throw new AwsError('InvalidParameters', (err as Error).message);
    }
    const inv: Invocation = {
      commandId: randomUUID(),
      instanceId: ids[0],
      documentName,
      parameters,
      comment: String(body.Comment ?? ''),
      status: 'Pending',
      statusDetails: 'Pending',
      exitCode: -1,
      stdout: '',
      stderr: '',
      phase: resolved.values.Phase,
    };
    this.invocations.set(inv.commandId, inv);
    const instance = this.instanceState(ids[0]);
    const fault = instance ? this.chaos.commandRunning?.(jobOf(instance), resolved.values.Phase) : undefined;
    const output = body.CloudWatchOutputConfig as { CloudWatchOutputEnabled?: boolean; CloudWatchLogGroupName?: string } | undefined;
    // void: as above, a rejection is a local-cloud bug and ends the process.
    setImmediate(() => void (async () => {
      if (this.agent && !(await mayReceiveCommands(this.agent.identity, inv.instanceId))) {
        // The agent never fetches it: the command expires undelivered (DeliveryTimedOut; at once here, in simulated time).
        this.finish(inv, 'TimedOut', -1, 'DeliveryTimedOut');
        return;
      }
      if (this.agent && output?.CloudWatchOutputEnabled) {
        inv.streams = await openOutputStreams(this.agent.identity, this.agent.logs, inv.instanceId, output.CloudWatchLogGroupName ?? `aws/ssm/${documentName}`, inv.commandId, stepFor(this.document, 'Linux').name);
      }
      this.run(inv, resolved.env, fault?.timeoutSeconds ?? Number(resolved.values.ExecutionTimeout));
      for (const what of COMMAND_FAULTS) {
        if (fault?.[what] && instance) setTimeout(() => this.onCommandFault(jobOf(instance), inv.instanceId, what), 100);
      }
    })());
    return { Command: { CommandId: inv.commandId, DocumentName: documentName, Status: 'Pending', Parameters: parameters, InstanceIds: ids } };
  }

  private emit(inv: Invocation): void {
    const instance = this.instanceState(inv.instanceId);
    if (instance && this.chaos.dropEvent?.(jobOf(instance), inv.phase, inv.status)) return;
    this.options.onEvent({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      detail: { 'command-id': inv.commandId, 'document-name': inv.documentName, 'instance-id': inv.instanceId, status: inv.status },
    });
  }

  private finish(inv: Invocation, status: string, exitCode: number, statusDetails = status): void {
    if (!['Pending', 'InProgress'].includes(inv.status)) return;
    inv.status = status;
    inv.statusDetails = statusDetails;
    inv.exitCode = exitCode;
    inv.endedAt = Date.now();
    this.emit(inv);
  }

  private run(inv: Invocation, env: Record<string, string>, timeoutSeconds: number): void {
    if (inv.status !== 'Pending') return;
    inv.status = 'InProgress';
    inv.statusDetails = 'InProgress';
    inv.startedAt = Date.now();
    this.emit(inv);
    const step = stepFor(this.document, 'Linux');
    const disk = this.diskOf(inv.instanceId);
    const orchestration = path.join(disk, 'var/lib/amazon/ssm', inv.instanceId, 'document/orchestration', inv.commandId, step.name);
    fs.mkdirSync(orchestration, { recursive: true });
    fs.mkdirSync(path.join(disk, 'tmp'), { recursive: true });
    const script = path.join(orchestration, '_script.sh');
    fs.writeFileSync(script, step.inputs.runCommand.join('\n'), { mode: 0o700 });
    const instance = this.instanceState(inv.instanceId);
    const missing = instance ? this.chaos.missingTools?.(jobOf(instance)) : undefined;
    const PATH = missing?.length ? pathWithout(path.join(disk, 'image'), missing) : (process.env.PATH ?? '/usr/bin:/bin');
    // Started by the spawner's small process: a fork of this one blocks its main thread (local/spawner).
    const child = spawnProgram('bash', [script], {
      cwd: orchestration,
      env: { PATH, HOME: disk, LANG: 'C.UTF-8', TMPDIR: path.join(disk, 'tmp'), ...env },
      // Its own process group, so that stopping the command stops everything the build started.
      detached: true,
    });
    inv.process = child;
    const keep = (field: 'stdout' | 'stderr', chunk: Buffer) => {
      const text = chunk.toString('utf8');
      const limit = OUTPUT_LIMITS[field];
      if (inv[field].length < limit) inv[field] = (inv[field] + text).slice(0, limit);
      if (inv.streams && this.agent) this.agent.logs.putLogEvents(inv.streams.group, inv.streams[field], [text]);
      this.options.onOutput?.(inv.instanceId, text);
    };
    child.stdout.on('data', (c: Buffer) => keep('stdout', c));
    child.stderr.on('data', (c: Buffer) => keep('stderr', c));
    const timer = setTimeout(() => {
      killTree(child);
      // Status TimedOut, StatusDetails ExecutionTimedOut: it ran, and outlived its executionTimeout.
      this.finish(inv, 'TimedOut', -1, 'ExecutionTimedOut');
    }, timeoutSeconds * 1000);
    child.on('close', (code: number | null) => {
      clearTimeout(timer);
      inv.process = undefined;
      this.finish(inv, code === 0 ? 'Success' : 'Failed', code ?? -1);
    });
  }

  private listCommands(body: Record<string, unknown>) {
    const describe = (inv: Invocation) => ({ CommandId: inv.commandId, DocumentName: inv.documentName, Parameters: inv.parameters, Comment: inv.comment, Status: inv.status, InstanceIds: [inv.instanceId] });
    if (body.CommandId !== undefined) {
      const inv = this.invocations.get(String(body.CommandId));
      if (!inv) return { Commands: [] };
      this.throttled('ListCommands', inv.instanceId);
      return { Commands: [describe(inv)] };
    }
    // By instance, optionally filtered by document name, newest first (as SSM lists them).
    const filters = (body.Filters ?? []) as { key: string; value: string }[];
    const document = filters.find((f) => f.key === 'DocumentName')?.value;
    const matching = [...this.invocations.values()]
      .filter((i) => i.instanceId === body.InstanceId && (!document || i.documentName === document))
      .reverse();
    return { Commands: matching.map(describe) };
  }

  /**
   * One step's result. PluginName (the step's name) is required when the document has more than
   * one step (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html);
   * the reference does not say what a call without it gets, so it is refused with the operation's
   * documented InvalidPluginName. The step for the other platform was skipped by its precondition:
   * it answers Success with the agent's skip message, the reading that is hardest on a caller.
   */
  private getCommandInvocation(body: Record<string, unknown>) {
    const inv = this.invocations.get(String(body.CommandId));
    if (!inv || inv.instanceId !== body.InstanceId) throw new AwsError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist)');
    this.throttled('GetCommandInvocation', inv.instanceId);
    const steps = this.document.mainSteps.map((s) => s.name);
    const plugin = body.PluginName === undefined ? undefined : String(body.PluginName);
    if (plugin === undefined ? steps.length > 1 : !steps.includes(plugin)) {
      throw new AwsError('InvalidPluginName', `The plugin name isn't valid: document ${inv.documentName} has the steps ${steps.join(', ')}; name one as PluginName.`);
    }
    const ran = stepFor(this.document, 'Linux');
    const skipped = plugin !== undefined && plugin !== ran.name && inv.status !== 'Pending';
    const other = this.document.mainSteps.find((s) => s.name === plugin);
    return {
      CommandId: inv.commandId,
      InstanceId: inv.instanceId,
      DocumentName: inv.documentName,
      PluginName: plugin ?? ran.name,
      Status: skipped ? 'Success' : inv.status,
      StatusDetails: skipped ? 'Success' : inv.statusDetails,
      ResponseCode: skipped ? 0 : inv.exitCode,
      StandardOutputContent: skipped
        ? `Step execution skipped due to unsatisfied preconditions: '"StringEquals": [${other?.precondition?.StringEquals?.join(', ')}]'. Step name: ${plugin}`
        : inv.stdout,
      StandardErrorContent: skipped ? '' : inv.stderr,
      // ISO 8601, empty until the plugin runs (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html);
      // a skipped step never ran.
      ExecutionStartDateTime: !skipped && inv.startedAt !== undefined ? new Date(inv.startedAt).toISOString() : '',
      ExecutionEndDateTime: !skipped && inv.startedAt !== undefined && inv.endedAt !== undefined ? new Date(inv.endedAt).toISOString() : '',
    };
  }

  private cancelCommand(body: Record<string, unknown>) {
    const inv = this.invocations.get(String(body.CommandId));
    if (!inv) throw new AwsError('InvalidCommandId', 'Invalid command ID');
    killTree(inv.process);
    this.finish(inv, 'Cancelled', -1);
    return {};
  }
}

/** Stops a command and every process it started, as the agent does when a command ends unfinished. */
function killTree(child: SpawnedProgram | undefined): void {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  // Its pid not known here yet (the spawner has just been asked to start it): kill sends the signal once it is.
  if (child.pid === undefined) {
    child.kill('SIGKILL');
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
