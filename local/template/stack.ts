import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../iam/identity';

/** One resource of a CloudFormation template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface Template {
  readonly Resources: Record<string, TemplateResource>;
}

/**
 * A synthesized stack as the local cloud deploys it: every intrinsic resolved to the value a
 * deployment in account 000000000000, us-east-1 would give it. Physical names CloudFormation
 * would generate are `<StackName>-<LogicalId>` here, so that a local ARN names its resource.
 */
export class LocalStack {
  readonly stackName: string;
  readonly account = LOCAL_ACCOUNT;
  readonly region = LOCAL_REGION;
  readonly partition = LOCAL_PARTITION;
  private readonly assets: Record<string, string>;

  constructor(
    readonly templateFile: string,
    readonly template: Template,
    assets: Record<string, string> = {},
  ) {
    this.stackName = path.basename(templateFile).replace(/\.template\.json$/, '');
    this.assets = assets;
  }

  /** The resources of one type, with their properties resolved. */
  resources(type: string): [string, Record<string, unknown>][] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, this.resolve(r.Properties ?? {}) as Record<string, unknown>]);
  }

  /** One resource's resolved properties. */
  properties(logicalId: string): Record<string, unknown> {
    return this.resolve(this.resource(logicalId).Properties ?? {}) as Record<string, unknown>;
  }

  typeOf(logicalId: string): string {
    return this.resource(logicalId).Type;
  }

  private resource(logicalId: string): TemplateResource {
    const r = this.template.Resources[logicalId];
    if (!r) throw new Error(`${this.templateFile}: no resource ${logicalId}`);
    return r;
  }

  private arn(service: string, resource: string, region = this.region, account = this.account): string {
    return `arn:${this.partition}:${service}:${region}:${account}:${resource}`;
  }

  private generatedName(logicalId: string, max = 64): string {
    return `${this.stackName}-${logicalId}`.slice(0, max);
  }

  /** What `Ref` gives for a resource (its physical id), as CloudFormation documents per type. */
  ref(logicalId: string): string {
    const pseudo = this.pseudo(logicalId);
    if (pseudo !== undefined) return pseudo;
    const r = this.resource(logicalId);
    const p = r.Properties ?? {};
    const named = (key: string) => (p[key] !== undefined ? String(this.resolve(p[key])) : this.generatedName(logicalId));
    switch (r.Type) {
      case 'AWS::StepFunctions::StateMachine':
        return this.arn('states', `stateMachine:${named('StateMachineName')}`);
      case 'AWS::Lambda::Function':
        return named('FunctionName');
      case 'AWS::IAM::Role':
        return named('RoleName');
      case 'AWS::IAM::InstanceProfile':
        return named('InstanceProfileName');
      case 'AWS::Logs::LogGroup':
        return named('LogGroupName');
      case 'AWS::SSM::Document':
        return named('Name');
      case 'AWS::Events::Rule':
        return named('Name');
      // Ref gives the table name (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#aws-resource-dynamodb-table-return-values).
      case 'AWS::DynamoDB::Table':
        return named('TableName');
      case 'AWS::EC2::LaunchTemplate':
        return `lt-${createHash('sha256').update(logicalId).digest('hex').slice(0, 17)}`;
      // A generated bucket name is lowercase and at most 63 characters
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
      case 'AWS::S3::Bucket':
        return p.BucketName !== undefined ? named('BucketName') : this.generatedName(logicalId, 63).toLowerCase();
      default:
        return this.generatedName(logicalId);
    }
  }

  /** What `Fn::GetAtt` gives, for the attributes this stack uses. */
  getAtt(logicalId: string, attribute: string): string {
    const type = this.resource(logicalId).Type;
    const ref = this.ref(logicalId);
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${ref}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${this.partition}:iam::${this.account}:role/${ref}`;
      case 'AWS::IAM::InstanceProfile.Arn':
        return `arn:${this.partition}:iam::${this.account}:instance-profile/${ref}`;
      case 'AWS::Logs::LogGroup.Arn':
        // "Fn::GetAtt Arn: arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AHJNHQ:*"
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html
        return this.arn('logs', `log-group:${ref}:*`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref;
      case 'AWS::StepFunctions::StateMachine.Name':
        return ref.split(':').pop()!;
      case 'AWS::Events::Rule.Arn':
        return this.arn('events', `rule/${ref}`);
      case 'AWS::DynamoDB::Table.Arn':
        // "arn:aws:dynamodb:us-east-1:123456789012:table/myDynamoDBTable" (same page, Fn::GetAtt).
        return this.arn('dynamodb', `table/${ref}`);
      case 'AWS::EC2::LaunchTemplate.LatestVersionNumber':
      case 'AWS::EC2::LaunchTemplate.DefaultVersionNumber':
        return '1';
      case 'AWS::EC2::LaunchTemplate.LaunchTemplateId':
        return ref;
      // "arn:aws:s3:::amzn-s3-demo-bucket" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html, Fn::GetAtt Arn).
      case 'AWS::S3::Bucket.Arn':
        return `arn:${this.partition}:s3:::${ref}`;
      default:
        throw new Error(`${this.templateFile}: Fn::GetAtt ${logicalId}.${attribute} (${type}) is not simulated locally`);
    }
  }

  private pseudo(name: string): string | undefined {
    switch (name) {
      case 'AWS::AccountId':
        return this.account;
      case 'AWS::Region':
        return this.region;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return this.arn('cloudformation', `stack/${this.stackName}/00000000-0000-0000-0000-000000000000`);
      default:
        return undefined;
    }
  }

  private sub(text: string, vars: Record<string, unknown>): string {
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_whole, name: string) => {
      if (name in vars) return String(this.resolve(vars[name]));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.ref(name);
    });
  }

  /** Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) in a value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (!value || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = obj[k];
      switch (k) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.getAtt(id, attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
          return this.sub(text, vars);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(sep);
        }
        default:
          if (k.startsWith('Fn::')) throw new Error(`${this.templateFile}: ${k} is not simulated locally`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(obj[k])]));
  }

  /** The folder holding a Lambda asset's code (cdk.out/asset.<hash>), from the function's S3Key. */
  assetDir(s3Key: string): string {
    const dir = this.assets[s3Key];
    if (!dir) throw new Error(`${this.templateFile}: no asset for ${s3Key} in the assets manifest`);
    return dir;
  }
}

interface AssetManifest {
  readonly files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** Loads a synthesized stack from its template, with the asset folders its assets manifest names. */
export function loadStack(templateFile: string): LocalStack {
  const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as Template;
  if (!template.Resources) throw new Error(`${templateFile} is not a CloudFormation template (no Resources)`);
  const dir = path.dirname(templateFile);
  const manifestFile = templateFile.replace(/\.template\.json$/, '.assets.json');
  const assets: Record<string, string> = {};
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as AssetManifest;
    for (const file of Object.values(manifest.files ?? {})) {
      for (const d of Object.values(file.destinations)) assets[d.objectKey] = path.join(dir, file.source.path);
    }
  }
  return new LocalStack(templateFile, template, assets);
}
