import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import * as ec2 from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import * as ssm from '@aws-sdk/client-ssm';
import { StateMachine } from './sfn-interpreter';
import { AwsError } from './aws-error';
import { gated, type ApiThrottle } from './api-throttle';
import { serveJsonProtocol, type LocalServer } from './http';
import { executionHistory } from './sfn-history';
import { withinPayloadQuota } from './sfn-payload';

export const DEFINITION_FILE = path.join(__dirname, '..', '..', 'state-machines', 'build-job.asl.json');
/** The part of the interpreter's event log the runner reads. */
export interface EventLog {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string };
  readonly Error?: string;
  readonly Cause?: unknown;
}

const TOKEN_PLACEHOLDER = '__local-task-token__';

/** A Lambda function as Step Functions invokes it: JSON in, JSON out, errors by name. */
/** A function as a Task state invokes it: RequestResponse resolves with its result; Event once the event is queued. */
export type LocalFunction = (payload: unknown, type?: 'RequestResponse' | 'Event') => Promise<unknown>;

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly events: EventLog[];
  readonly startDate: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
  /** A succeeded execution's output (JSON), as DescribeExecution gives it. */
  output?: string;
  abort?: () => void;
  /** Ends the execution as TIMED_OUT, as its TimeoutSeconds would. */
  timeOut?: () => void;
  /** Each task as it was scheduled: its state and its parameters (the task token filled in), for GetExecutionHistory. */
  readonly tasks?: ScheduledTask[];
  done: Promise<void>;
}

/** A task the execution scheduled (TaskStateEntered, then TaskScheduled in its history). */
export interface ScheduledTask {
  readonly timestamp: number;
  readonly state: string;
  readonly resource: string;
  readonly parameters: string;
}

export interface SfnOptions {
  readonly stateMachineArn: string;
  readonly substitutions: Record<string, string>;
  /** Credentials of the state machine's role, for its AWS SDK integrations; the environment's when absent. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
  /** The state machine's DefinitionString from the synthesized template; the ASL file when absent. */
  readonly definition?: string;
  readonly functions: Record<string, LocalFunction>;
  /** Real milliseconds per simulated second, for Retry pauses. */
  readonly msPerSecond: number;
  /** Added to every Lambda invocation from a Task state, in ms (Lambda's own invoke latency). */
  readonly invokeMs?: number;
  readonly onEvent?: (execution: ExecutionRecord, event: EventLog) => void;
  readonly onExecutionEnd?: (execution: ExecutionRecord) => void;
  /** Chaos hook: an error for StartExecution, or nothing. */
  readonly beforeStart?: (name: string) => AwsError | undefined;
  /** Chaos hook: an error for a Lambda invocation, or nothing. */
  readonly beforeInvoke?: (functionName: string, payload: unknown) => Error | undefined;
  /**
   * The account's Step Functions buckets (./api-throttle.ts, quotas in ./api-quotas.ts): every request to this
   * endpoint takes its token first. The executions' own transitions and tasks run in-process and take none (Step
   * Functions' StateTransition bucket is not modelled); their SDK integrations call EC2 and SSM, which throttle.
   */
  readonly throttle?: ApiThrottle;
}

/** Substitutes ${Name} placeholders as CloudFormation's definitionSubstitutions does. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9]+)\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`no substitution for ${whole}`);
    return values[name];
  });
}

function sdkErrorName(service: string, err: unknown): Error {
  const e = err as { name?: string; message?: string };
  // Step Functions names SDK integration errors <Service>.<Exception>; EC2's unmodelled codes are Ec2.Ec2Exception.
  const svc = service === 'ec2' ? 'Ec2' : service[0].toUpperCase() + service.slice(1);
  const exception = service === 'ec2' ? 'Ec2Exception' : e.name ?? 'Exception';
  const error = new Error(`${e.message ?? ''} (Service: ${svc}, Error Code: ${e.name ?? 'Unknown'})`);
  error.name = `${svc}.${exception}`;
  return error;
}

/**
 * Step Functions, locally: StartExecution (named, idempotent, ExecutionAlreadyExists),
 * SendTaskSuccess, DescribeExecution and StopExecution, with executions of the real
 * build-job.asl.json run by aws-local-stepfunctions. Every Task state is bound here by its
 * Resource (Lambda invoke, or an AWS SDK integration through the real SDK to the local
 * endpoints); an unknown Resource is refused before anything runs.
 */
