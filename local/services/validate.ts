import { AwsError } from './aws-error';
import { modelOf, patternOf, type MemberRef, type ServiceModel, type Shape } from './model';
import { memberWireName, readQuery } from './query-input';
import { RULES } from './request-rules';

/**
 * Request validation, as AWS does it before any service behaviour: the input is checked against
 * the service's published model (required members, lengths, patterns, enums, ranges, list sizes),
 * then against the documented rules no model encodes (request-rules.ts). Keyed by service and
 * operation only, so an operation added to a local service is validated without further work.
 */

interface Violation {
  readonly kind: 'missing' | 'invalid' | 'type';
  /** Where, in the protocol's own naming: 'failureDetails.message' (JSON), 'TagSpecification.1.ResourceType' (Query). */
  readonly path: string;
  readonly value: unknown;
  /** AWS's wording: "Member must have length less than or equal to 100". */
  readonly constraint: string;
}

interface Naming {
  readonly member: (memberName: string, member: MemberRef) => string;
  /** The name of a list's item i (0-based). */
  readonly item: (i: number) => string;
}

/** JSON services report a member by its name with a lower-case first letter ('instanceIds.1.member', 'comment'). */
const JSON_NAMING: Naming = { member: (name) => name[0].toLowerCase() + name.slice(1), item: (i) => `${i + 1}.member` };
/** EC2 reports the parameter as it was sent ('TagSpecification.1.ResourceType'). */
const EC2_NAMING: Naming = { member: (name, m) => memberWireName('ec2', name, m), item: (i) => String(i + 1) };

const join = (path: string, part: string) => (path ? `${path}.${part}` : part);

function lengthOf(shape: Shape, value: string): number {
  // Smithy's length counts Unicode code points for strings, bytes for blobs (base64 on the wire).
  return shape.type === 'blob' ? Buffer.from(value, 'base64').length : [...value].length;
}

function checkSize(shape: Shape, size: number, path: string, value: unknown, out: Violation[]): void {
  if (shape.min !== undefined && size < shape.min) out.push({ kind: 'invalid', path, value, constraint: `Member must have length greater than or equal to ${shape.min}` });
  if (shape.max !== undefined && size > shape.max) out.push({ kind: 'invalid', path, value, constraint: `Member must have length less than or equal to ${shape.max}` });
}

function walk(model: ServiceModel, shapeName: string, value: unknown, path: string, name: Naming, out: Violation[]): void {
  const shape = model.shapes[shapeName];
  const wrongType = (expected: string) => out.push({ kind: 'type', path, value, constraint: `Member must be a ${expected}` });
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return void wrongType('structure');
      const record = value as Record<string, unknown>;
      for (const [memberName, member] of Object.entries(shape.members ?? {})) {
        const v = record[memberName];
        const at = join(path, name.member(memberName, member));
        if (v === undefined || v === null) {
          if (shape.required?.includes(memberName)) out.push({ kind: 'missing', path: at, value: null, constraint: 'Member must not be null' });
        } else walk(model, member.shape, v, at, name, out);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return void wrongType('list');
      checkSize(shape, value.length, path, value, out);
      value.forEach((item, i) => walk(model, shape.member!.shape, item, join(path, name.item(i)), name, out));
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return void wrongType('map');
      const entries = Object.entries(value as Record<string, unknown>);
      checkSize(shape, entries.length, path, value, out);
      for (const [k, v] of entries) {
        walk(model, shape.key!.shape, k, join(path, `${k}.key`), name, out);
        walk(model, shape.value!.shape, v, join(path, `${k}.value`), name, out);
      }
      return;
    }
    case 'string':
    case 'blob': {
      if (typeof value !== 'string') return void wrongType('string');
      checkSize(shape, lengthOf(shape, value), path, value, out);
      if (shape.pattern && !patternOf(shape.pattern).test(value)) out.push({ kind: 'invalid', path, value, constraint: `Member must satisfy regular expression pattern: ${shape.pattern}` });
      if (shape.enum && !shape.enum.includes(value)) out.push({ kind: 'invalid', path, value, constraint: `Member must satisfy enum value set: [${shape.enum.join(', ')}]` });
      return;
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || Number.isNaN(value) || ((shape.type === 'integer' || shape.type === 'long') && !Number.isInteger(value))) return void wrongType(shape.type);
      if (shape.min !== undefined && value < shape.min) out.push({ kind: 'invalid', path, value, constraint: `Member must have value greater than or equal to ${shape.min}` });
      if (shape.max !== undefined && value > shape.max) out.push({ kind: 'invalid', path, value, constraint: `Member must have value less than or equal to ${shape.max}` });
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') wrongType('boolean');
      return;
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') wrongType('timestamp');
      return;
    default:
      return;
  }
}

