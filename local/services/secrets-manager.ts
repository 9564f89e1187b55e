import { createHash } from 'node:crypto';
import { AwsError } from './aws-error';
import { serveJsonProtocol, type LocalServer, type Operation } from './http';
import { LOCAL_ACCOUNT, LOCAL_PARTITION, LOCAL_REGION } from '../iam/identity';

/**
 * Secrets Manager, as far as builds need it: GetSecretValue on secrets a test or the runner (`--secret NAME=VALUE`)
 * puts here, behind the IAM gate and the published model (local/models/secretsmanager.json) like every local service.
 *
 * GetSecretValue (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html): SecretId is
 * the secret's name or its ARN; with neither VersionId nor VersionStage it returns AWSCURRENT; a version or stage the
 * secret does not have, or an unknown secret, is ResourceNotFoundException. A secret's ARN is
 * arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}, where Secrets Manager appends a hyphen and six
 * random characters to the name (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources);
 * here they derive from the name, so a run is repeatable.
 */

interface SecretVersion {
  readonly id: string;
  readonly value: string;
  readonly stages: Set<string>;
  readonly created: Date;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly versions: SecretVersion[];
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

/** The ARN of a secret name, with its six-character suffix. */
export function secretArn(name: string): string {
  const suffix = createHash('sha256').update(name).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
  return `arn:${LOCAL_PARTITION}:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${name}-${suffix}`;
}

export class LocalSecretsManager {
  private readonly secrets = new Map<string, Secret>();
  private server?: LocalServer;

  /** Puts a new AWSCURRENT version of a secret (creating it), as PutSecretValue does; the former one becomes AWSPREVIOUS. */
  put(name: string, value: string): void {
    const secret = this.secrets.get(name) ?? { name, arn: secretArn(name), versions: [] };
    for (const v of secret.versions) v.stages.delete(PREVIOUS);
    for (const v of secret.versions) if (v.stages.delete(CURRENT)) v.stages.add(PREVIOUS);
    const id = createHash('sha256').update(`${name}:${secret.versions.length}`).digest('hex');
    secret.versions.push({ id: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`, value, stages: new Set([CURRENT]), created: new Date() });
    this.secrets.set(name, secret);
  }

  /** The secret a SecretId names (its name or its ARN), or undefined. */
  private find(secretId: string): Secret | undefined {
    return this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.arn === secretId);
  }

  /**
   * The ARN IAM authorizes a call on: the secret's, or for an unknown one its name's ARN without the suffix (what a
   * policy's `secret:name*` still matches: AWS then answers ResourceNotFoundException to a caller allowed to ask).
   */
  arnOf(secretId: string): string {
    if (secretId.startsWith('arn:')) return this.find(secretId)?.arn ?? secretId;
    return this.find(secretId)?.arn ?? `arn:${LOCAL_PARTITION}:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${secretId}`;
  }

  operations(): Record<string, Operation> {
    return { GetSecretValue: (b) => this.getSecretValue(b) };
  }

  async start(): Promise<string> {
    this.server = await serveJsonProtocol('SecretsManager', this.operations(), 'application/x-amz-json-1.1');
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  private getSecretValue(body: Record<string, unknown>) {
    const secretId = String(body.SecretId);
    const secret = this.find(secretId);
    if (!secret) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    const versionId = body.VersionId === undefined ? undefined : String(body.VersionId);
    const stage = body.VersionStage === undefined ? (versionId === undefined ? CURRENT : undefined) : String(body.VersionStage);
    const version = secret.versions.find((v) => (versionId === undefined || v.id === versionId) && (stage === undefined || v.stages.has(stage)));
    if (!version) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${stage}`}`);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.value,
      VersionStages: [...version.stages],
      // JSON protocol timestamps are epoch seconds.
      CreatedDate: version.created.getTime() / 1000,
    };
  }
}
