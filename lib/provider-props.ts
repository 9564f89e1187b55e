import { Token } from 'aws-cdk-lib';
import { FleetValueError, parseFleets, type Fleet, type FleetProps } from '../lambdas/shared/fleets';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { HOLD_LIMITS, HOLD_SETTING, isHoldMinutes } from '../lambdas/shared/hold';
import type { ActionTypePinOptions } from './action-type-snapshot';

export type { FleetProps, FleetSchedule, Market } from '../lambdas/shared/fleets';

/** What the provider deploys and the action type it registers. */
export interface Ec2BuildProviderProps {
  /**
   * The action type's category: where it appears in the console's action picker.
   * @default 'Build'
   */
  readonly category?: string;
  /**
   * The action type's provider name, what pipelines name in `ActionTypeId.Provider`.
   * @default 'EC2-Build'
   */
  readonly providerName?: string;
  /**
   * The action type's version. A registered version's definition cannot change: a new definition needs a new version.
   * @default '3' (version 1 had no Fleet, version 2 no EnvironmentVariables; keep them with previousVersions where pipelines use them)
   */
  readonly version?: string;
  /**
   * Earlier versions of this action type that the provider registered and keeps serving beside `version`, so that
   * pipelines still naming them keep running while they move to the new one. Each is registered with its pinned
   * definition under the logical ID it had, so a stack update never replaces it.
   * @default - none: only `version`
   */
  readonly previousVersions?: readonly string[];
  /**
   * Subnets to launch build instances in, tried in order when one has no capacity.
   * @default - the default VPC's subnet that EC2 picks
   */
  readonly subnetIds?: readonly string[];
  /**
   * Security groups of the build instances.
   * @default - the VPC's default security group
   */
  readonly securityGroupIds?: readonly string[];
  /**
   * Size of each build instance's encrypted root volume, in GiB; at least the AMI's root snapshot.
   * @default 30
   */
  readonly rootVolumeGiB?: number;
  /**
   * ARN of the account's default EBS encryption key, when that is a customer managed key: the launcher is given
   * what EC2 needs on it.
   * @default - none needed: the AWS managed key (aws/ebs)
   */
  readonly ebsKmsKeyArn?: string;
  /**
   * Where the action type's definition is pinned (one file per version), and whether a first synth writes it.
   * @default - the package's action-types/ folder, checked and never written
   */
  readonly actionTypePin?: ActionTypePinOptions;
  /**
   * Fleets: named capacity profiles (image, instance types, market, warm pools, a concurrency cap), keyed by the name
   * a job's `Fleet` property selects. Checked at synth; the settings are in lambdas/shared/fleets.ts.
   * @default - no fleets: every job launches cold
   */
  readonly fleets?: Readonly<Record<string, FleetProps>>;
  /**
   * Parameter Store paths whose parameters a job's EnvironmentVariables may name (PARAMETER_STORE), e.g. ['/builds/'].
   * Only the function that resolves them at dispatch may read them (ssm:GetParameter on exactly these paths); the build
   * instance never can.
   * @default - none: a PARAMETER_STORE variable is a ConfigurationError naming this prop
   */
  readonly parameterPrefixes?: readonly string[];
  /**
   * Secrets Manager name prefixes of the secrets a job's EnvironmentVariables may name (SECRETS_MANAGER), e.g. ['builds/'].
   * @default - none: a SECRETS_MANAGER variable is a ConfigurationError naming this prop
   */
  readonly secretPrefixes?: readonly string[];
  /**
   * Customer managed KMS keys that encrypt the SecureString parameters and secrets builds name (their ARNs). The
   * resolving function gets kms:Decrypt on exactly these keys, and only through Parameter Store and Secrets Manager in
   * the stack's Region (kms:ViaService); each key's policy must also allow the account's IAM policies to grant it
   * (the default key policy does). Values under AWS managed keys (aws/ssm, aws/secretsmanager) need nothing here.
   * @default - none: a value under a customer managed key fails as a ConfigurationError naming the variable
   */
  readonly referenceKmsKeyArns?: readonly string[];
  /**
   * ARN of a standard SNS topic that the stack's alarms notify (lib/observability.ts: failed-job rate, sweeper
   * terminations, a wait in a fleet's line past its bound, function errors).
   * @default - no notifications: the alarms and the dashboard show in the CloudWatch console
   */
  readonly alarmTopicArn?: string;
  /**
   * Minutes the instance of a failed build is kept, so that a person can open a session on it (its failure message
   * gives the `aws ssm start-session` command); the failure is reported at once. A whole number from 0 to 720. An
   * action sets its own with the variable EC2_BUILD_ACTION_HOLD_MINUTES in EnvironmentVariables.
   * @default 0 - the instance is terminated as soon as the build fails
   */
  readonly holdOnFailureMinutes?: number;
  /**
   * Days a build's cache (CachePaths) is kept after it was last saved: the job bucket's lifecycle rule for its cache/
   * prefix. Each successful build saves its caches again, so only an action that has not built for this long loses them.
   * @default 7
   */
  readonly cacheExpiryDays?: number;
}

