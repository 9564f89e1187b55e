import type { MemberRef, ServiceModel } from './model';

/**
 * Reads a Query-protocol request (form-encoded) into the model's members, the way the SDKs write
 * it (https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html ,
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html):
 * - EC2 (protocol "ec2"): a member is named by its queryName, else its locationName capitalised;
 *   every list is flattened (Name.1, Name.2);
 * - awsQuery (protocol "query": IAM, CloudFormation): a member is named by its locationName;
 *   lists are Name.member.N (Name.N when flattened), maps Name.entry.N.key / .value.
 * Every parameter name read is added to `used`, so the caller can tell the unknown ones.
 */
export function memberWireName(protocol: string, name: string, m: MemberRef): string {
  if (protocol === 'ec2') return m.queryName ?? (m.locationName ? m.locationName[0].toUpperCase() + m.locationName.slice(1) : name);
  return m.locationName ?? name;
}

const join = (path: string, part: string) => (path ? `${path}.${part}` : part);

/** The indexes N present under prefix (prefix.N or prefix.N.…), in order. */
function indexes(params: URLSearchParams, prefix: string): number[] {
  const found = new Set<number>();
  for (const k of params.keys()) {
    if (!k.startsWith(`${prefix}.`)) continue;
    const m = k.slice(prefix.length + 1).match(/^(\d+)(\.|$)/);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

export function readQuery(model: ServiceModel, shapeName: string, params: URLSearchParams, key: string, used: Set<string>): unknown {
  const protocol = model.metadata.protocol;
  const shape = model.shapes[shapeName];
  const under = (prefix: string) => [...params.keys()].some((k) => k.startsWith(`${prefix}.`));
  const scalar = () => {
    used.add(key);
    return params.get(key) ?? '';
  };
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [memberName, member] of Object.entries(shape.members ?? {})) {
        const at = join(key, memberWireName(protocol, memberName, member));
        const sub = model.shapes[member.shape].type;
        if (sub === 'structure' || sub === 'list' || sub === 'map' ? !under(at) : !params.has(at)) continue;
        out[memberName] = readQuery(model, member.shape, params, at, used);
      }
      return out;
    }
    case 'list': {
      const prefix = protocol === 'ec2' || shape.flattened ? key : `${key}.${shape.member!.locationName ?? 'member'}`;
      return indexes(params, prefix).map((i) => readQuery(model, shape.member!.shape, params, `${prefix}.${i}`, used));
    }
    case 'map': {
      const prefix = shape.flattened ? key : `${key}.entry`;
      const out: Record<string, unknown> = {};
      for (const i of indexes(params, prefix)) {
        const k = readQuery(model, shape.key!.shape, params, `${prefix}.${i}.${shape.key!.locationName ?? 'key'}`, used);
        out[String(k)] = readQuery(model, shape.value!.shape, params, `${prefix}.${i}.${shape.value!.locationName ?? 'value'}`, used);
      }
      return out;
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      const raw = String(scalar());
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    }
    case 'boolean': {
      const raw = scalar();
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    }
    default:
      return scalar();
  }
}
