import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The published request models of the services the local cloud serves: botocore's
 * service-2.json, reduced to the input shapes by local/models/extract.ts (see
 * local/models/README.md for the source and version).
 */
export interface MemberRef {
  readonly shape: string;
  /** Query protocol (EC2): the member's wire name, when it differs from its name. */
  readonly locationName?: string;
  readonly queryName?: string;
}

export interface Shape {
  readonly type: string;
  readonly required?: readonly string[];
  readonly members?: Readonly<Record<string, MemberRef>>;
  readonly member?: MemberRef;
  readonly key?: MemberRef;
  readonly value?: MemberRef;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  /** Query protocol: the list or map is written without its .member / .entry level. */
  readonly flattened?: boolean;
}

export interface ServiceModel {
  readonly metadata: { readonly protocol: string; readonly apiVersion: string };
  readonly operations: Readonly<Record<string, { readonly input?: string }>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

/** Model file for each local service, by the name it is served under (serveJsonProtocol's name). */
const FILES: Record<string, string> = {
  CodePipeline: 'codepipeline.json',
  StepFunctions: 'stepfunctions.json',
  SSM: 'ssm.json',
  EC2: 'ec2.json',
  CloudFormation: 'cloudformation.json',
  IAM: 'iam.json',
  DynamoDB: 'dynamodb.json',
  SecretsManager: 'secretsmanager.json',
};

const MODELS_DIR = path.join(__dirname, '..', 'models');
const loaded = new Map<string, ServiceModel>();

/** The service's model; throws for a service without one, so a new service cannot skip validation. */
export function modelOf(service: string): ServiceModel {
  const file = FILES[service];
  if (!file) throw new Error(`no published model for the local service "${service}": add it to local/models (extract.ts) and to FILES`);
  let model = loaded.get(service);
  if (!model) {
    model = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, file), 'utf8')) as ServiceModel;
    loaded.set(service, model);
  }
  return model;
}

const patterns = new Map<string, RegExp>();

/**
 * A model pattern as a whole-value match. The models' patterns are Java regular expressions that
 * the services apply to the whole value: CloudFormation refused a URL as stackName against the
 * unanchored "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*", which matches part of it
 * (https://github.com/humanmade/cf-to-tf/issues/5). Anchoring is also the strict reading. Java's syntax is mapped: a leading (?i) becomes the i flag; `u` gives \p{...} classes
 * their Java meaning, and patterns with escapes Java allows but `u` refuses (\: \-) compile without it.
 */
export function patternOf(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    const insensitive = source.startsWith('(?i)');
    const body = `^(?:${insensitive ? source.slice(4) : source})$`;
    try {
      re = new RegExp(body, insensitive ? 'iu' : 'u');
    } catch {
      re = new RegExp(body, insensitive ? 'i' : '');
    }
    patterns.set(source, re);
  }
  return re;
}
