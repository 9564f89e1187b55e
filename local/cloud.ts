import './polyfills';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENV, type FunctionConfig } from '../lambdas/shared/env';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { abandonedEventPattern, commandFinishedPattern, executionEndedPattern, startedEventPattern } from '../lib/event-patterns';
import type { Chaos } from './services/chaos';
import { LocalCodePipeline } from './services/codepipeline';
import { LocalEc2 } from './services/ec2';
import { LocalEventBus } from './services/events';
import { LocalStepFunctions, type EventLog, type ExecutionRecord, type LocalFunction } from './services/sfn';
import { SIMULATED } from './services/http';
import { LocalSsm } from './services/ssm';
import { LocalS3 } from './s3';

export const ACTION_TYPE: ActionTypeRef = { owner: 'Custom', category: 'Build', provider: 'EC2-Build', version: '1' };
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Ec2BuildAction-BuildJob';
export const DOCUMENT_NAME = 'Ec2BuildAction-RunBuild';
const REGION = 'us-east-1';

export interface CloudTiming {
  /** Real milliseconds that stand for one simulated second (Retry pauses). */
  readonly msPerSecond: number;
  /** Simulated boot (pending → running), in real ms. */
  readonly bootMs: number;
  /** Simulated SSM registration after running, in real ms. */
  readonly registerMs: number;
  /** Added to every AWS API call (real ms); 0 unless a benchmark simulates AWS's latency. */
  readonly apiLatencyMs?: number;
  /** EventBridge delivery delay (real ms). */
  readonly eventDelayMs?: number;
  /** Lambda invoke latency from Step Functions (real ms). */
  readonly invokeMs?: number;
  /**
   * How often the safety-net poll runs (real ms); 1 s unless set. AWS runs it every 5 minutes, so
   * a benchmark sets that, scaled: a frequent poll would pick jobs up before their STARTED event.
   */
  readonly safetyPollMs?: number;
  /** Up to this much is added at random to each boot (real ms), as EC2's boot times vary. */
  readonly bootJitterMs?: number;
}

export const DEFAULT_TIMING: CloudTiming = { msPerSecond: 20, bootMs: 600, registerMs: 400 };

/** How often the safety-net poll runs by default (AWS: every 5 minutes), and how long a dispatch waits for its acknowledgement. */
const SAFETY_NET_POLL_MS = 1000;
const DISPATCH_TIMEOUT_MS = 1500;

export interface CloudHooks {
  onState?(execution: ExecutionRecord, event: EventLog): void;
  onOutput?(instanceId: string, chunk: string): void;
}

type Handler = (event: unknown) => Promise<unknown>;

async function load(dir: string): Promise<Handler> {
  const mod = (await import(`../lambdas/${dir}/handler`)) as { handler: Handler };
  return mod.handler;
}

/**
 * Everything a build job talks to, on this machine: CodePipeline, Step Functions, EC2 and SSM on
 * 127.0.0.1 endpoints that the real SDK clients reach through AWS_ENDPOINT_URL_<SERVICE>,
 * artifacts in s3rver, and the stack's EventBridge rules. The Lambda handlers are the real ones,
 * configured through the same environment variables the stack sets.
 */
export class LocalCloud {
  readonly dir: string;
  readonly codepipeline = new LocalCodePipeline(DISPATCH_TIMEOUT_MS);
  readonly bus = new LocalEventBus();
  readonly s3: LocalS3;
  readonly ec2: LocalEc2;
  ssm!: LocalSsm;
  sfn!: LocalStepFunctions;
  readonly hooks: CloudHooks = {};
  private functions: Record<string, LocalFunction> = {};
  private sweeper?: Handler;
  private poller?: Handler;
  private pollTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  /** Faults installed for one job each. */
  private readonly jobChaos = new Map<string, Chaos>();
  private readonly counters = new Map<string, number>();
  /** The job each artifact key belongs to, for faults in the artifact store. */
  readonly artifactOwners = new Map<string, string>();
  /** Pipeline context of each job, for the ABANDONED event. */
  readonly pipelines = new Map<string, { pipeline: string; executionId: string; stage: string; action: string }>();

  private static started = false;