const shown = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

/** AWS's validation message: "2 validation errors detected: Value 'x' at 'comment' failed to satisfy constraint: …; …". */
function validationMessage(out: readonly Violation[]): string {
  const details = out.map((v) => `Value ${v.value === null ? 'null' : `'${shown(v.value)}'`} at '${v.path}' failed to satisfy constraint: ${v.constraint}`);
  return `${out.length} validation error${out.length > 1 ? 's' : ''} detected: ${details.join('; ')}`;
}

/**
 * Validates a JSON-protocol request. Model violations are ValidationException with AWS's own
 * message, as CodePipeline, SSM and Step Functions answer them (each operation's Errors section lists
 * ValidationException: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobFailureResult.html#API_PutJobFailureResult_Errors ,
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#API_StartExecution_Errors ;
 * SSM's model defines ValidationException, and its answers take this shape, e.g. "Value 'i-083e…' at
 * 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern"
 * (https://github.com/aws/aws-cli/issues/7048); Step Functions' for a long name:
 * https://github.com/wolfeidau/buildkite-serverless-agent/issues/37).
 * A value of the wrong JSON type is SerializationException, as the JSON protocols answer it.
 */
export function validateRequest(service: string, operation: string, input: Record<string, unknown>): void {
  const model = modelOf(service);
  const op = model.operations[operation];
  if (!op) throw new AwsError('UnknownOperationException', `${service} has no operation ${operation}`);
  const out: Violation[] = [];
  if (op.input) walk(model, op.input, input, '', JSON_NAMING, out);
  const wrongType = out.find((v) => v.kind === 'type');
  if (wrongType) throw new AwsError('SerializationException', `${wrongType.constraint} at '${wrongType.path}'`);
  if (out.length > 0) throw new AwsError('ValidationException', validationMessage(out));
  applyRules(service, operation, input);
}

/**
 * Validates a Query-protocol request and returns it read into the model's members.
 * EC2 answers bad input with its common client errors
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html#CommonErrors):
 * MissingParameter for a required one, InvalidParameterValue for a value outside the model,
 * UnknownParameter for a name the operation does not have.
 * The awsQuery services (IAM, CloudFormation) answer ValidationError with the same message as the
 * JSON services ("ValidationError: The input fails to satisfy the constraints specified by an AWS
 * service", https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html ,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html); whether
 * they refuse unknown parameters is not documented, so those are only refused by EC2.
 */
export function validateQueryRequest(service: string, operation: string, params: URLSearchParams): Record<string, unknown> {
  const model = modelOf(service);
  const ec2 = model.metadata.protocol === 'ec2';
  const op = model.operations[operation];
  if (!op) throw new AwsError('InvalidAction', `The action ${operation} is not valid for this web service.`);
  const used = new Set(['Action', 'Version']);
  const input = (op.input ? readQuery(model, op.input, params, '', used) : {}) as Record<string, unknown>;
  const unknown = [...params.keys()].find((k) => !used.has(k));
  if (ec2 && unknown) throw new AwsError('UnknownParameter', `The parameter ${unknown} is not recognized`);
  const out: Violation[] = [];
  if (op.input) walk(model, op.input, input, '', ec2 ? EC2_NAMING : JSON_NAMING, out);
  if (!ec2 && out.length > 0) throw new AwsError('ValidationError', validationMessage(out));
  const missing = out.find((v) => v.kind === 'missing');
  if (missing) throw new AwsError('MissingParameter', `The request must contain the parameter ${missing.path}`);
  const bad = out[0];
  // EC2's wording names the value and the parameter; long enum lists (InstanceType) are left out.
  if (bad) throw new AwsError('InvalidParameterValue', `Value (${shown(bad.value)}) for parameter ${bad.path} is invalid.${bad.constraint.length <= 200 ? ` ${bad.constraint}` : ''}`);
  applyRules(service, operation, input);
  return input;
}

function applyRules(service: string, operation: string, input: Record<string, unknown>): void {
  for (const rule of RULES[service]?.[operation] ?? []) {
    const refused = rule(input);
    if (refused) throw refused;
  }
}
