import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { ConcurrencyLimitExceeded, LAMBDA_ACCOUNT, type AccountConcurrency } from './account-concurrency';
import type { FunctionError, InvokeMessage, ReplyMessage, WorkerConfig } from './worker';

export type { FunctionError } from './worker';

/**
 * Lambda's invocation payload quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
 * and the Invoke API reference https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: "For synchronous
 * invocations, the maximum payload size is 6 MB. For asynchronous invocations, the maximum payload size is
 * 1 MB."). Older pages give 256 KB for asynchronous invocation; the stricter figure would only matter for an
 * EventBridge event, which EventBridge itself caps at 256 KB, so either answer gives the same result here.
 */
/** Environments one function keeps at most on this machine by default (see LocalLambda.acquire). */
export const MAX_ENVIRONMENTS = 4;
/**
 * The cap in force. A run whose invocations mostly wait on timers (the scale benchmark's readiness watchers) raises
 * it, so that invocations AWS would run at once do not queue here behind a few workers (and hold the account's
 * concurrency while they queue: account-concurrency.ts counts them from their admission).
 */
export const ENVIRONMENTS = { perFunction: MAX_ENVIRONMENTS };

export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

/** RequestResponse: Step Functions' lambda:invoke. Event: EventBridge targets and schedules. */
export type InvocationType = 'RequestResponse' | 'Event';

/** What Invoke answers: the function's JSON result, or its error in Lambda's shape (a "function error"). */
export type InvokeOutcome = { readonly payload: unknown } | { readonly error: FunctionError };

/** An error of the Invoke API itself (the function never ran), named as Lambda's API names it. */
export class LambdaServiceError extends Error {
  constructor(
    readonly code: 'RequestTooLargeException' | 'ResourceNotFoundException' | 'TooManyRequestsException',
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = code;
  }
}

/** One function of the template, as the invoker runs it. */
export interface FunctionSpec {
  /** The function's name and ARN, as Lambda reports them. */
  readonly name: string;
  readonly arn: string;
  /** The folder of its code (the synthesized asset) and its Handler, e.g. "index.handler". */
  readonly codeDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMB: number;
  /** Its whole environment: the function's own variables plus those Lambda sets (environment.ts). */
  readonly env: Record<string, string>;
  readonly region: string;
  readonly accountId: string;
  /**
   * Where each line the function prints to standard output goes: on Lambda, to its log group, where CloudWatch
   * extracts the embedded-metric-format lines as metrics. By default, this process's standard output.
   */
  readonly output?: (line: string) => void;
}

const printLine = (line: string) => process.stdout.write(`${line}\n`);

let workerCode: string | undefined;

