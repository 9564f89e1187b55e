import { fork, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { LOCAL_REGION } from '../iam/identity';
import { AwsError } from './aws-error';
import { accessKeyOf, GATE, listen, METER, pause, readBody, type LocalServer } from './http';
import { modelOf } from './model';
import { validateRequest } from './validate';

/** dynalite in a process of its own (dynalite-server.cjs says why). */
const SERVER = path.join(__dirname, 'dynalite-server.cjs');

/** The local service's name (the gate's and the model's), and the JSON protocol's target prefix. */
const SERVICE = 'DynamoDB';
const TARGET_PREFIX = 'DynamoDB_20120810.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/**
 * DynamoDB errors are `{"__type":"com.amazonaws.dynamodb.v20120810#<Code>","message":…}` with
 * HTTP 400 (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html);
 * dynalite answers its own errors in that shape, and the gate's and validation's are written so too.
 */
function replyError(res: http.ServerResponse, e: AwsError): void {
  res.writeHead(e.status, { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': e.code });
  res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${e.code}`, message: e.message }));
}

/** A CreateTable request, as the deployment sends it. */
export type CreateTableInput = Record<string, unknown> & { readonly TableName: string };

/**
 * DynamoDB, locally: dynalite (a DynamoDB implementation on LevelDB, here its in-memory store) in a
 * process and on a 127.0.0.1 port of its own (dynalite-server.cjs), behind an endpoint that does
 * what AWS does before the table is touched: every request is authorized by the IAM gate (dynamodb:<Operation> on the table or index
 * ARN, local/iam/requests.ts), then validated against DynamoDB's published model and documented
 * rules (validate.ts), then forwarded to dynalite unchanged, whose answer (conditional-write
 * failures, missing tables, its own validation) goes back unchanged. Tables are created and
 * deleted at once (dynalite's CREATING/DELETING/UPDATING delays set to 0): the local cloud creates
 * the template's tables before anything runs, as CloudFormation finishes a table before its users.
 */
export class LocalDynamoDb {
  private backend?: ChildProcess;
  private backendEndpoint = '';
  private front?: LocalServer;
  /** One connection pool to dynalite, closed with it (dynalite's close waits for idle keep-alive sockets). */
  private readonly agent = new http.Agent({ keepAlive: true });
  /** Requests that reached dynalite: what the gate and validation refused never counts here. */
  forwarded = 0;
  /** The same, per table the request names (TableName): a test counts its own table's, whatever the stack's functions do meanwhile. */
  readonly forwardedByTable = new Map<string, number>();
  endpoint = '';
  /** Told of every request dynalite carried out (answered 200), with its input: the local cloud's faults watch for a build's registration. */
  onAnswered?: (operation: string, input: Record<string, unknown>) => void;

  async start(): Promise<string> {
    this.backendEndpoint = await this.startBackend({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // void: every error is answered by handle's catch.
    this.front = await listen(http.createServer((req, res) => void this.handle(req, res)));
    this.endpoint = this.front.endpoint;
    return this.endpoint;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const raw = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      // Counted before anything can refuse it, as for the other services (http.ts's METER).
      METER.onCall?.(SERVICE, operation);
      if (!modelOf(SERVICE).operations[operation]) throw new AwsError('UnknownOperationException', `DynamoDB has no operation for X-Amz-Target "${target}"`);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON');
      }
      await pause();
      await GATE.authorize?.({ service: SERVICE, operation, input, accessKeyId: accessKeyOf(req) });
      validateRequest(SERVICE, operation, input);
      if (typeof input.TableName === 'string') this.forwardedByTable.set(input.TableName, (this.forwardedByTable.get(input.TableName) ?? 0) + 1);
      const answer = await this.forward(req.headers, raw);
      // dynalite's status, headers (its x-amz-crc32, which the SDK checks, among them) and body, as they came;
      // the connection headers are this hop's own.
      const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...headers } = answer.headers;
      res.writeHead(answer.status, headers);
      res.end(answer.body);
      if (answer.status === 200) this.onAnswered?.(operation, input);
    } catch (err) {
      replyError(res, err instanceof AwsError ? err : new AwsError('InternalServerError', String(err), 500));
    }
  }

  /** Sends a request to dynalite as it came (headers and body), and returns its answer as it came. */
  private forward(headers: http.IncomingHttpHeaders, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    this.forwarded++;
    const url = new URL(this.backendEndpoint);
    return new Promise((resolve, reject) => {
      const out = http.request({ host: url.hostname, port: url.port, method: 'POST', path: '/', agent: this.agent, headers: { ...headers, host: url.host } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  /**
   * A call the deployment makes itself (CloudFormation creating the template's tables): validated
   * against the model like any request, sent to dynalite with a signature-shaped header (dynalite
   * checks that one is there), refused with DynamoDB's error code.
   */
  async call(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    validateRequest(SERVICE, operation, input);
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const answer = await this.forward(
      {
        'content-type': CONTENT_TYPE,
        'x-amz-target': `${TARGET_PREFIX}${operation}`,
        'x-amz-date': date,
        authorization: `AWS4-HMAC-SHA256 Credential=LOCALCloudFormation/${date.slice(0, 8)}/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0`,
      },
      JSON.stringify(input),
    );
    const body = JSON.parse(answer.body.toString('utf8') || '{}') as Record<string, unknown> & { __type?: string; message?: string };
    if (answer.status !== 200) throw new AwsError(String(body.__type ?? 'InternalServerError').split('#').pop()!, String(body.message ?? ''), answer.status);
    return body;
  }

  /** Creates a table and returns once it is ACTIVE (dynalite turns it ACTIVE on its next timer). */
  async createTable(input: CreateTableInput): Promise<void> {
    await this.call('CreateTable', input);
    for (let i = 0; i < 100; i++) {
      const { Table } = (await this.call('DescribeTable', { TableName: input.TableName })) as { Table: { TableStatus: string } };
      if (Table.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`DynamoDB (local): table ${input.TableName} did not become ACTIVE`);
  }

  /** dynalite's process id while it runs, for tests. */
  get backendPid(): number | undefined {
    return this.backend?.pid;
  }

  /** Forks dynalite-server.cjs and returns its endpoint once it listens; a server that exits before is an error. */
  private startBackend(options: Record<string, unknown>): Promise<string> {
    const child = fork(SERVER, [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    this.backend = child;
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`DynamoDB (local): dynalite exited (${code}) before it listened`));
      child.once('exit', exited);
      child.once('error', reject);
      child.once('message', (m: { port?: number }) => {
        child.off('exit', exited);
        resolve(`http://127.0.0.1:${m.port}`);
      });
    });
  }

  async stop(): Promise<void> {
    await this.front?.close();
    this.agent.destroy();
    const backend = this.backend;
    if (backend && backend.exitCode === null && backend.signalCode === null) {
      const exited = new Promise((r) => backend.once('exit', r));
      backend.disconnect();
      await exited;
    }
  }
}
