import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { lambdaContext } from './context';

/**
 * One execution environment of one function, inside its own worker thread: its own module
 * instances, SDK clients and process.env, as on Lambda. The invoker (invoker.ts) sends one event
 * at a time; this side loads the bundle at the first one (Lambda's init phase), calls the handler
 * with (event, context, callback) and answers with the JSON text of the result or Lambda's error
 * shape. Bundled by esbuild at run time (see invoker.ts), so it imports nothing it cannot carry.
 */

export interface WorkerConfig {
  /** The function's code folder (the asset) and its Handler setting, e.g. "index.handler". */
  readonly codeDir: string;
  readonly handler: string;
  readonly functionName: string;
  readonly timeoutMs: number;
  readonly memoryMB: number;
  readonly region: string;
  readonly accountId: string;
}

export interface InvokeMessage {
  readonly id: number;
  readonly requestId: string;
  /** The event as JSON text: the handler gets JSON.parse of it, as on Lambda. */
  readonly event: string;
}

export interface FunctionError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];
}

/** `ended`: the environment is going away (Lambda starts a fresh one for the next invocation). */
export type ReplyMessage = { readonly id: number; readonly payload: string } | { readonly id: number; readonly error: FunctionError; readonly ended?: boolean };

type Handler = (event: unknown, context: unknown, callback: (...args: unknown[]) => void) => unknown;

const config = workerData as WorkerConfig;

// The functions run on nodejs22.x on Lambda; the SDK's warning about this machine's older Node would
// otherwise be printed once by every execution environment.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(typeof warning === 'string' ? warning : warning.message).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
});
let loaded: Promise<Handler> | undefined;

/** The Node.js runtime's handler resolution: "<file>.<export>", the file .js, .mjs or .cjs under the code folder. */
async function load(): Promise<Handler> {
  const dot = config.handler.lastIndexOf('.');
  const base = path.join(config.codeDir, config.handler.slice(0, dot));
  const name = config.handler.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) throw Object.assign(new Error(`Cannot find module '${config.handler.slice(0, dot)}'`), { name: 'Runtime.ImportModuleError' });
  const mod = (file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : createRequire(file)(file)) as Record<string, unknown>;
  const handler = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
  if (typeof handler !== 'function') throw Object.assign(new Error(`${config.handler} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return handler as Handler;
}

/** Lambda's error shape: https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html */
export function functionError(err: unknown): FunctionError {
  if (err instanceof Error) return { errorType: err.name || 'Error', errorMessage: err.message, trace: String(err.stack ?? '').split('\n') };
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

async function invoke(message: InvokeMessage): Promise<ReplyMessage> {
  try {
    // An init that failed runs again at the next invocation, as Lambda starts a fresh environment.
    loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    });
    const handler = await loaded;
    const context = lambdaContext({
      functionName: config.functionName,
      timeoutMs: config.timeoutMs,
      memoryMB: config.memoryMB,
      region: config.region,
      accountId: config.accountId,
      awsRequestId: message.requestId,
    });
    // The runtime still passes a callback; this project's handlers are async and must not use it.
    const callback = () => {
      throw new Error('the callback argument is not supported: handlers return a promise');
    };
    const result = await handler(JSON.parse(message.event), context, callback);
    // An undefined result reaches the caller as null, as Lambda's JSON response does.
    return { id: message.id, payload: JSON.stringify(result) ?? 'null' };
  } catch (err) {
    return { id: message.id, error: functionError(err) };
  }
}

let current: InvokeMessage | undefined;

parentPort!.on('message', (message: InvokeMessage) => {
  current = message;
  void invoke(message).then((reply) => {
    current = undefined;
    parentPort!.postMessage(reply);
  });
});

// The Node.js runtime installs its own unhandledRejection handler (Sentry's Lambda guide says so:
// https://docs.sentry.io/platforms/javascript/guides/aws-lambda/configuration/integrations/unhandledrejection):
// it fails the invocation and ends the environment. The errorType is not in AWS's docs; this is the
// runtime interface client's. Callers only rely on the invocation failing, so either name works.
process.on('unhandledRejection', (reason) => {
  const { errorMessage, trace } = functionError(reason);
  if (current) parentPort!.postMessage({ id: current.id, error: { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: `${reason instanceof Error ? reason.name : 'Error'}: ${errorMessage}`, trace }, ended: true });
  process.exit(128);
});
