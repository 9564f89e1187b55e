/**
 * Regenerates the request models in this folder from botocore's published service models
 * (botocore/data/<service>/<version>/service-2.json[.gz]), keeping only what request validation
 * reads: each operation's input shape and the shapes reachable from it, with their types,
 * members, required lists and constraints (min, max, pattern, enum) and the Query protocol's
 * member names (locationName, queryName). Documentation and output shapes are dropped.
 *
 *   npx tsx local/models/extract.ts /path/to/site-packages/botocore/data
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** The services the local cloud serves, with the API version its SDK clients call. */
export const SOURCES: Record<string, string> = {
  codepipeline: '2015-07-09',
  stepfunctions: '2016-11-23',
  ssm: '2014-11-06',
  ec2: '2016-11-15',
  // npm run verify's deployment tools: DescribeStacks, and the throwaway pipeline's role.
  cloudformation: '2010-05-15',
  iam: '2010-05-08',
  // The fleets' pool table (issue #12): a job claims a pool instance with a conditional write.
  dynamodb: '2012-08-10',
  // A build's SECRETS_MANAGER variables (issue #13): GetSecretValue.
  secretsmanager: '2017-10-17',
};

const KEPT = ['type', 'required', 'members', 'member', 'key', 'value', 'min', 'max', 'pattern', 'enum', 'shape', 'locationName', 'queryName', 'flattened'];

type Json = Record<string, unknown>;

function keep(node: Json): Json {
  const out: Json = {};
  for (const k of KEPT) {
    if (!(k in node)) continue;
    const v = node[k];
    if (k === 'members') out[k] = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([n, m]) => [n, keep(m)]));
    else out[k] = v && typeof v === 'object' && !Array.isArray(v) ? keep(v as Json) : v;
  }
  return out;
}

function read(file: string): Json {
  const raw = fs.existsSync(file) ? fs.readFileSync(file) : zlib.gunzipSync(fs.readFileSync(`${file}.gz`));
  return JSON.parse(raw.toString('utf8')) as Json;
}

function extract(model: Json): Json {
  const shapes = model.shapes as Record<string, Json>;
  const operations = model.operations as Record<string, { input?: { shape: string } }>;
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    const s = shapes[name];
    for (const m of Object.values((s.members ?? {}) as Record<string, { shape: string }>)) visit(m.shape);
    for (const k of ['member', 'key', 'value']) if (s[k]) visit((s[k] as { shape: string }).shape);
  };
  for (const op of Object.values(operations)) if (op.input) visit(op.input.shape);
  const metadata = model.metadata as Json;
  return {
    metadata: { apiVersion: metadata.apiVersion, protocol: metadata.protocol, targetPrefix: metadata.targetPrefix, serviceId: metadata.serviceId },
    operations: Object.fromEntries(Object.entries(operations).map(([n, o]) => [n, o.input ? { input: o.input.shape } : {}])),
    shapes: Object.fromEntries([...reached].sort().map((n) => [n, keep(shapes[n])])),
  };
}

if (require.main === module) {
  const data = process.argv[2];
  if (!data) throw new Error('usage: extract.ts <botocore/data directory>');
  for (const [service, version] of Object.entries(SOURCES)) {
    const out = extract(read(path.join(data, service, version, 'service-2.json')));
    fs.writeFileSync(path.join(__dirname, `${service}.json`), `${JSON.stringify(out)}\n`);
  }
}
