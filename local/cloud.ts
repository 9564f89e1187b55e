import './polyfills';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RefillReport } from '../lambdas/pool-refill/refill';
import { ENV, POOL_TAGS, TAGS } from '../lambdas/shared/env';
import { poolSizesAt } from '../lambdas/shared/fleet-sizes';
import { READINESS_PK } from '../lambdas/shared/readiness-keys';
import { FLEETS_CONTEXT, parseFleets, type Fleet } from '../lambdas/shared/fleets';
import { SCOPE_SETTINGS } from '../lambdas/shared/build-environment';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { applyCommandFault, chaosDispatcher } from './cloud-faults';
import { fillFleet } from './fleet-checks';
import { deploy, type Deployment } from './deployment';
import type { LocalStack } from './template/stack';
import type { Authorizer } from './iam/authorize';
import { agentIdentity, installIamGate, removeIamGate, stackResourceState } from './iam/gate';
import { invokeChecks } from './iam/requests';
import { authorizeServiceUses } from './iam/service-uses';
import { AwsError } from './services/aws-error';
import { LocalLogs } from './services/logs';
import { LocalMetrics } from './services/metrics';
import { deployFunctions, faultName, invokeForStateMachine, type DeployedFunction } from './lambda/functions';
import type { FunctionError } from './lambda/invoker';
import type { Chaos } from './services/chaos';
import { LocalCodePipeline } from './services/codepipeline';
import { jobOf, LOCAL_LAUNCH_TEMPLATES, LocalEc2 } from './services/ec2';
import { Ec2Throttle } from './services/ec2-throttle';
import { ApiThrottle } from './services/api-throttle';
import { CODEPIPELINE_THROTTLING, SFN_THROTTLING, SSM_THROTTLING } from './services/api-quotas';
import { eventRules, schedulePeriodMs } from './services/event-rules';
import { LocalEventBus } from './services/events';
import { LocalStepFunctions, type EventLog, type ExecutionRecord, type LocalFunction } from './services/sfn';
import { AUDIT, SIMULATED } from './services/http';
import { LocalSsm } from './services/ssm';
import { LocalDynamoDb } from './services/dynamodb';
import { LocalLambdaApi } from './services/lambda-api';
import { createTemplateTables } from './services/dynamodb-tables';
import { LocalS3 } from './s3';
import { LocalSecretsManager } from './services/secrets-manager';
import { currentTemplate } from './synthesized';
import { UserServices } from './user-services';

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

/** How often the safety-net poll runs by default (AWS: every 5 minutes). */
const SAFETY_NET_POLL_MS = 1000;
/**
 * How long a polled job waits for its acknowledgement before CodePipeline offers it again. AWS does not publish it
 * (the job worker's nonce makes a second offer harmless: ours handle either answer, and the racing-pollers fault
 * offers a job twice on purpose). Here: 30 simulated seconds, and never under 5 real seconds, so that this
 * machine's own pauses do not offer jobs again where AWS would not: a starved CPU (the 1,000-build benchmark, a test
 * suite beside other work) took more than 1.5 s between a poll and its acknowledgement, and a test whose schedules
 * are stopped then saw its only execution lose the job to an offer nobody polled.
 */
const dispatchTimeoutMs = (msPerSecond: number) => Math.max(5000, 30 * msPerSecond);

export interface CloudHooks {
  onState?(execution: ExecutionRecord, event: EventLog): void;
  onOutput?(instanceId: string, chunk: string): void;
  /** A scheduled or event-driven function failed every attempt (Lambda drops the event). */
  onFunctionError?(error: FunctionErrorRecord): void;
}

export interface CloudOptions {
  /** A synthesized template, its cloud assembly beside it (`npm run local -- --template FILE`); the current stack, synthesized, by default. */
  readonly template?: string;
  /** Where to say that the stack is being synthesized. */
  readonly log?: (line: string) => void;
  /**
   * Shorter job renewals and job timeouts, for a build that outlives several jobs (fault build-outlives-job-timeout):
   * the poller's JOB_RENEWAL_SECONDS and CodePipeline's per-job timeout, both in real time (Step Functions' task
   * timeouts run in real time here). The stack's renewal interval and CodePipeline's 1 hour otherwise.
   */
  readonly jobs?: JobTimeouts;
  /**
   * Fleets to deploy the current stack with (`npm run local -- --fleets FILE`): the context key
   * ec2-build-action:fleets of its synth. Not with `template`, which holds its own.
   */
  readonly fleets?: Readonly<Record<string, Fleet>>;
  /**
   * The parameter paths and secret name prefixes builds may read (`--parameter`, `--secret`): the context keys
   * ec2-build-action:parameterPrefixes and secretPrefixes of the current stack's synth. Not with `template`.
   */
  readonly environmentScope?: { readonly parameterPrefixes: readonly string[]; readonly secretPrefixes: readonly string[] };
}

