import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TAGS } from '../lambdas/shared/env';
import { IMAGE_ALIASES } from '../lambdas/shared/image-aliases';
import type { BuilderInstance } from './builder-instance';
import type { BuildActionFunction } from './lambda-function';

/**
 * What a function that launches build instances needs (the launcher for a job, the refill for a fleet's pools):
 * RunInstances only from this stack's launch template and only with this stack's tag, tags only at launch, AMI
 * lookups, and passing the build role to EC2.
 */
export function grantLaunch(fn: BuildActionFunction, builder: BuilderInstance): void {
  const stack = Stack.of(fn);
  const arn = (resource: string, account = stack.account) => stack.formatArn({ service: 'ec2', resource, resourceName: '*', account });
  const tagged = { StringEquals: { [`aws:RequestTag/${TAGS.stack}`]: stack.stackName } };
  const fromTemplate = { ArnEquals: { 'ec2:LaunchTemplate': builder.launchTemplateArn } };
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'LaunchTaggedFromTemplate',
      actions: ['ec2:RunInstances'],
      resources: [arn('instance'), arn('volume')],
      conditions: { ...tagged, ...fromTemplate },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'LaunchWithTemplateResources',
      actions: ['ec2:RunInstances'],
      resources: [builder.launchTemplateArn, arn('subnet'), arn('security-group'), arn('network-interface'), arn('image', '')],
      conditions: fromTemplate,
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'TagAtLaunchOnly',
      actions: ['ec2:CreateTags'],
      resources: [arn('instance'), arn('volume')],
      conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    }),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadImages', actions: ['ec2:DescribeImages'], resources: ['*'] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'PassBuildRole',
      actions: ['iam:PassRole'],
      resources: [builder.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    }),
  );
  const launchReason =
    'Instance, volume and network interface IDs do not exist before launch: RunInstances is allowed only with this stack\'s launch template (ec2:LaunchTemplate) and, for instances and volumes, only with this stack\'s tag; CreateTags only at launch.';
  for (const resource of ['instance', 'volume', 'network-interface', 'security-group', 'subnet']) {
    Validations.of(fn.role!).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${resource}/*]`, reason: launchReason });
  }
  Validations.of(fn.role!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*]',
    reason: 'The AMI is a property of each job or fleet; RunInstances is still limited to this stack\'s launch template.',
  });
}

/**
 * What the launcher's checks before a job's launch need beyond grantLaunch: reading the public parameters behind the
 * stock image aliases (lambdas/shared/image-aliases.ts) with GetParameter, the call resolveImageId makes (RunInstances
 * is given the AMI ID, never `resolve:ssm:`, so it needs no ssm:GetParameters), and DescribeInstanceTypes for the
 * instance types' architectures, which has no resource types or condition keys of its own
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html): Resource "*".
 * A parameter's ARN is arn:${Partition}:ssm:${Region}:${Account}:parameter/${Name without its leading slash}
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html#awssystemsmanager-resources-for-iam-policies);
 * AWS's examples write the public ones with no account (arn:aws:ssm:REGION::parameter/aws/service/…:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html), so both
 * forms are granted, as for a fleet's parameters (lib/fleet-pools.ts): either reading works.
 */
export function grantLaunchChecks(fn: BuildActionFunction): void {
  const stack = Stack.of(fn);
  const arn = (name: string, account: string) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), account });
  const parameters = Object.values(IMAGE_ALIASES).flatMap((name) => [arn(name, ''), arn(name, stack.account)]);
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadStockImageParameters', actions: ['ssm:GetParameter'], resources: parameters }));
  fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadInstanceTypes', actions: ['ec2:DescribeInstanceTypes'], resources: ['*'] }));
}

/**
 * What a Spot launch needs beyond an on-demand one. RunInstances with Spot market options is authorized on the Spot
 * request it creates too (resource spot-instances-request, which takes no ec2:LaunchTemplate condition:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-RunInstances), and
 * EC2 creates the account's Spot service-linked role on first use, as the caller ("If you use the AWS CLI or an API to
 * request a Spot Instance, you must first ensure that this role exists":
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html), so the caller
 * may create that role and no other (iam:AWSServiceName:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create-service-linked-role.html#service-linked-role-permissions).
 */
export function grantSpot(fn: BuildActionFunction): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'LaunchSpot',
      actions: ['ec2:RunInstances'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'spot-instances-request', resourceName: '*' })],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'CreateSpotServiceRole',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot' })],
      conditions: { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } },
    }),
  );
  Validations.of(fn.role!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:spot-instances-request/*]',
    reason: 'A Spot request ID does not exist before the launch that creates it; RunInstances on the instance itself still needs this stack\'s launch template and tag.',
  });
}

/** Instance actions on this stack's instances only (aws:ResourceTag), e.g. StartInstances on a claimed pool member. */
export function grantOnOwnInstances(fn: BuildActionFunction, sid: string, actions: string[]): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid,
      actions,
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      conditions: { StringEquals: { [`aws:ResourceTag/${TAGS.stack}`]: stack.stackName } },
    }),
  );
}

/**
 * What the principal calling RunInstances needs on a customer managed key that encrypts its volumes (here the
 * account's default EBS key): "kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText,
 * kms:ReEncrypt", CreateGrant only for AWS resources (kms:GrantIsForAWSResource), per
 * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html#ebs-encryption-permissions.
 * "kms:ReEncrypt" is the pair ReEncryptFrom/ReEncryptTo in IAM. The rest only through EC2 (kms:ViaService, as the AWS
 * managed aws/ebs key's own policy does: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 * The key's policy must also let this account's IAM policies grant its use (the default key policy does).
 */
export function grantEbsKey(fn: BuildActionFunction, keyArn: string): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'EbsKeyGrantsForVolumes',
      actions: ['kms:CreateGrant'],
      resources: [keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'EbsKeyThroughEc2',
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      resources: [keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `ec2.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}
