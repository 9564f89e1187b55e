import type { Node } from 'constructs';
import type { ActionTypeRef } from '../lambdas/shared/types';

/** Context keys users set with `cdk deploy -c key=value` or in cdk.json. */
export const CONTEXT = {
  stackName: 'ec2-build-action:stackName',
  category: 'ec2-build-action:category',
  provider: 'ec2-build-action:provider',
  version: 'ec2-build-action:version',
  subnetIds: 'ec2-build-action:subnetIds',
  securityGroupIds: 'ec2-build-action:securityGroupIds',
  rootVolumeGiB: 'ec2-build-action:rootVolumeGiB',
} as const;

const CATEGORIES = ['Build', 'Test', 'Deploy', 'Invoke', 'Approval', 'Source'];

export interface AppSettings {
  readonly stackName: string;
  readonly actionType: ActionTypeRef;
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly rootVolumeGiB: number;
}

function list(value: unknown, key: string, pattern: RegExp): string[] {
  if (value === undefined || value === '') return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const trimmed = items.map((s) => s.trim()).filter(Boolean);
  for (const item of trimmed) {
    if (!pattern.test(item)) throw new Error(`${key} must be a comma-separated list like ${pattern.source}, got ${JSON.stringify(item)}`);
  }
  return trimmed;
}

/** Reads and checks the context once; errors name the key and echo the value. */
export function readSettings(node: Node): AppSettings {
  const get = (key: string, fallback: string) => String(node.tryGetContext(key) ?? fallback).trim();
  const category = get(CONTEXT.category, 'Build');
  if (!CATEGORIES.includes(category)) throw new Error(`${CONTEXT.category} must be one of ${CATEGORIES.join(', ')}, got ${JSON.stringify(category)}`);
  const provider = get(CONTEXT.provider, 'EC2-Build');
  if (!/^[0-9A-Za-z_-]{1,35}$/.test(provider)) throw new Error(`${CONTEXT.provider} must be 1 to 35 letters, digits, - or _, got ${JSON.stringify(provider)}`);
  const version = get(CONTEXT.version, '1');
  if (!/^[0-9A-Za-z_-]{1,9}$/.test(version)) throw new Error(`${CONTEXT.version} must be 1 to 9 letters, digits, - or _, got ${JSON.stringify(version)}`);
  const stackName = get(CONTEXT.stackName, 'Ec2BuildAction');
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) throw new Error(`${CONTEXT.stackName} must be a CloudFormation stack name, got ${JSON.stringify(stackName)}`);
  const rootVolumeGiB = Number(get(CONTEXT.rootVolumeGiB, '30'));
  return {
    stackName,
    actionType: { owner: 'Custom', category, provider, version },
    subnetIds: list(node.tryGetContext(CONTEXT.subnetIds), CONTEXT.subnetIds, /^subnet-[0-9a-f]{8,17}$/),
    securityGroupIds: list(node.tryGetContext(CONTEXT.securityGroupIds), CONTEXT.securityGroupIds, /^sg-[0-9a-f]{8,17}$/),
    rootVolumeGiB,
  };
}
