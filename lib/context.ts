import type { Node } from 'constructs';
import { FLEETS_CONTEXT, FleetValueError, parseFleets, type Fleet } from '../lambdas/shared/fleets';
import { SCOPE_SETTINGS } from '../lambdas/shared/build-environment';
import { HOLD_LIMITS, HOLD_SETTING } from '../lambdas/shared/hold';
import { ACTION_TYPE_RULES, PROVIDER_DEFAULTS, RESOURCE_RULES, type Ec2BuildProviderProps } from './provider-props';

/** Context keys users set with `cdk deploy -c key=value` or in cdk.json. */
export const CONTEXT = {
  stackName: 'ec2-build-action:stackName',
  category: 'ec2-build-action:category',
  provider: 'ec2-build-action:provider',
  version: 'ec2-build-action:version',
  previousVersions: 'ec2-build-action:previousVersions',
  subnetIds: 'ec2-build-action:subnetIds',
  securityGroupIds: 'ec2-build-action:securityGroupIds',
  rootVolumeGiB: 'ec2-build-action:rootVolumeGiB',
  ebsKmsKeyArn: 'ec2-build-action:ebsKmsKeyArn',
  fleets: FLEETS_CONTEXT,
  parameterPrefixes: SCOPE_SETTINGS.parameterPrefixes.context,
  secretPrefixes: SCOPE_SETTINGS.secretPrefixes.context,
  referenceKmsKeyArns: 'ec2-build-action:referenceKmsKeyArns',
  alarmTopicArn: 'ec2-build-action:alarmTopicArn',
  holdOnFailureMinutes: HOLD_SETTING.context,
  cacheExpiryDays: 'ec2-build-action:cacheExpiryDays',
} as const;

/** What the context sets: the provider's props, and the stack's name. */
export interface AppSettings extends Ec2BuildProviderProps {
  readonly stackName: string;
}

