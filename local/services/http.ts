import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError } from './aws-error';
import { validateQueryRequest, validateRequest } from './validate';

/**
 * Simulated network and service time added to every AWS API call answered here, in ms. Zero for
 * tests; the benchmark sets it (and states it) so that measured overheads include AWS's latency.
 */
export const SIMULATED = { apiLatencyMs: 0 };

/** A request as the gate sees it: who signed it, which operation, with what input. */
export interface GatedCall {
  readonly service: string;
  readonly operation: string;
  readonly input: Record<string, unknown> | URLSearchParams;
  /** The access key id of the request's signature; null when unsigned. */
  readonly accessKeyId: string | null;
}

/**
 * The one seam every local service answers through: who is calling and whether that principal may
 * (the local cloud installs its IAM gate here), then whether the request is well formed, then the
 * service's own behaviour.
 */
export const GATE: { authorize?: (call: GatedCall) => Promise<void> } = {};

/**
 * Told of every request a local service receives, before the gate: a throttled or refused call counts against an
 * API's rate as on AWS (the benchmark's API budget, api-meter.ts, installs itself here).
 */
export const METER: { onCall?: (service: string, operation: string) => void } = {};

/**
 * Told of every EC2 request that succeeded, with the access key that signed it and the answer, as CloudTrail records who
 * called and what came of it: the local cloud counts the instances the sweeper's own role terminated (the runner's
 * swept count) from it, whatever became of the sweeper's invocation afterwards (a run that times out or fails after
 * terminating returns nothing).
 */
export const AUDIT: { onSucceeded?: (service: string, operation: string, input: URLSearchParams, accessKeyId: string | null, output: string) => void } = {};

/** The access key id a request is signed with (its Authorization header's Credential), or null. */
export function accessKeyOf(req: http.IncomingMessage): string | null {
  const m = String(req.headers.authorization ?? '').match(/Credential=([^/,\s]+)\//);
  return m ? m[1] : null;
}

/** The simulated latency of an AWS API call (SIMULATED.apiLatencyMs). */
export const pause = () => (SIMULATED.apiLatencyMs > 0 ? new Promise((r) => setTimeout(r, SIMULATED.apiLatencyMs)) : Promise.resolve());

/** An operation answers with its output or a promise of it (`unknown` covers both). */
export type Operation = (body: Record<string, unknown>) => unknown;

/** A request's whole body, as text. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface LocalServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Listens on a free 127.0.0.1 port. */
export async function listen(server: http.Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * A local endpoint for an AWS JSON-protocol service (X-Amz-Target: Prefix.Operation), so the real
 * SDK clients and their serializers talk to it. Errors carry AWS's own codes.
 */
export function serveJsonProtocol(name: string, operations: Record<string, Operation>, contentType: string): Promise<LocalServer> {
  // void: the server ignores a listener's promise; this one answers every error itself (the catch).
  const server = http.createServer((req, res) => void (async () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.slice(target.indexOf('.') + 1);
    METER.onCall?.(name, op);
    const reply = (status: number, payload: unknown, errorType?: string) => {
      res.writeHead(status, { 'content-type': contentType, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      res.end(JSON.stringify(payload));
    };
    try {
      const body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      await pause();
      const handler = operations[op];
      if (!handler) throw new AwsError('UnknownOperationException', `${name} (local) does not implement ${op}`);
      await GATE.authorize?.({ service: name, operation: op, input: body, accessKeyId: accessKeyOf(req) });
      validateRequest(name, op, body);
      reply(200, (await handler(body)) ?? {});
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError('InternalFailure', String(err), 500);
      reply(e.status, { __type: e.code, message: e.message }, e.code);
    }
  })());
  return listen(server);
}

/**
 * The error bodies of the two Query protocols: EC2's `<Response><Errors><Error>` and the awsQuery
 * services' (IAM, CloudFormation) `<ErrorResponse><Error><Type>` (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
 */
function queryErrorXml(style: 'ec2' | 'query', e: AwsError): string {
  if (style === 'ec2') return `<Response><Errors><Error><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message></Error></Errors><RequestID>local</RequestID></Response>`;
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse><Error><Type>${type}</Type><Code>${xmlEscape(e.code)}</Code><Message>${xmlEscape(e.message)}</Message></Error><RequestId>local</RequestId></ErrorResponse>`;
}

/** A local endpoint for an AWS Query-protocol service (EC2; IAM and CloudFormation with errors 'query'): form-encoded requests, XML answers. */
export function serveQueryProtocol(
  operations: Record<string, (params: URLSearchParams) => string | Promise<string>>,
  name = 'EC2',
  errors: 'ec2' | 'query' = 'ec2',
): Promise<LocalServer> {
  // void: as in serveJsonProtocol, every error is answered by the catch.
  const server = http.createServer((req, res) => void (async () => {
    try {
      const params = new URLSearchParams(await readBody(req));
      const action = params.get('Action') ?? '';
      METER.onCall?.(name, action);
      await pause();
      const handler = operations[action];
      if (!handler) throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
      await GATE.authorize?.({ service: name, operation: action, input: params, accessKeyId: accessKeyOf(req) });
      validateQueryRequest(name, action, params);
      const xml = await handler(params);
      AUDIT.onSucceeded?.(name, action, params, accessKeyOf(req), xml);
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(xml);
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError('InternalError', String(err), 500);
      res.writeHead(e.status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${queryErrorXml(errors, e)}`);
    }
  })());
  return listen(server);
}

export function xmlEscape(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