/** The defaults of the props that have one, shared with the app's context reader (lib/context.ts). */
export const PROVIDER_DEFAULTS = { category: 'Build', providerName: 'EC2-Build', version: '3', rootVolumeGiB: 30, cacheExpiryDays: 7 } as const;

/**
 * The limits of an action type's identity (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionTypeId.html):
 * Provider 1 to 35 and Version 1 to 9 characters of [0-9A-Za-z_-]. The category is one a custom build action can
 * work in: CreateCustomActionType lists Source and Approval too but says they "are not currently functional" and are
 * reserved (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_CreateCustomActionType.html), and a
 * Source action takes no input artifact; Compute is AWS's own.
 */
export const ACTION_TYPE_RULES = {
  categories: ['Build', 'Test', 'Deploy', 'Invoke'],
  provider: { pattern: /^[0-9A-Za-z_-]{1,35}$/, expected: '1 to 35 letters, digits, - or _' },
  version: { pattern: /^[0-9A-Za-z_-]{1,9}$/, expected: '1 to 9 letters, digits, - or _' },
} as const;

/** Subnet, security group and KMS key identifiers, and the root volume's range (gp3: 1 to 16384 GiB; 8 holds an AMI). */
export const RESOURCE_RULES = {
  subnetId: { pattern: /^subnet-[0-9a-f]{8,17}$/, expected: 'a subnet ID (subnet-0123abcd...)' },
  securityGroupId: { pattern: /^sg-[0-9a-f]{8,17}$/, expected: 'a security group ID (sg-0123abcd...)' },
  /** arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}, the KMS key resource type of the Service Authorization Reference. */
  kmsKeyArn: {
    pattern: /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    expected: 'the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias or a bare key ID)',
  },
  rootVolumeGiB: { min: 8, max: 16384 },
  /** A lifecycle expiration's Days: a positive whole number (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html); a year at most here. */
  cacheExpiryDays: { min: 1, max: 365 },
  /**
   * A parameter path: / and segments of the characters a parameter name may hold, ending in /
   * (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html); never /aws/,
   * which AWS reserves. It becomes an IAM resource parameter/<path>*, so no wildcard.
   */
  parameterPrefix: { pattern: /^\/(?!aws\/)[A-Za-z0-9_.-]+\/([A-Za-z0-9_.-]+\/)*$/i, expected: 'a parameter path like /builds/ (starting and ending with /, not /aws/)' },
  /** The start of a secret's name: 1 to 256 of the characters a name may hold (API_CreateSecret.html, Name); no wildcard. */
  secretPrefix: { pattern: /^[A-Za-z0-9/_+=.@-]{1,256}$/, expected: 'the start of secret names like builds/ (letters, digits and /_+=.@-)' },
  /**
   * arn:${Partition}:sns:${Region}:${Account}:${TopicName}, a topic name being 1 to 256 letters, digits, - or _
   * (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html). A standard topic only: publishing to a FIFO
   * topic (.fifo) needs a MessageGroupId (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), which an
   * alarm action does not send.
   */
  snsTopicArn: { pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, expected: 'the ARN of a standard SNS topic (arn:aws:sns:REGION:ACCOUNT:NAME)' },
} as const;