/** A local cloud's job renewal interval (seconds) and job timeout (ms). */
export interface JobTimeouts {
  readonly renewalSeconds: number;
  readonly timeoutMs: number;
  /**
   * Seconds in one of a fleet's maxQueueMinutes (the poller's QUEUE_MINUTE_SECONDS, 60 otherwise): a fault that
   * runs a whole wait in line in real time shortens it as it shortens the renewals.
   */
  readonly queueMinuteSeconds?: number;
}

/** An asynchronous invocation (a rule's, a schedule's) that failed every attempt: nobody else sees its error. */
export interface FunctionErrorRecord extends FunctionError {
  readonly functionName: string;
  /** The rule that invoked it. */
  readonly source: string;
}

/** Variables whose value is a duration in milliseconds: the local cloud runs them in simulated time. */
const SIMULATED_MS_VARIABLES: string[] = [ENV.checkWatchMs, ENV.eventGraceMs, ENV.refillWatchMs, ENV.readyWithinMs, ENV.firstRegistrationMs, ENV.watchTickMs, ENV.watchRunMs];
/**
 * The readiness watcher's tick, in real ms, is never shorter than this here: at 20 ms a simulated second its 250 ms
 * would be 5 real ms, a loop that would take this machine's cores from the builds (every call is authorized against
 * the template's IAM). With time scaled by 200 ms a simulated second or more (the benchmark's scale phase), the tick is
 * what it is on AWS; slower clocks see the agents a little later in simulated time, never more often.
 */
const MIN_WATCH_TICK_MS = 40;
/**
 * The execution-events handler's grace (the sweeper leaves an execution that ended abnormally to its status event for
 * this long, lib/safety-nets.ts EVENT_GRACE_MS) is never shorter than this here, in real ms. On AWS the grace is 5
 * minutes and the event and its handler take seconds; at 20 ms a simulated second it would be 6 real seconds, and this
 * machine's own pauses are as long: a 100-job soak beside another suite measured the handler's first invocations at
 * 8 s (worker start-up on busy cores), and the sweeper then released instances the handler was about to. Either answer
 * keeps every promise (one result, the instance released) but the soak holds each safety net to its own job.
 */
export const MIN_EVENT_GRACE_MS = 20_000;

/**
 * Everything a build job talks to, on this machine: CodePipeline, Step Functions, EC2 and SSM on
 * 127.0.0.1 endpoints that the real SDK clients reach through AWS_ENDPOINT_URL_<SERVICE>,
 * artifacts in s3rver, and the synthesized template's functions, state machine and EventBridge
 * rules. Each function is its real bundle, run as Lambda runs it (local/lambda/invoker.ts) with the
 * configuration and the role the template gives it.
 */
