import type { CfnTemplate } from './synthesized';

/** One IAM policy document of a template, with every intrinsic resolved to a concrete sample value. */
export interface TemplatePolicy {
  /** Whose it is and where it lives: `Role/PolicyLogicalId` for an AWS::IAM::Policy, `Role/PolicyName` for an inline policy. */
  readonly name: string;
  readonly document: { Statement: unknown };
}

/** The sample account the template is resolved in; any concrete values do, the ARN formats only need their shape. */
export const SAMPLE = { partition: 'aws', region: 'us-east-1', account: '123456789012', stackName: 'Ec2BuildAction' };

const pseudo: Record<string, string> = {
  'AWS::Partition': SAMPLE.partition,
  'AWS::Region': SAMPLE.region,
  'AWS::AccountId': SAMPLE.account,
  'AWS::StackName': SAMPLE.stackName,
  'AWS::URLSuffix': 'amazonaws.com',
};

const arnOf = (service: string, resource: string, region: string = SAMPLE.region) =>
  `arn:${SAMPLE.partition}:${service}:${region}:${SAMPLE.account}:${resource}`;

/**
 * What `Ref` and `Fn::GetAtt` return for each resource type the stack's policies reference, from each type's
 * "Return values" section in the CloudFormation template reference
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
 * A type missing here fails the check loudly rather than being guessed.
 */
const returnValues: Record<string, { nameProp?: string; ref: (name: string) => string; attrs?: Record<string, (name: string) => string> }> = {
  'AWS::IAM::Role': { nameProp: 'RoleName', ref: (n) => n, attrs: { Arn: (n) => `arn:${SAMPLE.partition}:iam::${SAMPLE.account}:role/${n}`, RoleId: () => 'AROASAMPLEROLEID' } },
  'AWS::IAM::InstanceProfile': { nameProp: 'InstanceProfileName', ref: (n) => n, attrs: { Arn: (n) => `arn:${SAMPLE.partition}:iam::${SAMPLE.account}:instance-profile/${n}` } },
  'AWS::Lambda::Function': { nameProp: 'FunctionName', ref: (n) => n, attrs: { Arn: (n) => arnOf('lambda', `function:${n}`) } },
  // The log group's Arn attribute ends with ":*" (the AWS::Logs::LogGroup return values).
  'AWS::Logs::LogGroup': { nameProp: 'LogGroupName', ref: (n) => n, attrs: { Arn: (n) => arnOf('logs', `log-group:${n}:*`) } },
  // Ref of a state machine is its ARN.
  'AWS::StepFunctions::StateMachine': { nameProp: 'StateMachineName', ref: (n) => arnOf('states', `stateMachine:${n}`), attrs: { Arn: (n) => arnOf('states', `stateMachine:${n}`), Name: (n) => n } },
  'AWS::SSM::Document': { nameProp: 'Name', ref: (n) => n },
  'AWS::EC2::LaunchTemplate': { ref: () => 'lt-0123456789abcdef0', attrs: { LaunchTemplateId: () => 'lt-0123456789abcdef0', LatestVersionNumber: () => '1' } },
  'AWS::S3::Bucket': { nameProp: 'BucketName', ref: (n) => n.toLowerCase(), attrs: { Arn: (n) => `arn:${SAMPLE.partition}:s3:::${n.toLowerCase()}` } },
  'AWS::KMS::Key': { ref: () => '1234abcd-12ab-34cd-56ef-1234567890ab', attrs: { Arn: () => arnOf('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab') } },
  'AWS::Events::Rule': { nameProp: 'Name', ref: (n) => n, attrs: { Arn: (n) => arnOf('events', `rule/${n}`) } },
  'AWS::SNS::Topic': { nameProp: 'TopicName', ref: (n) => arnOf('sns', n), attrs: { TopicArn: (n) => arnOf('sns', n), TopicName: (n) => n } },
  // Ref of a table is its name; its Arn is arn:…:dynamodb:REGION:ACCOUNT:table/NAME (the AWS::DynamoDB::Table return values).
  'AWS::DynamoDB::Table': { nameProp: 'TableName', ref: (n) => n, attrs: { Arn: (n) => arnOf('dynamodb', `table/${n}`) } },
  'AWS::SQS::Queue': { nameProp: 'QueueName', ref: (n) => `https://sqs.${SAMPLE.region}.amazonaws.com/${SAMPLE.account}/${n}`, attrs: { Arn: (n) => arnOf('sqs', n), QueueName: (n) => n } },
};

/** Resolves `value` (any template fragment) with the template's resources and the sample pseudo parameters. */
export function resolve(template: CfnTemplate, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(template, v));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length !== 1 || !(entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(template, v)]));
  }
  const [fn, arg] = entries[0];
  switch (fn) {
    case 'Ref':
      return pseudo[arg as string] ?? returnValue(template, arg as string);
    case 'Fn::GetAtt': {
      const [id, attr] = Array.isArray(arg) ? (arg as string[]) : (arg as string).split(/\.(.*)/);
      return returnValue(template, id, attr);
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown[]];
      return (resolve(template, parts) as string[]).join(sep);
    }
    case 'Fn::Sub': {
      const [text, vars = {}] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
      const given = resolve(template, vars) as Record<string, string>;
      return text.replace(/\$\{([^!}][^}]*)\}/g, (_m, name: string) => {
        if (name in given) return given[name];
        const [id, attr] = name.split(/\.(.*)/);
        return pseudo[name] ?? returnValue(template, id, attr || undefined);
      });
    }
    case 'Fn::Select': {
      const [index, list] = resolve(template, arg) as [string | number, unknown[]];
      return list[Number(index)];
    }
    case 'Fn::Split': {
      const [sep, text] = resolve(template, arg) as [string, string];
      return text.split(sep);
    }
    default:
      throw new Error(`template-policies: cannot resolve ${fn} (${JSON.stringify(arg)}); teach resolve() how`);
  }
}

function returnValue(template: CfnTemplate, logicalId: string, attr?: string): string {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`template-policies: Ref/GetAtt to unknown resource ${logicalId}`);
  const known = returnValues[resource.Type];
  const fn = attr === undefined ? known?.ref : known?.attrs?.[attr];
  if (!fn) throw new Error(`template-policies: no sample for ${attr ? `Fn::GetAtt ${logicalId}.${attr}` : `Ref ${logicalId}`} (${resource.Type}); add it to returnValues`);
  const given = known.nameProp ? resource.Properties?.[known.nameProp] : undefined;
  // A name the template fixes is used as is; otherwise CloudFormation generates one, and the logical id stands in.
  const name = given === undefined ? `${SAMPLE.stackName}-${logicalId}` : String(resolve(template, given));
  return fn(name);
}

/** Every identity policy of the template: AWS::IAM::Policy, AWS::IAM::ManagedPolicy and roles' inline Policies. */
export function templatePolicies(template: CfnTemplate): TemplatePolicy[] {
  return Object.entries(template.Resources).flatMap(([id, r]): TemplatePolicy[] => {
    const props = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = ((props.Roles ?? []) as { Ref?: string }[]).map((role) => role.Ref ?? JSON.stringify(role));
      return [{ name: `${roles.join('+') || '(no role)'}/${id}`, document: resolve(template, props.PolicyDocument) as TemplatePolicy['document'] }];
    }
    if (r.Type === 'AWS::IAM::Role') {
      const inline = (props.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[];
      return inline.map((p) => ({ name: `${id}/${p.PolicyName}`, document: resolve(template, p.PolicyDocument) as TemplatePolicy['document'] }));
    }
    return [];
  });
}
