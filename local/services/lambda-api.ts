import * as http from 'node:http';
import type { DeployedFunction } from '../lambda/functions';
import { ASYNC_PAYLOAD_LIMIT, LambdaServiceError, type InvokeOutcome } from '../lambda/invoker';
import { AwsError } from './aws-error';
import { accessKeyOf, GATE, listen, METER, pause, readBody, type LocalServer } from './http';

/**
 * Lambda's Invoke API, as the functions' own SDK clients call it (POST /2015-03-31/functions/{FunctionName}/invocations,
 * X-Amz-Invocation-Type Event | RequestResponse | DryRun: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html),
 * authorized as the caller's role (lambda:InvokeFunction on the function) and metered like every other call.
 * Event: queued and answered 202 at once (the queue retries a function error, as Lambda's asynchronous invocation does);
 * RequestResponse: the function's result, or its error with X-Amz-Function-Error: Unhandled; DryRun: 204.
 */
export class LocalLambdaApi {
  private server?: LocalServer;

  constructor(
    /** The template's function a FunctionName (name, ARN or partial ARN) names. */
    private readonly resolve: (functionName: string) => DeployedFunction | undefined,
    /** Lambda's asynchronous queue: runs the invocation later, with Lambda's retries. */
    private readonly enqueue: (fn: DeployedFunction, payload: Record<string, unknown>) => void,
    private readonly region = 'us-east-1',
    private readonly account = '000000000000',
  ) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.answer(req, res));
    this.server = await listen(server);
    return this.server.endpoint;
  }

  /** The ARN a FunctionName stands for: itself when it is one, else a function of this account and Region. */
  private arnOf(name: string): string {
    return name.startsWith('arn:') ? name : `arn:aws:lambda:${this.region}:${this.account}:function:${name}`;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const fail = (e: AwsError) => {
      res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.code });
      res.end(JSON.stringify({ Type: e.status >= 500 ? 'Service' : 'User', message: e.message }));
    };
    try {
      const match = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(\?.*)?$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) throw new AwsError('UnknownOperationException', `Lambda (local) does not implement ${req.method} ${req.url}`, 404);
      METER.onCall?.('Lambda', 'Invoke');
      const body = await readBody(req);
      await pause();
      const name = decodeURIComponent(match[1]);
      const fn = this.resolve(name);
      // IAM first, as AWS evaluates it: a caller without the right learns nothing of whether the function exists.
      await GATE.authorize?.({ service: 'Lambda', operation: 'Invoke', input: { FunctionName: fn?.arn ?? this.arnOf(name) }, accessKeyId: accessKeyOf(req) });
      // Lambda names the function it could not find by its whole ARN.
      if (!fn) throw new AwsError('ResourceNotFoundException', `Function not found: ${this.arnOf(name)}`, 404);
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (!['Event', 'RequestResponse', 'DryRun'].includes(type)) {
        throw new AwsError('InvalidParameterValueException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`, 400);
      }
      let payload: unknown;
      try {
        payload = body === '' ? {} : JSON.parse(body);
      } catch {
        throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json', 400);
      }
      if (type === 'DryRun') {
        res.writeHead(204).end();
        return;
      }
      if (type === 'Event') {
        if (Buffer.byteLength(body) > ASYNC_PAYLOAD_LIMIT) throw new AwsError('RequestTooLargeException', `Request must be smaller than ${ASYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`, 413);
        this.enqueue(fn, payload as Record<string, unknown>);
        res.writeHead(202).end();
        return;
      }
      const outcome: InvokeOutcome = await fn.lambda.invoke(payload, 'RequestResponse');
      if ('error' in outcome) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify(outcome.error));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
      res.end(JSON.stringify(outcome.payload ?? null));
    } catch (err) {
      if (err instanceof LambdaServiceError) fail(new AwsError(err.code, err.message, err.statusCode));
      else fail(err instanceof AwsError ? err : new AwsError('ServiceException', String(err), 500));
    }
  }
}