export class LocalCloud {
  readonly dir: string;
  readonly codepipeline: LocalCodePipeline;
  /** The pipeline API (on the CodePipeline endpoint), IAM and CloudFormation, for a user's tools (`npm run verify`). */
  user!: UserServices;
  readonly bus = new LocalEventBus();
  /** CloudWatch Logs: the stack's log groups, where the build instances' agents stream output. */
  readonly logs = new LocalLogs();
  /** CloudWatch metrics: the embedded-metric-format lines the functions print (`npm run local -- --metrics FILE`). */
  readonly metrics = new LocalMetrics();
  /** DynamoDB: dynalite behind the IAM gate and the model, holding the template's tables. */
  readonly dynamodb = new LocalDynamoDb();
  /** Secrets Manager: the secrets a build's SECRETS_MANAGER variables name (put()). */
  readonly secrets = new LocalSecretsManager();
  /** IAM: decides every request by the role that signs it (its denials explain a job that went nowhere). */
  authorizer!: Authorizer;
  readonly s3: LocalS3;
  readonly ec2: LocalEc2;
  ssm!: LocalSsm;
  sfn!: LocalStepFunctions;
  readonly hooks: CloudHooks = {};
  /** The action type, state machine and document of the template. */
  readonly actionType: ActionTypeRef;
  /** Every version the template registers; a job may name one (JobOptions.actionVersion). */
  readonly actionTypes: readonly ActionTypeRef[];
  readonly stateMachineArn: string;
  readonly documentName: string;
  functions: DeployedFunction[] = [];
  private lambdaApi?: LocalLambdaApi;
  /** Function errors nobody was there to see: the soak fails on any. */
  readonly functionErrors: FunctionErrorRecord[] = [];
  /** Faults installed for one job each. */
  private readonly jobChaos = new Map<string, Chaos>();
  private readonly counters = new Map<string, number>();
  /** The job each artifact key belongs to, for faults in the artifact store. */
  readonly artifactOwners = new Map<string, string>();
  /** Pipeline context of each job, for the ABANDONED event. */
  readonly pipelines = new Map<string, { pipeline: string; executionId: string; stage: string; action: string }>();

  private static started = false;
  /** Simulated seconds, the clock of every AWS rate here (the services' token buckets). */
  private readonly simulatedSeconds = () => performance.now() / this.timing.msPerSecond;
  /** Shortened job renewals and timeouts (CloudOptions.jobs), if any. */
  jobTimeouts?: JobTimeouts;

  private constructor(
    readonly timing: CloudTiming,
    private readonly deployment: Deployment,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-build-action-'));
    this.s3 = new LocalS3(path.join(this.dir, 's3'));
    // A Spot interruption's notice is two minutes (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html), in simulated time.
    // The account's EC2 token buckets refill per simulated second, as every AWS rate here runs in simulated time.
    // So do the other services' buckets (./services/api-quotas.ts): each service refuses an operation without one.
    const throttle = new Ec2Throttle(this.simulatedSeconds);
    this.codepipeline = new LocalCodePipeline(dispatchTimeoutMs(timing.msPerSecond), new ApiThrottle(CODEPIPELINE_THROTTLING, this.simulatedSeconds));
    this.ec2 = new LocalEc2({ bootMs: timing.bootMs, bootJitterMs: timing.bootJitterMs, shutdownMs: Math.round(timing.bootMs / 2), spotNoticeMs: 120 * timing.msPerSecond }, throttle);
    // A build's readiness waiter written (lambdas/shared/readiness-table.ts putWaiter) is the moment a fault may strike
    // its instance (Chaos.terminatedAfterRegisteredMs).
    this.dynamodb.onAnswered = (operation, input) => {
      const item = input.Item as Record<string, { S?: string }> | undefined;
      if (operation === 'PutItem' && item?.pk?.S === READINESS_PK && item.instanceId?.S) this.ec2.registered(item.instanceId.S);
    };
    this.actionType = deployment.actionType;
    this.actionTypes = deployment.actionTypes;
    this.stateMachineArn = deployment.stateMachine.arn;
    this.documentName = deployment.documentName;
  }

  static async start(timing: CloudTiming = DEFAULT_TIMING, options: CloudOptions = {}): Promise<LocalCloud> {
    // The Step Functions SDK integrations run in this process, with the endpoints of the first cloud.
    if (LocalCloud.started) throw new Error('LocalCloud.start: one local cloud per process (Step Functions keeps the endpoints of the first); run another in a child process');
    LocalCloud.started = true;
    if (options.template && options.fleets) throw new Error('LocalCloud.start: a template holds its own fleets; give fleets or a template, not both');
    const context: Record<string, string> = options.fleets ? { [FLEETS_CONTEXT]: JSON.stringify(options.fleets) } : {};
    const scope = options.environmentScope;
    if (scope?.parameterPrefixes.length) context[SCOPE_SETTINGS.parameterPrefixes.context] = scope.parameterPrefixes.join(',');
    if (scope?.secretPrefixes.length) context[SCOPE_SETTINGS.secretPrefixes.context] = scope.secretPrefixes.join(',');
    const template = options.template ?? (await currentTemplate(options.log, context));
    const cloud = new LocalCloud(timing, deploy(template));
    if (options.jobs) {
      cloud.jobTimeouts = options.jobs;
      cloud.codepipeline.jobTimeoutMs = options.jobs.timeoutMs;
    }
    await cloud.boot();
    return cloud;
  }
  /** The synthesized stack this cloud runs. */
  get stack(): LocalStack {
    return this.deployment.stack;
  }