/** A context value that cannot be used; the message names the key and echoes the value. */
export class ContextValueError extends Error {
  override readonly name = 'ContextValueError';
  constructor(key: string, expected: string, value: unknown) {
    super(`${key} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
  }
}

/** The one reader of context values: a missing or null value is the default (an empty list or none); anything else is checked. */
function reader(node: Node) {
  const raw = (key: string): unknown => node.tryGetContext(key) ?? undefined;
  const blank = (value: unknown) => value === undefined || (typeof value === 'string' && value.trim() === '');
  const text = (key: string, value: unknown, expected: string): string => {
    if (typeof value !== 'string' && typeof value !== 'number') throw new ContextValueError(key, expected, value);
    return String(value).trim();
  };
  return {
    string(key: string, fallback: string, pattern: RegExp, expected: string): string {
      const value = raw(key);
      if (value === undefined) return fallback;
      const s = text(key, value, expected);
      if (!pattern.test(s)) throw new ContextValueError(key, expected, value);
      return s;
    },
    optional(key: string, pattern: RegExp, expected: string): string | undefined {
      return blank(raw(key)) ? undefined : this.string(key, '', pattern, expected);
    },
    integer(key: string, fallback: number, min: number, max: number, unit: string): number {
      const expected = `a whole number of ${unit} from ${min} to ${max}`;
      const value = raw(key);
      if (value === undefined) return fallback;
      const s = text(key, value, expected);
      const n = Number(s);
      if (!/^\d+$/.test(s) || n < min || n > max) throw new ContextValueError(key, expected, value);
      return n;
    },
    list(key: string, pattern: RegExp, expected: string): string[] {
      const value = raw(key);
      if (blank(value)) return [];
      const items: unknown[] = Array.isArray(value) ? value : text(key, value, expected).split(',');
      const trimmed = items.map((s) => (typeof s === 'string' ? s.trim() : s)).filter((s) => s !== '');
      for (const item of trimmed) {
        if (typeof item !== 'string' || !pattern.test(item)) throw new ContextValueError(key, expected, item);
      }
      return trimmed as string[];
    },
    /** Fleets: a JSON object as text (`-c key='{...}'`) or an object (cdk.json); errors name the key and the fleet's field. */
    fleets(key: string): Record<string, Fleet> | undefined {
      const value = raw(key);
      if (blank(value)) return undefined;
      let parsed = value;
      if (typeof value === 'string') {
        try {
          parsed = JSON.parse(value);
        } catch {
          throw new ContextValueError(key, 'a JSON object of fleets keyed by name', value);
        }
      }
      try {
        return parseFleets(parsed, key);
      } catch (e) {
        if (!(e instanceof FleetValueError)) throw e;
        throw new ContextValueError(e.path, e.expected, e.value);
      }
    },
  };
}

/**
 * Reads and checks the context once; errors name the key and echo the value. The rules are the provider's
 * (lib/provider-props.ts), which checks the props again and names them.
 */
export function readSettings(node: Node): AppSettings {
  const read = reader(node);
  const { categories, provider, version } = ACTION_TYPE_RULES;
  const { subnetId, securityGroupId, kmsKeyArn, rootVolumeGiB } = RESOURCE_RULES;
  return {
    stackName: read.string(CONTEXT.stackName, 'Ec2BuildAction', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name'),
    category: read.string(CONTEXT.category, PROVIDER_DEFAULTS.category, new RegExp(`^(${categories.join('|')})$`), `one of ${categories.join(', ')}`),
    providerName: read.string(CONTEXT.provider, PROVIDER_DEFAULTS.providerName, provider.pattern, provider.expected),
    version: read.string(CONTEXT.version, PROVIDER_DEFAULTS.version, version.pattern, version.expected),
    previousVersions: read.list(CONTEXT.previousVersions, version.pattern, `a comma-separated list of earlier versions (each ${version.expected})`),
    subnetIds: read.list(CONTEXT.subnetIds, subnetId.pattern, 'a comma-separated list of subnet IDs (subnet-0123abcd...)'),
    securityGroupIds: read.list(CONTEXT.securityGroupIds, securityGroupId.pattern, 'a comma-separated list of security group IDs (sg-0123abcd...)'),
    rootVolumeGiB: read.integer(CONTEXT.rootVolumeGiB, PROVIDER_DEFAULTS.rootVolumeGiB, rootVolumeGiB.min, rootVolumeGiB.max, 'GiB'),
    ebsKmsKeyArn: read.optional(CONTEXT.ebsKmsKeyArn, kmsKeyArn.pattern, kmsKeyArn.expected),
    fleets: read.fleets(CONTEXT.fleets),
    parameterPrefixes: read.list(CONTEXT.parameterPrefixes, RESOURCE_RULES.parameterPrefix.pattern, `a comma-separated list of ${RESOURCE_RULES.parameterPrefix.expected}`),
    secretPrefixes: read.list(CONTEXT.secretPrefixes, RESOURCE_RULES.secretPrefix.pattern, `a comma-separated list of ${RESOURCE_RULES.secretPrefix.expected}`),
    referenceKmsKeyArns: read.list(CONTEXT.referenceKmsKeyArns, kmsKeyArn.pattern, `a comma-separated list of ${kmsKeyArn.expected}`),
    alarmTopicArn: read.optional(CONTEXT.alarmTopicArn, RESOURCE_RULES.snsTopicArn.pattern, RESOURCE_RULES.snsTopicArn.expected),
    holdOnFailureMinutes: read.integer(CONTEXT.holdOnFailureMinutes, 0, HOLD_LIMITS.min, HOLD_LIMITS.max, 'minutes'),
    cacheExpiryDays: read.integer(CONTEXT.cacheExpiryDays, PROVIDER_DEFAULTS.cacheExpiryDays, RESOURCE_RULES.cacheExpiryDays.min, RESOURCE_RULES.cacheExpiryDays.max, 'days'),
  };
}
