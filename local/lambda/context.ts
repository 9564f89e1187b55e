import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface ContextOptions {
  /** The function's name, as Lambda reports it. */
  readonly functionName: string;
  /** The function's timeout, in ms: getRemainingTimeInMillis counts down from it. */
  readonly timeoutMs?: number;
  readonly memoryMB?: number;
  readonly region?: string;
  readonly accountId?: string;
  /** The invocation's request id (the invoker sets it, to name it in a timeout message); a fresh UUID otherwise. */
  readonly awsRequestId?: string;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/**
 * A context object shaped like the one the Node.js runtime passes as a handler's second argument
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html): the tests and the local cloud
 * call handlers with it, as Lambda does.
 */
export function lambdaContext(options: ContextOptions): Context {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 30_000);
  const region = options.region ?? 'us-east-1';
  const account = options.accountId ?? '000000000000';
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name} is a callback-style API this project's handlers must not use`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMB ?? 256),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${new Date(now()).toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