export class LocalStepFunctions {
  readonly executions = new Map<string, ExecutionRecord>();
  private machine?: StateMachine;
  /** Each execution's scheduled tasks, from before its first task runs (the interpreter may call it at once). */
  private readonly taskLogs = new Map<string, ScheduledTask[]>();
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; execution: string; state: string }>();
  private readonly definition: Record<string, unknown>;
  private server?: LocalServer;
  private readonly clients: { ec2: EC2Client; ssm: SSMClient };

  constructor(private readonly options: SfnOptions) {
    // The SDK integrations sign as the state machine's role, as Step Functions does.
    this.clients = { ec2: new EC2Client({ credentials: options.credentials }), ssm: new SSMClient({ credentials: options.credentials }) };
    this.definition = JSON.parse(substitute(options.definition ?? fs.readFileSync(DEFINITION_FILE, 'utf8'), options.substitutions)) as Record<string, unknown>;
    for (const [name, state] of this.taskStates()) this.bind(name, state.Resource, state.Parameters);
  }

  /** The account's Step Functions buckets, if throttled (a fault may spend them as another client would). */
  get throttle(): ApiThrottle | undefined {
    return this.options.throttle;
  }

  async start(): Promise<string> {
    // An operation without a quota refuses to start (ApiThrottle.gate), so none goes unthrottled.
    this.server = await serveJsonProtocol('StepFunctions', gated(this.throttle, {
      StartExecution: (b) => this.startExecution(b),
      SendTaskSuccess: (b) => this.sendTaskSuccess(b),
      SendTaskFailure: (b) => this.sendTaskFailure(b),
      DescribeExecution: (b) => this.describeExecution(b),
      StopExecution: (b) => this.stopExecution(b),
      ListExecutions: (b) => this.listExecutions(b),
      GetExecutionHistory: (b) => this.getExecutionHistory(b),
    }), 'application/x-amz-json-1.0');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    for (const e of this.executions.values()) e.abort?.();
    await this.server?.close();
  }

  private taskStates(): [string, { Resource: string; Parameters?: Record<string, unknown>; Retry?: { IntervalSeconds?: number }[] }][] {
    const states = this.definition.States as Record<string, { Type: string; Resource: string }>;
    return Object.entries(states).filter(([, s]) => s.Type === 'Task');
  }

  /** Throws for a Task whose Resource this local runtime cannot run: nothing may call real AWS. */
  private bind(name: string, resource: string, parameters?: Record<string, unknown>): void {
    const fn = parameters?.FunctionName;
    if (/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/.test(resource) && typeof fn === 'string' && this.options.functions[fn]) return;
    if (/^arn:aws:states:::aws-sdk:(ec2|ssm):[a-zA-Z]+(\.waitForTaskToken)?$/.test(resource)) return;
    throw new Error(`Task state "${name}" uses ${resource}${fn ? ` (${String(fn)})` : ''}, which the local runtime does not bind`);
  }

  private handlers(executionArn: string): Record<string, (input: unknown) => Promise<unknown>> {
    const out: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of this.taskStates()) out[name] = async (input) => withinPayloadQuota(name, await this.runTask(executionArn, state.Resource, input as Record<string, unknown>, name));
    return out;
  }

  /**
   * A .waitForTaskToken task's token, filled into its parameters where $$.Task.Token was. The task
   * waits until SendTaskSuccess names the token; once its state has ended (a timeout among others)
   * the token is refused, as Step Functions refuses it (TaskTimedOut).
   */
  private awaitToken(executionArn: string, state: string, input: Record<string, unknown>): { params: Record<string, unknown>; callback: Promise<unknown> } {
    const token = `${randomBytes(48).toString('base64url')}`;
    const params = JSON.parse(JSON.stringify(input).split(TOKEN_PLACEHOLDER).join(token)) as Record<string, unknown>;
    const callback = new Promise((resolve, reject) => this.waiting.set(token, { resolve, reject, execution: executionArn, state }));
    // The execution can end (stopped, timed out) while the task's call is still in flight, before anyone awaits the
    // callback: its rejection then is not an unhandled one (the task's own await still sees it).
    callback.catch(() => undefined);
    return { params, callback };
  }

  /** Records the task in the execution's history, with its parameters as sent. */
  private scheduled(executionArn: string, state: string, resource: string, parameters: unknown): void {
    this.taskLogs.get(executionArn)?.push({ timestamp: Date.now(), state, resource, parameters: JSON.stringify(parameters) });
  }

  private async runTask(executionArn: string, resource: string, input: Record<string, unknown>, state = ''): Promise<unknown> {
    if (resource.startsWith('arn:aws:states:::lambda:invoke')) {
      const fn = this.options.functions[String(input.FunctionName)];
      const waitsForToken = resource.endsWith('.waitForTaskToken');
      const pending = waitsForToken ? this.awaitToken(executionArn, state, input) : undefined;
      if (pending) input = pending.params;
      this.scheduled(executionArn, state, resource, input);
      const payload = JSON.parse(JSON.stringify(input.Payload ?? {})) as unknown;
      // InvocationType Event: Lambda queues the event and answers 202 with an empty payload at once; the task does
      // not wait for the function (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html,
      // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
      if (input.InvocationType === 'Event' && !pending) {
        if (this.options.invokeMs) await new Promise((r) => setTimeout(r, this.options.invokeMs));
        await fn(payload, 'Event');
        return { StatusCode: 202, Payload: '' };
      }
      let result: unknown;
      try {
        if (this.options.invokeMs) await new Promise((r) => setTimeout(r, this.options.invokeMs));
        const injected = this.options.beforeInvoke?.(String(input.FunctionName), payload);
        if (injected) throw injected;
        result = await fn(payload);
      } catch (err) {
        const e = err as Error & { functionError?: unknown };
        // The Lambda integration raises the function's errorType as the error, its whole error payload as the Cause.
        const error = new Error(JSON.stringify(e.functionError ?? { errorType: e.name, errorMessage: e.message }));
        error.name = e.name || 'Error';
        throw error;
      }
      // lambda:invoke.waitForTaskToken: the function's own result is not the task's; the token's output is.
      if (pending) return pending.callback;
      return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: JSON.parse(JSON.stringify(result ?? null)) as unknown };
    }
    const [, service, action, pattern] = resource.match(/^arn:aws:states:::aws-sdk:(ec2|ssm):([a-zA-Z]+)(\.waitForTaskToken)?$/) ?? [];
    let params = input;
    let callback: Promise<unknown> | undefined;
    if (pattern) ({ params, callback } = this.awaitToken(executionArn, state, input));
    this.scheduled(executionArn, state, resource, params);
    const commandName = `${action[0].toUpperCase()}${action.slice(1)}Command`;
    const module = (service === 'ec2' ? ec2 : ssm) as unknown as Record<string, new (i: unknown) => never>;
    const client = this.clients[service as 'ec2' | 'ssm'] as unknown as { send: (c: unknown) => Promise<Record<string, unknown>> };
    let output: Record<string, unknown>;
    try {
      output = await client.send(new module[commandName](params));
    } catch (err) {
      throw sdkErrorName(service, err);
    }
    delete output.$metadata;
    return callback ? callback : output;
  }

  private startExecution(body: Record<string, unknown>) {
    if (body.stateMachineArn !== this.options.stateMachineArn) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
    const name = String(body.name ?? randomBytes(16).toString('hex'));
    const fault = this.options.beforeStart?.(name);
    if (fault) throw fault;
    const input = String(body.input ?? '{}');
    const executionArn = `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.input === input && existing.status === 'RUNNING') return { executionArn, startDate: existing.startDate.getTime() / 1000 };
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record = this.launch(executionArn, name, input);
    return { executionArn, startDate: record.startDate.getTime() / 1000 };
  }

  private launch(executionArn: string, name: string, input: string): ExecutionRecord {
    // Validated once (asl-validator compiles its schemas each time: the bulk of a job's CPU otherwise).
    this.machine ??= new StateMachine(this.definition as never, { validationOptions: { checkArn: false } });
    const machine = this.machine;
    const retryIntervalOverrides: Record<string, number[]> = {};
    for (const [stateName, state] of this.taskStates()) {
      retryIntervalOverrides[stateName] = (state.Retry ?? []).map((r) => (r.IntervalSeconds ?? 1) * this.options.msPerSecond);
    }
    const startDate = new Date();
    const tasks: ScheduledTask[] = [];
    this.taskLogs.set(executionArn, tasks);
    const parsed = JSON.parse(input) as Parameters<StateMachine["run"]>[0];
    const run = machine.run(parsed, {
      overrides: { taskResourceLocalHandlers: this.handlers(executionArn) as never, retryIntervalOverrides },
      context: { Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString(), Input: parsed }, Task: { Token: TOKEN_PLACEHOLDER } },
    });
    const record: ExecutionRecord = { executionArn, name, input, status: 'RUNNING', events: [], tasks, startDate, abort: run.abort, done: Promise.resolve() };
    let endAs: ExecutionRecord['status'] | null = null;
    record.abort = () => {
      endAs = endAs ?? 'ABORTED';
      run.abort();
    };
    record.timeOut = () => {
      endAs = 'TIMED_OUT';
      run.abort();
    };
    this.executions.set(executionArn, record);
    const logging = (async () => {
      for await (const event of run.eventLogs) {
        record.events.push(event);
        this.endTokens(executionArn, event);
        this.options.onEvent?.(record, event);
      }
    })();
    record.done = (async () => {
      try {
        record.output = JSON.stringify(await run.result);
        record.status = 'SUCCEEDED';
      } catch (err) {
        const e = err as Error;
        record.status = endAs ?? (e.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED');
        const caught = (e.cause ?? e) as Error;
        record.error = endAs === 'TIMED_OUT' ? 'States.Timeout' : endAs === 'ABORTED' ? record.error ?? 'Aborted' : caught.name;
        record.cause = endAs ? record.cause ?? e.message : caught.message;
      }
      await logging.catch(() => undefined);
      record.stopDate = new Date();
      // A task still waiting for its token ends with its execution (and lets go of its timers).
      for (const [token, w] of this.waiting) {
        if (w.execution !== executionArn) continue;
        this.waiting.delete(token);
        w.reject(Object.assign(new Error(`execution ${record.status}`), { name: 'States.Runtime' }));
      }
      this.options.onExecutionEnd?.(record);
    })();
    return record;
  }

  /** A state that failed (its timeout among others) or exited no longer waits for its tokens. */
  private endTokens(executionArn: string, event: EventLog): void {
    if ((event.type !== 'StateFailed' && event.type !== 'StateExited') || !event.state) return;
    for (const [token, w] of this.waiting) if (w.execution === executionArn && w.state === event.state.name) this.waiting.delete(token);
  }

  private sendTaskSuccess(body: Record<string, unknown>) {
    const token = String(body.taskToken);
    const waiter = this.waiting.get(token);
    if (!waiter) throw new AwsError('TaskTimedOut', 'Task Timed Out: the task for this token has already ended');
    this.waiting.delete(token);
    waiter.resolve(JSON.parse(String(body.output ?? 'null')));
    return {};
  }

  /**
   * Fails the task waiting on the token with `error` and `cause`, which its Catch matches as any task error
   * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html); a token whose task has
   * ended is refused as SendTaskSuccess refuses it.
   */
  private sendTaskFailure(body: Record<string, unknown>) {
    const token = String(body.taskToken);
    const waiter = this.waiting.get(token);
    if (!waiter) throw new AwsError('TaskTimedOut', 'Task Timed Out: the task for this token has already ended');
    this.waiting.delete(token);
    waiter.reject(Object.assign(new Error(String(body.cause ?? '')), { name: String(body.error ?? '') }));
    return {};
  }

  private describeExecution(body: Record<string, unknown>) {
    const e = this.executions.get(String(body.executionArn));
    if (!e) throw new AwsError('ExecutionDoesNotExist', 'Execution Does Not Exist');
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html: an ended execution has its stopDate, error and cause,
    // a succeeded one its output.
    const ended = e.stopDate
      ? { stopDate: e.stopDate.getTime() / 1000, ...(e.error ? { error: e.error } : {}), ...(e.cause ? { cause: e.cause } : {}), ...(e.output !== undefined ? { output: e.output } : {}) }
      : {};
    return { executionArn: e.executionArn, name: e.name, status: e.status, startDate: e.startDate.getTime() / 1000, input: e.input, ...ended };
  }

  private stopExecution(body: Record<string, unknown>) {
    const e = this.executions.get(String(body.executionArn));
    if (!e) throw new AwsError('ExecutionDoesNotExist', 'Execution Does Not Exist');
    if (e.status === 'RUNNING') {
      e.error = String(body.error ?? 'Aborted');
      e.cause = String(body.cause ?? '');
      e.abort?.();
    }
    return { stopDate: Date.now() / 1000 };
  }

  private listExecutions(body: Record<string, unknown>) {
    const status = body.statusFilter as string | undefined;
    const executions = [...this.executions.values()]
      .filter((e) => !status || e.status === status)
      // "Results are sorted by time, with the most recent execution first" (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html).
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((e) => ({
        executionArn: e.executionArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate.getTime() / 1000,
        ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
        stateMachineArn: this.options.stateMachineArn,
      }));
    return { executions };
  }

  /** The execution's history: its states' exits and its tasks as Step Functions records them (./sfn-history.ts). */
  private getExecutionHistory(body: Record<string, unknown>) {
    const e = this.executions.get(String(body.executionArn));
    if (!e) throw new AwsError('ExecutionDoesNotExist', 'Execution Does Not Exist');
    return executionHistory(e, this.definition.States as Record<string, { Type: string }>, body, this.options.stateMachineArn.split(':')[3]);
  }
}