/** A prop that cannot be used; the message names the construct and the prop, and echoes the value. */
export class PropValueError extends Error {
  override readonly name = 'PropValueError';
  constructor(owner: string, prop: string, expected: string, value: unknown, options?: ErrorOptions) {
    super(`${owner}: ${prop} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, options);
  }
}

/** The props with their defaults, checked; unresolved tokens are left for CloudFormation to resolve. */
export interface ResolvedProviderProps {
  readonly actionType: ActionTypeRef;
  /** The kept versions, oldest first, as `actionType` with their version. */
  readonly previousVersions: readonly ActionTypeRef[];
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly rootVolumeGiB: number;
  readonly ebsKmsKeyArn?: string;
  readonly actionTypePin?: ActionTypePinOptions;
  readonly fleets?: Readonly<Record<string, Fleet>>;
  readonly parameterPrefixes: readonly string[];
  readonly secretPrefixes: readonly string[];
  readonly referenceKmsKeyArns: readonly string[];
  readonly alarmTopicArn?: string;
  readonly holdOnFailureMinutes: number;
  readonly cacheExpiryDays: number;
}

/** The first unresolved token in a value, with its path, or undefined. */
function firstToken(value: unknown, path: string): { path: string; value: unknown } | undefined {
  if (Token.isUnresolved(value)) return { path, value };
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = firstToken(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Fleets are checked by the same parser as the context key and the local runner's file, and are stored at synth:
 * a token cannot be checked or stored, so each value must be a literal (an image that changes is `resolve:ssm:`).
 */
function resolveFleets(owner: string, fleets: Ec2BuildProviderProps['fleets']): Record<string, Fleet> | undefined {
  if (fleets === undefined) return undefined;
  const token = firstToken(fleets, 'fleets');
  if (token) throw new PropValueError(owner, token.path, 'a literal known at synth (for an image that changes, resolve:ssm: and a parameter)', token.value);
  try {
    return parseFleets(fleets, 'fleets');
  } catch (e) {
    if (!(e instanceof FleetValueError)) throw e;
    throw new PropValueError(owner, e.path, e.expected, e.value, { cause: e });
  }
}

function checker(owner: string) {
  const fail = (prop: string, expected: string, value: unknown) => new PropValueError(owner, prop, expected, value);
  return {
    /** The action type's identity names files and patterns at synth: it cannot wait for CloudFormation. */
    literal(prop: string, value: string, rule: { pattern: RegExp; expected: string }): string {
      if (Token.isUnresolved(value)) throw fail(prop, `a literal string (${rule.expected}), known at synth`, value);
      return this.text(prop, value, rule);
    },
    text(prop: string, value: string, rule: { pattern: RegExp; expected: string }): string {
      if (Token.isUnresolved(value)) return value;
      if (typeof value !== 'string' || !rule.pattern.test(value)) throw fail(prop, rule.expected, value);
      return value;
    },
    list(prop: string, value: readonly string[] | undefined, rule: { pattern: RegExp; expected: string }): readonly string[] {
      if (value === undefined || Token.isUnresolved(value)) return value ?? [];
      const items: unknown = value;
      if (!Array.isArray(items)) throw fail(prop, `a list of ${rule.expected}`, value);
      items.forEach((item: unknown, i) => this.text(`${prop}[${i}]`, item as string, rule));
      if (new Set(value).size !== value.length) throw fail(prop, 'a list without repeats', value);
      return value;
    },
  };
}

/** Applies the defaults and checks every prop, before anything is created. */
export function resolveProviderProps(props: Ec2BuildProviderProps, owner = 'Ec2BuildProvider'): ResolvedProviderProps {
  const check = checker(owner);
  const category = props.category ?? PROVIDER_DEFAULTS.category;
  if (!(ACTION_TYPE_RULES.categories as readonly string[]).includes(category)) {
    throw new PropValueError(owner, 'category', `one of ${ACTION_TYPE_RULES.categories.join(', ')}`, category);
  }
  const rootVolumeGiB = props.rootVolumeGiB ?? PROVIDER_DEFAULTS.rootVolumeGiB;
  const { min, max } = RESOURCE_RULES.rootVolumeGiB;
  if (!Token.isUnresolved(rootVolumeGiB) && (!Number.isInteger(rootVolumeGiB) || rootVolumeGiB < min || rootVolumeGiB > max)) {
    throw new PropValueError(owner, 'rootVolumeGiB', `a whole number of GiB from ${min} to ${max}`, rootVolumeGiB);
  }
  const cacheExpiryDays = props.cacheExpiryDays ?? PROVIDER_DEFAULTS.cacheExpiryDays;
  const expiry = RESOURCE_RULES.cacheExpiryDays;
  if (!Token.isUnresolved(cacheExpiryDays) && (!Number.isInteger(cacheExpiryDays) || cacheExpiryDays < expiry.min || cacheExpiryDays > expiry.max)) {
    throw new PropValueError(owner, 'cacheExpiryDays', `a whole number of days from ${expiry.min} to ${expiry.max}`, cacheExpiryDays);
  }
  const actionType: ActionTypeRef = {
    owner: 'Custom',
    category,
    provider: check.literal('providerName', props.providerName ?? PROVIDER_DEFAULTS.providerName, ACTION_TYPE_RULES.provider),
    version: check.literal('version', props.version ?? PROVIDER_DEFAULTS.version, ACTION_TYPE_RULES.version),
  };
  const previous = props.previousVersions ?? [];
  if (Token.isUnresolved(previous)) throw new PropValueError(owner, 'previousVersions', 'a list of literal versions, known at synth', previous);
  previous.forEach((v, i) => check.literal(`previousVersions[${i}]`, v, ACTION_TYPE_RULES.version));
  if (new Set([...previous, actionType.version]).size !== previous.length + 1) {
    throw new PropValueError(owner, 'previousVersions', `a list of versions without repeats and without the current version ${actionType.version}`, previous);
  }
  return {
    actionType,
    previousVersions: previous.map((version) => ({ ...actionType, version })),
    subnetIds: check.list('subnetIds', props.subnetIds, RESOURCE_RULES.subnetId),
    securityGroupIds: check.list('securityGroupIds', props.securityGroupIds, RESOURCE_RULES.securityGroupId),
    rootVolumeGiB,
    ebsKmsKeyArn: props.ebsKmsKeyArn === undefined ? undefined : check.text('ebsKmsKeyArn', props.ebsKmsKeyArn, RESOURCE_RULES.kmsKeyArn),
    actionTypePin: props.actionTypePin,
    fleets: resolveFleets(owner, props.fleets),
    // Literals: they name IAM resources and travel to the functions as one variable each.
    parameterPrefixes: literalList(owner, 'parameterPrefixes', props.parameterPrefixes, check, RESOURCE_RULES.parameterPrefix),
    secretPrefixes: literalList(owner, 'secretPrefixes', props.secretPrefixes, check, RESOURCE_RULES.secretPrefix),
    referenceKmsKeyArns: check.list('referenceKmsKeyArns', props.referenceKmsKeyArns, RESOURCE_RULES.kmsKeyArn),
    alarmTopicArn: props.alarmTopicArn === undefined ? undefined : check.text('alarmTopicArn', props.alarmTopicArn, RESOURCE_RULES.snsTopicArn),
    holdOnFailureMinutes: holdMinutes(owner, props.holdOnFailureMinutes),
    cacheExpiryDays,
  };
}

/** The stack's hold on failure: a literal (it travels to the poller as one variable) whole number of minutes. */
function holdMinutes(owner: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (Token.isUnresolved(value) || !isHoldMinutes(value)) {
    throw new PropValueError(owner, HOLD_SETTING.prop, `a whole number of minutes from ${HOLD_LIMITS.min} to ${HOLD_LIMITS.max}, known at synth`, value);
  }
  return value;
}

function literalList(owner: string, prop: string, value: readonly string[] | undefined, check: ReturnType<typeof checker>, rule: { pattern: RegExp; expected: string }): readonly string[] {
  const token = firstToken(value, prop);
  if (token) throw new PropValueError(owner, token.path, 'a literal known at synth', token.value);
  return check.list(prop, value, rule);
}