  private constructor(readonly timing: CloudTiming) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-build-action-'));
    this.s3 = new LocalS3(path.join(this.dir, 's3'));
    this.ec2 = new LocalEc2({ bootMs: timing.bootMs, bootJitterMs: timing.bootJitterMs, shutdownMs: Math.round(timing.bootMs / 2) });
  }

  static async start(timing: CloudTiming = DEFAULT_TIMING): Promise<LocalCloud> {
    // The handlers build their SDK clients when first loaded, with the first cloud's endpoints.
    if (LocalCloud.started) throw new Error('LocalCloud.start: one local cloud per process (the handlers keep the endpoints of the first); run another in a child process');
    LocalCloud.started = true;
    const cloud = new LocalCloud(timing);
    await cloud.boot();
    return cloud;
  }

  /** Installs a fault's hooks for one job. */
  injectFault(jobId: string, chaos: Chaos): void {
    this.jobChaos.set(jobId, chaos);
  }

  private count(key: string): number {
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return n;
  }

  /** One Chaos that hands each call to the hooks of the job it concerns. */
  private dispatcher(): Chaos {
    const of = (jobId: string) => this.jobChaos.get(jobId);
    return {
      runInstances: (j, subnet, type) => of(j)?.runInstances?.(j, subnet, type),
      neverRuns: (j) => of(j)?.neverRuns?.(j) ?? false,
      terminate: (j) => of(j)?.terminate?.(j),
      neverRegisters: (j) => of(j)?.neverRegisters?.(j) ?? false,
      commandRunning: (j, phase) => of(j)?.commandRunning?.(j, phase),
      badCredentials: (j, call) => of(j)?.badCredentials?.(j, call) ?? false,
      throttle: (service, op, j) => of(j)?.throttle?.(service, op, j) ?? false,
      dropEvent: (j, phase, status) => of(j)?.dropEvent?.(j, phase, status) ?? false,
    };
  }

  /** The job a Lambda payload concerns. */
  private static jobOfPayload(payload: unknown): string {
    const p = payload as { jobId?: string; job?: { jobId?: string }; state?: { jobId?: string } };
    return p?.jobId ?? p?.job?.jobId ?? p?.state?.jobId ?? '';
  }

  /** Instances the sweeper terminated. */
  readonly sweptInstances = new Set<string>();

  /** Runs the sweeper now, as its schedule would. */
  async sweep(): Promise<{ terminated: { instanceId: string; reason: string }[]; resumed: number }> {
    const out = (await this.sweeper!({})) as { terminated: { instanceId: string; reason: string }[]; resumed: number };
    for (const t of out.terminated) this.sweptInstances.add(t.instanceId);
    return out;
  }

  private onCommandFault(jobId: string, instanceId: string, what: 'terminateInstance' | 'abortExecution' | 'timeOutExecution' | 'abandon'): void {
    const running = [...this.sfn.executions.values()].filter((e) => e.name.startsWith(jobId) && e.status === 'RUNNING');
    if (what === 'terminateInstance') {
      const instance = this.ec2.instances.get(instanceId);
      if (instance) this.ec2.terminate(instance, 'Server.SpotInstanceTermination: Spot instance termination');
    } else if (what === 'abortExecution') {
      for (const e of running) {
        e.error = 'Aborted';
        e.cause = 'stopped by a person in the Step Functions console';
        e.abort?.();
      }
    } else if (what === 'timeOutExecution') {
      for (const e of running) e.timeOut?.();
    } else {
      const p = this.pipelines.get(jobId);
      this.codepipeline.abandon(jobId);
      this.bus.put({ source: 'aws.codepipeline', 'detail-type': 'CodePipeline Action Execution State Change', detail: { ...p, 'execution-id': p?.executionId, state: 'ABANDONED', type: { ...ACTION_TYPE } } });
    }
  }

  /** What the stack would configure on each function, pointed at this machine. */
  private functionConfig(): FunctionConfig {
    return {
      [ENV.stateMachineArn]: STATE_MACHINE_ARN,
      [ENV.actionCategory]: ACTION_TYPE.category,
      [ENV.actionProvider]: ACTION_TYPE.provider,
      [ENV.actionVersion]: ACTION_TYPE.version,
      [ENV.launchTemplateId]: 'lt-0local0000000000',
      [ENV.subnetIds]: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
      [ENV.maxJobMinutes]: '1500',
      [ENV.stackTagValue]: 'Ec2BuildAction',
      [ENV.rootVolumeGiB]: '30',
      [ENV.s3ForcePathStyle]: 'true',
      // 20 s of simulated time, like the stack's 20 000 ms.
      [ENV.checkWatchMs]: String(20 * this.timing.msPerSecond),
      [ENV.buildDocumentName]: DOCUMENT_NAME,
    };
  }

  private async boot(): Promise<void> {
    SIMULATED.apiLatencyMs = this.timing.apiLatencyMs ?? 0;
    this.bus.deliveryDelayMs = this.timing.eventDelayMs ?? 0;
    this.ssm = new LocalSsm({
      documentName: DOCUMENT_NAME,
      timing: { registerMs: this.timing.registerMs },
      disksDir: path.join(this.dir, 'instances'),
      onOutput: (id, chunk) => this.hooks.onOutput?.(id, chunk),
      onEvent: (event) => this.bus.put(event as never),
    });
    this.ssm.instanceState = (id) => this.ec2.instances.get(id);
    const chaos = this.dispatcher();
    this.ec2.chaos = chaos;
    this.ssm.chaos = chaos;
    this.codepipeline.chaos = chaos;
    this.ssm.onCommandFault = (jobId, instanceId, what) => this.onCommandFault(jobId, instanceId, what);
    this.s3.clockAheadMs = (key) => {
      const jobId = this.artifactOwners.get(key);
      return (jobId && this.jobChaos.get(jobId)?.storeClockAheadMs?.(jobId)) || 0;
    };
    this.ec2.onStateChange = (instance) => this.ssm.instanceChanged(instance);
    const endpoints = {
      CODEPIPELINE: await this.codepipeline.start(),
      EC2: await this.ec2.start(),
      SSM: await this.ssm.start(),
      S3: await this.s3.start(),
    };
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      AWS_MAX_ATTEMPTS: '4',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
      ...this.functionConfig(),
    };
    for (const [service, url] of Object.entries(endpoints)) env[`AWS_ENDPOINT_URL_${service}`] = url;
    Object.assign(process.env, env);
    // The Step Functions endpoint must exist before the handlers' clients are built.
    const functionNames = { ack: 'local:acknowledge', launch: 'local:launcher', check: 'local:instance-check', urls: 'local:artifact-urls', completion: 'local:completion' };
    this.functions = {
      [functionNames.ack]: await load('acknowledge'),
      [functionNames.launch]: await load('launcher'),
      [functionNames.check]: await load('instance-check'),
      [functionNames.urls]: await load('artifact-urls'),
      [functionNames.completion]: await load('completion'),
    };
    this.sfn = new LocalStepFunctions({
      stateMachineArn: STATE_MACHINE_ARN,
      substitutions: {
        AcknowledgeFunctionArn: functionNames.ack,
        LaunchFunctionArn: functionNames.launch,
        InstanceCheckFunctionArn: functionNames.check,
        ArtifactUrlsFunctionArn: functionNames.urls,
        CompletionFunctionArn: functionNames.completion,
        BuildDocumentName: DOCUMENT_NAME,
        BuildLogGroupName: '/local/ec2-build-action/builds',
      },
      functions: this.functions,
      msPerSecond: this.timing.msPerSecond,
      invokeMs: this.timing.invokeMs,
      onEvent: (execution, event) => this.hooks.onState?.(execution, event),
      onExecutionEnd: (e) =>
        this.bus.put({
          source: 'aws.states',
          'detail-type': 'Step Functions Execution Status Change',
          detail: { executionArn: e.executionArn, stateMachineArn: STATE_MACHINE_ARN, name: e.name, status: e.status, input: e.input, error: e.error ?? null, cause: e.cause ?? null },
        }),
      beforeStart: (name) => {
        const jobId = name.slice(0, 36);
        return this.jobChaos.get(jobId)?.startExecution?.(jobId, this.count(`start:${jobId}`));
      },
      beforeInvoke: (fn, payload) => {
        const jobId = LocalCloud.jobOfPayload(payload);
        return this.jobChaos.get(jobId)?.invoke?.(fn, jobId, this.count(`invoke:${fn}:${jobId}`));
      },
    });
    process.env.AWS_ENDPOINT_URL_SFN = await this.sfn.start();
    const poller = await load('poller');
    this.poller = poller;
    this.bus.addRule('Started', startedEventPattern(ACTION_TYPE), poller);
    this.bus.addRule('CommandFinished', commandFinishedPattern(DOCUMENT_NAME), await load('command-events'), 8);
    this.bus.addRule('ExecutionEnded', executionEndedPattern(STATE_MACHINE_ARN), await load('execution-events'), 8);
    this.bus.addRule('Abandoned', abandonedEventPattern(ACTION_TYPE), await load('abandon'), 8);
    this.sweeper = await load('sweeper');
    this.pollTimer = setInterval(() => void poller({ source: 'aws.events', 'detail-type': 'Scheduled Event' }).catch(() => undefined), this.timing.safetyPollMs ?? SAFETY_NET_POLL_MS);
    // The sweeper's 15-minute schedule, in simulated time.
    this.sweepTimer = setInterval(() => void this.sweep().catch(() => undefined), 15 * 60 * this.timing.msPerSecond);
  }

  /** Invokes the poller directly, as a second concurrent EventBridge delivery would. */
  invokePoller(event: Record<string, unknown>): Promise<unknown> {
    return this.poller!(event);
  }

  async stop(): Promise<void> {
    clearInterval(this.pollTimer);
    clearInterval(this.sweepTimer);
    await this.bus.drain();
    await this.sfn?.stop();
    await Promise.all([this.codepipeline.stop(), this.ec2.stop(), this.ssm?.stop(), this.s3.stop()]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