/** worker.ts as one script: worker threads run JavaScript, and the runner itself may be run from TypeScript. */
function compiledWorker(): string {
  workerCode ??= buildSync({ entryPoints: [path.join(__dirname, 'worker.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' })
    .outputFiles[0].text;
  return workerCode;
}

/** The text of an error Lambda reports for a timeout; the API docs do not spell it out, this is what the runtime logs and returns. */
export function timeoutError(requestId: string, timeoutSeconds: number): FunctionError {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, trace: [] };
}

/** One execution environment: a worker thread that runs one invocation at a time. */
class Environment {
  private readonly worker: Worker;
  private pending?: { id: number; resolve: (r: ReplyMessage | FunctionError) => void };
  /** Settles once everything the function printed has been taken (its standard output ended). */
  private readonly printed: Promise<void>;
  dead = false;

  constructor(spec: FunctionSpec) {
    const config: WorkerConfig = {
      codeDir: spec.codeDir,
      handler: spec.handler,
      functionName: spec.name,
      timeoutMs: spec.timeoutSeconds * 1000,
      memoryMB: spec.memoryMB,
      region: spec.region,
      accountId: spec.accountId,
    };
    // The function's memory bounds the heap, as its MemorySize bounds the whole environment on Lambda.
    this.worker = new Worker(compiledWorker(), { eval: true, workerData: config, env: { ...spec.env }, stdout: true, resourceLimits: { maxOldGenerationSizeMb: spec.memoryMB } });
    this.worker.unref();
    // Line by line, as Lambda makes a log event of each line the function writes.
    const lines = createInterface({ input: this.worker.stdout, crlfDelay: Infinity }).on('line', spec.output ?? printLine);
    this.printed = new Promise((resolve) => lines.once('close', resolve));
    const die = (errorType: string, errorMessage: string) => {
      this.dead = true;
      this.pending?.resolve({ errorType, errorMessage, trace: [] });
      this.pending = undefined;
    };
    this.worker.on('message', (reply: ReplyMessage) => {
      if (reply.id !== this.pending?.id) return;
      const { resolve } = this.pending;
      this.pending = undefined;
      resolve(reply);
    });
    // An exception outside the handler's promise (an unhandled rejection, a throw in a timer) ends the environment.
    this.worker.on('error', (err) => die(err.name === 'Error' ? 'Runtime.ExitError' : `Runtime.${err.name}`, err.message));
    this.worker.on('exit', (code) => die('Runtime.ExitError', `RequestId: exited with status ${code}`));
  }

  run(message: InvokeMessage): Promise<ReplyMessage | FunctionError> {
    return new Promise((resolve) => {
      if (this.dead) return resolve({ errorType: 'Runtime.ExitError', errorMessage: 'the execution environment has ended', trace: [] });
      this.pending = { id: message.id, resolve };
      this.worker.postMessage(message);
    });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
    // What it printed before it ended is still on its way (a metric line written just before its result): taken
    // before the environment counts as gone, within a second (a stream that never ends must not hold up a stop).
    await Promise.race([this.printed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
}

/**
 * One function as Lambda runs it: each concurrent invocation in its own execution environment
 * (a worker thread with its own modules, SDK clients and environment variables), reused for later
 * invocations, discarded after a timeout or a crash. The event and the result cross as JSON text.
 */
export class LocalLambda {
  private readonly idle: Environment[] = [];
  private readonly all = new Set<Environment>();
  /** Invocations waiting for an environment while ENVIRONMENTS.perFunction are busy. */
  private readonly waiting: ((env: Environment) => void)[] = [];
  private nextId = 0;
  private stopped = false;

  /** `account`: whose concurrent executions its invocations count against (account-concurrency.ts). */
  constructor(
    readonly spec: FunctionSpec,
    private readonly account: AccountConcurrency = LAMBDA_ACCOUNT,
  ) {}

  /**
   * An idle environment, a new one, or, when ENVIRONMENTS.perFunction are busy, the next one freed. On AWS
   * the account's 1,000 concurrent executions would run them all at once; this machine has two
   * cores, and a worker per concurrent invocation spent them on starting workers. Waiting here is
   * slower than AWS, never more lenient: nothing is throttled or lost.
   */
  private acquire(): Promise<Environment> {
    let env = this.idle.pop();
    while (env?.dead) env = this.idle.pop();
    if (env) return Promise.resolve(env);
    if (this.stopped) return Promise.reject(new LambdaServiceError('ResourceNotFoundException', `Function not found: ${this.spec.name} (the local cloud stopped)`, 404));
    if (this.all.size < ENVIRONMENTS.perFunction) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(env: Environment): void {
    const next = this.waiting.shift();
    if (next) next(env);
    else this.idle.push(env);
  }

  async invoke(event: unknown, type: InvocationType = 'RequestResponse'): Promise<InvokeOutcome> {
    const limit = type === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
    const body = JSON.stringify(event) ?? 'null';
    const size = Buffer.byteLength(body);
    if (size > limit) {
      throw new LambdaServiceError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
    }
    try {
      await this.account.enter(this.spec.name, type === 'RequestResponse');
    } catch (err) {
      if (!(err instanceof ConcurrencyLimitExceeded)) throw err;
      // Lambda's own message is "Rate Exceeded."; its Reason says why (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
      throw new LambdaServiceError('TooManyRequestsException', `Rate Exceeded. (Reason: ConcurrentInvocationLimitExceeded: the account's ${err.limit} concurrent executions are in use)`, 429);
    }
    try {
      return await this.run(body, type);
    } finally {
      this.account.leave(this.spec.name);
    }
  }

  /** One admitted invocation, in an execution environment of its own. */
  private async run(body: string, type: InvocationType): Promise<InvokeOutcome> {
    const requestId = randomUUID();
    const env = await this.acquire();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.spec.timeoutSeconds * 1000)));
    const reply = await Promise.race([env.run({ id: this.nextId++, requestId, event: body }), timedOut]);
    clearTimeout(timer);
    if (reply === 'timeout') {
      // Lambda stops a timed-out environment; the next invocation starts a fresh one.
      this.discard(env);
      return { error: timeoutError(requestId, this.spec.timeoutSeconds) };
    }
    if (!('id' in reply) || ('ended' in reply && reply.ended)) {
      this.discard(env);
      return { error: 'id' in reply ? reply.error : reply };
    }
    this.release(env);
    if ('error' in reply) return { error: reply.error };
    // The response quota applies to what the synchronous caller receives; an asynchronous result is discarded.
    if (type === 'RequestResponse' && Buffer.byteLength(reply.payload) > SYNC_PAYLOAD_LIMIT) {
      return { error: { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`, trace: [] } };
    }
    return { payload: JSON.parse(reply.payload) };
  }

  private spawn(): Environment {
    const env = new Environment(this.spec);
    this.all.add(env);
    return env;
  }

  private discard(env: Environment): void {
    this.all.delete(env);
    void env.terminate();
    const next = this.waiting.shift();
    if (next && !this.stopped) next(this.spawn());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.idle.length = 0;
    await Promise.all([...this.all].map((e) => e.terminate()));
    this.all.clear();
  }
}