  /**
   * How long the runner waits for a job's execution to start before it says the job was never picked
   * up: a few safety-net polls (each offers the job again) and at least 10 s.
   */
  get pickupBoundMs(): number {
    return Math.max(10_000, 5 * (this.timing.safetyPollMs ?? SAFETY_NET_POLL_MS));
  }

  private graceMs = MIN_EVENT_GRACE_MS;
  /** The sweeper's grace for an execution's status event, in real ms (MIN_EVENT_GRACE_MS at least): a test waits past it. */
  get eventGraceMs(): number {
    return this.graceMs;
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

  /** The job a Lambda payload concerns. */
  private static jobOfPayload(payload: unknown): string {
    const p = payload as { jobId?: string; job?: { jobId?: string }; state?: { jobId?: string } };
    return p?.jobId ?? p?.job?.jobId ?? p?.state?.jobId ?? '';
  }

  /** Instances the sweeper terminated. */
  readonly sweptInstances = new Set<string>();

  /** The function whose construct path is `path` (e.g. "SafetyNets/Sweeper"). */
  functionAt(path: string): DeployedFunction {
    const fn = this.functions.find((f) => f.path === path);
    if (!fn) throw new Error(`the template has no function at ${path} (it has ${this.functions.map((f) => f.path).join(', ')})`);
    return fn;
  }

  /** Invokes a function synchronously, as a test or a person with the console would; its error is thrown, named by its errorType. */
  async invoke(fn: DeployedFunction, event: unknown): Promise<unknown> {
    const outcome = await fn.lambda.invoke(event, 'RequestResponse');
    if ('error' in outcome) {
      throw Object.assign(new Error(outcome.error.errorMessage), { name: outcome.error.errorType, functionError: outcome.error });
    }
    this.observe(fn.name, outcome.payload);
    return outcome.payload;
  }

  /** Runs the sweeper now, as its schedule would. */
  async sweep(): Promise<{ terminated: { instanceId: string; reason: string }[]; resumed: number }> {
    return (await this.invoke(this.functionAt('SafetyNets/Sweeper'), {})) as { terminated: { instanceId: string; reason: string }[]; resumed: number };
  }

  /** The local cloud's bookkeeping of what a function returned: the instances the sweeper terminated. */
  private observe(functionName: string, payload: unknown): void {
    if (functionName !== this.functions.find((f) => f.path === 'SafetyNets/Sweeper')?.name) return;
    for (const t of (payload as { terminated?: { instanceId: string }[] } | null)?.terminated ?? []) this.sweptInstances.add(t.instanceId);
  }

  /**
   * Step Functions invokes as the state machine's role; a denial fails the task with
   * Lambda.AWSLambdaException and Lambda's AccessDeniedException as its cause (as reported in
   * https://github.com/awslabs/aws-deployment-framework/issues/460).
   */
  private async authorizeInvoke(functionArn: string): Promise<void> {
    const denied = (message: string) => new AwsError('Lambda.AWSLambdaException', `${message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException)`);
    await this.authorizer.authorize(this.deployment.stateMachine.credentials.accessKeyId, invokeChecks(functionArn), { unknownKey: () => denied('unknown role'), denied });
  }

  private async boot(): Promise<void> {
    const { stack, stateMachine } = this.deployment;
    SIMULATED.apiLatencyMs = this.timing.apiLatencyMs ?? 0;
    this.bus.deliveryDelayMs = this.timing.eventDelayMs ?? 0;
    this.bus.msPerSecond = this.timing.msPerSecond;
    this.ssm = new LocalSsm({
      documentName: this.documentName,
      timing: { registerMs: this.timing.registerMs },
      disksDir: path.join(this.dir, 'instances'),
      throttle: new ApiThrottle(SSM_THROTTLING, this.simulatedSeconds),
      onOutput: (id, chunk) => this.hooks.onOutput?.(id, chunk),
      onEvent: (event) => this.bus.put(event as never),
    });
    this.ssm.instanceState = (id) => this.ec2.instances.get(id);
    const chaos = chaosDispatcher(this.jobChaos);
    this.ec2.chaos = chaos;
    this.ssm.chaos = chaos;
    this.codepipeline.chaos = chaos;
    this.ssm.onCommandFault = (jobId, instanceId, what) => applyCommandFault(this, this.jobChaos, jobId, instanceId, what);
    this.s3.clockAheadMs = (key) => {
      const jobId = this.artifactOwners.get(key);
      return (jobId && this.jobChaos.get(jobId)?.storeClockAheadMs?.(jobId)) || 0;
    };
    this.ec2.onStateChange = (instance) => this.ssm.instanceChanged(instance);
    // EC2's own events (state changes, Spot interruption warnings) reach the rules of the template, as on AWS.
    this.ec2.onEvent = (event) => {
      const instance = event['detail-type'] === 'EC2 Instance State-change Notification' ? this.ec2.instances.get(String(event.detail['instance-id'])) : undefined;
      const jobId = instance ? jobOf(instance) : '';
      if (instance && this.jobChaos.get(jobId)?.dropInstanceEvent?.(jobId, String(event.detail.state))) return;
      this.bus.put({ ...event });
    };
    // IAM from the template: every request to the local services, Step Functions' invocations and
    // the build instances' agents are authorized as the role that makes them.
    const resourceState = stackResourceState(stack, (id) => this.ec2.instances.get(id)?.tags ?? null);
    resourceState.secretArn = (id) => this.secrets.arnOf(id);
    this.authorizer = installIamGate(stack, resourceState);
    // The instances the sweeper's own role terminated, from the requests EC2 answered (a sweep that times out or fails
    // after terminating returns no payload to observe): those its request moved out of a live state, not one another
    // caller had already terminated (EC2 answers that request too, with shutting-down or terminated as its previous state).
    AUDIT.onSucceeded = (service, operation, _input, accessKeyId, output) => {
      if (service !== 'EC2' || operation !== 'TerminateInstances') return;
      const sweeper = this.functions.find((f) => f.path === 'SafetyNets/Sweeper');
      if (!sweeper || this.authorizer.roleOf(accessKeyId)?.role !== sweeper.roleLogicalId) return;
      for (const [, id, previous] of output.matchAll(/<instanceId>([^<]+)<\/instanceId>.*?<previousState><code>\d+<\/code><name>([a-z-]+)<\/name>/g)) {
        if (previous !== 'shutting-down' && previous !== 'terminated') this.sweptInstances.add(id);
      }
    };
    for (const [logGroup] of stack.resources('AWS::Logs::LogGroup')) this.logs.createLogGroup(stack.ref(logGroup));
    await authorizeServiceUses(stack, this.authorizer);
    this.ssm.agent = { identity: agentIdentity(stack, this.authorizer, (id) => this.ec2.instances.get(id)?.launchTemplateId ?? null), logs: this.logs };
    // The template's launch templates exist in the simulated account, as the deployment creates them.
    Object.assign(LOCAL_LAUNCH_TEMPLATES, this.deployment.launchTemplates);
    const endpoints: Record<string, string> = {
      CODEPIPELINE: await this.codepipeline.start(),
      // Pipelines run their jobs through the job API above, on this bus and artifact store.
      ...(await (this.user = new UserServices(this.codepipeline, this.bus, this.s3, stack)).start()),
      EC2: await this.ec2.start(),
      SSM: await this.ssm.start(),
      S3: await this.s3.start(),
      DYNAMODB: await this.dynamodb.start(),
      SECRETS_MANAGER: await this.secrets.start(),
    };
    // The template's buckets (the job bucket) exist before anything runs, as CloudFormation creates them first.
    for (const [bucket] of stack.resources('AWS::S3::Bucket')) await this.s3.createBucket(stack.ref(bucket));
    // The template's tables exist before anything runs, as CloudFormation creates them before their users.
    await createTemplateTables(stack, this.dynamodb);
    // Step Functions needs its functions bound when it is built, and the functions need its endpoint:
    // it gets one entry per function of the template (by ARN and by name), resolved at invocation.
    const byKey = new Map<string, DeployedFunction>();
    const stateMachineFunctions: Record<string, LocalFunction> = {};
    for (const [logicalId] of stack.resources('AWS::Lambda::Function')) {
      for (const key of [stack.getAtt(logicalId, 'Arn'), stack.ref(logicalId)]) stateMachineFunctions[key] = async (payload, type = 'RequestResponse') => {
        const fn = byKey.get(key)!;
        await this.authorizeInvoke(fn.arn);
        if (type === 'RequestResponse') return invokeForStateMachine(fn, payload);
        // Queued: retried by Lambda on a function error, recorded when every attempt failed (as a rule's event).
        this.bus.invokeEvent(`state machine (${fn.name})`, { functionName: fn.name, invoke: (event) => fn.lambda.invoke(event, 'Event'), functionRetries: 2 }, payload as Record<string, unknown>);
        return null;
      };
    }
    // The Step Functions SDK integrations run in this process: they read the endpoints from its environment.
    Object.assign(process.env, { AWS_REGION: stack.region });
    for (const [service, url] of Object.entries(endpoints)) process.env[`AWS_ENDPOINT_URL_${service}`] = url;
    this.sfn = new LocalStepFunctions({
      stateMachineArn: this.stateMachineArn,
      definition: stateMachine.definition,
      substitutions: stateMachine.substitutions,
      credentials: stateMachine.credentials,
      functions: stateMachineFunctions,
      msPerSecond: this.timing.msPerSecond,
      invokeMs: this.timing.invokeMs,
      throttle: new ApiThrottle(SFN_THROTTLING, this.simulatedSeconds),
      onEvent: (execution, event) => this.hooks.onState?.(execution, event),
      onExecutionEnd: (e) => {
        const jobId = e.name.slice(0, 36);
        if (this.jobChaos.get(jobId)?.dropExecutionEvent?.(jobId, e.status)) return;
        this.bus.put({
          source: 'aws.states',
          'detail-type': 'Step Functions Execution Status Change',
          resources: [e.executionArn],
          detail: { executionArn: e.executionArn, stateMachineArn: this.stateMachineArn, name: e.name, status: e.status, input: e.input, error: e.error ?? null, cause: e.cause ?? null },
        });
      },
      beforeStart: (name) => {
        const jobId = name.slice(0, 36);
        return this.jobChaos.get(jobId)?.startExecution?.(jobId, this.count(`start:${jobId}`));
      },
      beforeInvoke: (functionName, payload) => {
        const deployed = byKey.get(functionName);
        const fn = deployed ? faultName(deployed) : functionName;
        const jobId = LocalCloud.jobOfPayload(payload);
        return this.jobChaos.get(jobId)?.invoke?.(fn, jobId, this.count(`invoke:${fn}:${jobId}`));
      },
    });
    endpoints.SFN = await this.sfn.start();
    process.env.AWS_ENDPOINT_URL_SFN = endpoints.SFN;
    // Lambda's Invoke API for the functions' own calls (a readiness registration starts the watcher): by name or ARN.
    this.lambdaApi = new LocalLambdaApi(
      (name) => byKey.get(name) ?? this.functions.find((f) => name.endsWith(`:function:${f.name}`)),
      (fn, payload) => this.bus.invokeEvent(`Lambda API (${fn.name})`, { functionName: fn.name, invoke: (event) => fn.lambda.invoke(event, 'Event'), functionRetries: 2 }, payload),
    );
    endpoints.LAMBDA = await this.lambdaApi.start();
    const logLevel = (name: string) => process.env[name] ?? 'SILENT';
    this.functions = deployFunctions(
      stack,
      {
        endpoints,
        region: stack.region,
        // The local S3 serves buckets by path; the runner's log level applies to every function.
        extra: {
          [ENV.s3ForcePathStyle]: 'true',
          POWERTOOLS_LOG_LEVEL: logLevel('POWERTOOLS_LOG_LEVEL'),
          LOG_LEVEL: logLevel('LOG_LEVEL'),
          ...(this.jobTimeouts?.queueMinuteSeconds ? { QUEUE_MINUTE_SECONDS: String(this.jobTimeouts.queueMinuteSeconds) } : {}),
          // A hold on failure's minutes in simulated time (whole seconds, at least 1): a hold runs out within a test.
          HOLD_MINUTE_SECONDS: String(Math.max(1, Math.round((60 * this.timing.msPerSecond) / 1000))),
        },
      },
      (name, value) => {
        if (name === ENV.jobRenewalSeconds && this.jobTimeouts) return String(this.jobTimeouts.renewalSeconds);
        if (!SIMULATED_MS_VARIABLES.includes(name)) return value;
        const scaled = Math.round((Number(value) * this.timing.msPerSecond) / 1000);
        if (name === ENV.watchTickMs) return String(Math.max(MIN_WATCH_TICK_MS, scaled));
        if (name !== ENV.eventGraceMs) return String(scaled);
        this.graceMs = Math.max(MIN_EVENT_GRACE_MS, scaled);
        return String(this.graceMs);
      },
      // A metric line goes to CloudWatch's metrics; any other line is printed, as before.
      (functionName, line) => {
        if (!this.metrics.accept(functionName, line)) process.stdout.write(`${line}\n`);
      },
    );
    for (const fn of this.functions) {
      byKey.set(fn.arn, fn);
      byKey.set(fn.name, fn);
    }
    const rules = eventRules(stack, this.functions, (fn, event) => fn.lambda.invoke(event, 'Event'));
    for (const rule of rules) this.bus.addRule(rule);
    this.bus.onResult = (name, payload) => this.observe(name, payload);
    this.bus.onDropped = (failure) => {
      const record = { functionName: failure.functionName, source: failure.rule, ...failure.error };
      this.functionErrors.push(record);
      this.hooks.onFunctionError?.(record);
    };
    this.bus.startSchedules((rule) => schedulePeriodMs(rule, rules, this.timing.msPerSecond, this.timing.safetyPollMs ?? SAFETY_NET_POLL_MS));
  }

  /** The fleets the template deploys (the refill's FLEETS); none when it has none. */
  get fleets(): Record<string, Fleet> {
    const refill = this.functions.find((f) => f.path === 'Fleets/Refill');
    const variables = refill ? (this.stack.resolve(this.stack.properties(refill.logicalId).Environment) as { Variables?: Record<string, unknown> } | undefined)?.Variables : undefined;
    const raw = variables?.[ENV.fleets];
    return typeof raw === 'string' && raw !== '' ? parseFleets(JSON.parse(raw), ENV.fleets) : {};
  }

  /** Runs the fleets' refill now, as its schedule would, and waits for the run to end. */
  async refillFleets(fleet?: string): Promise<RefillReport> {
    return (await this.invoke(this.functionAt('Fleets/Refill'), fleet ? { fleet } : {})) as RefillReport;
  }

  /** A fleet's pool instances as EC2 and Systems Manager see them: running with the agent online, and stopped. */
  poolCounts(fleet: string): { hot: number; stopped: number } {
    const members = [...this.ec2.instances.values()].filter((i) => i.tags[POOL_TAGS.fleet] === fleet && !i.tags[TAGS.jobId]);
    return {
      hot: members.filter((i) => i.tags[POOL_TAGS.pool] === 'hot' && i.state === 'running' && this.ssm.isOnline(i.instanceId)).length,
      stopped: members.filter((i) => i.tags[POOL_TAGS.pool] === 'stopped' && i.state === 'stopped').length,
    };
  }

  /**
   * Refills until every fleet's pools are at their sizes and the pool table offers them (as a deployed stack's are by
   * the time a pipeline runs: its schedule refills every minute), for at most `timeoutMs` of real time per fleet;
   * returns each fleet's counts and wanted sizes (short of them when the time ran out).
   */
  async fillPools(timeoutMs = 60_000): Promise<Record<string, { hot: number; stopped: number; wanted: { hotPool: number; stoppedPool: number } }>> {
    const names = Object.keys(this.fleets);
    await Promise.all(names.map((name) => fillFleet(this, name, timeoutMs)));
    return Object.fromEntries(names.map((name) => [name, { ...this.poolCounts(name), wanted: poolSizesAt(this.fleets[name], new Date()) }]));
  }

  /** Invokes the poller directly, as a second concurrent EventBridge delivery would. */
  invokePoller(event: Record<string, unknown>): Promise<unknown> {
    return this.invoke(this.functionAt('Poller/Function'), event);
  }

  async stop(): Promise<void> {
    this.bus.stopSchedules();
    removeIamGate();
    delete AUDIT.onSucceeded;
    await this.bus.drain();
    await this.sfn?.stop();
    await Promise.all([...this.functions.map((f) => f.lambda.stop()), this.lambdaApi?.stop(), this.codepipeline.stop(), this.user?.stop(), this.ec2.stop(), this.ssm?.stop(), this.s3.stop(), this.dynamodb.stop(), this.secrets.stop()]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
