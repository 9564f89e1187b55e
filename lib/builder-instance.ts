import { ArnFormat, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TAGS } from '../lambdas/shared/env';
import { PROVIDER_DEFAULTS } from './provider-props';

/** Amazon Linux's root device; Windows and Ubuntu AMIs use /dev/sda1. */
export const DEFAULT_ROOT_DEVICE = '/dev/xvda';

export interface BuilderInstanceProps {
  /** Security groups for build instances. @default - the VPC's default security group */
  readonly securityGroupIds?: readonly string[];
  /** Root volume size in GiB. @default 30 */
  readonly rootVolumeGiB?: number;
}

/**
 * What every build instance is launched with: a launch template (IMDSv2 required, encrypted root
 * volume), a role with only what the SSM agent needs, and the log group its build output streams to.
 * The role has no access to the artifact bucket: artifacts travel through presigned URLs.
 */
export class BuilderInstance extends Construct {
  readonly role: iam.Role;
  readonly launchTemplate: ec2.CfnLaunchTemplate;
  readonly logGroup: logs.LogGroup;
  readonly rootVolumeGiB: number;

  constructor(scope: Construct, id: string, props: BuilderInstanceProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const size = props.rootVolumeGiB ?? PROVIDER_DEFAULTS.rootVolumeGiB;
    this.rootVolumeGiB = size;
    this.logGroup = new logs.LogGroup(this, 'BuildLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'ec2-build-action build instances: SSM Run Command and build logs only',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RegisterWithSystemsManager',
        actions: ['ssm:UpdateInstanceInformation'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RunCommandChannels',
        actions: [
          'ec2messages:AcknowledgeMessage',
          'ec2messages:DeleteMessage',
          'ec2messages:FailMessage',
          'ec2messages:GetEndpoint',
          'ec2messages:GetMessages',
          'ec2messages:SendReply',
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        resources: ['*'],
      }),
    );
    this.logGroup.grant(this.role, 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams');
    // Streaming a command's output (SendCommand's CloudWatchOutputConfig), the agent first calls CreateLogGroup on the
    // named group, then DescribeLogGroups to find it, and streams nothing when both are denied: the instance profile
    // needs both (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-rc-setting-up-cwlogs.html, which
    // points to CloudWatchAgentServerPolicy; https://github.com/aws/amazon-ssm-agent/issues/203).
    // The log-group resource type is arn:...:log-group:${LogGroupName}, but CloudWatch Logs documents the ":*" form for
    // IAM policies (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html):
    // both forms, of this one group only, so either way of authorizing it is allowed.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CreateBuildLogGroup',
        actions: ['logs:CreateLogGroup'],
        resources: [
          stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: this.logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          this.logGroup.logGroupArn,
        ],
      }),
    );
    // DescribeLogGroups supports no resource-level permissions (no resource type in
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html): "*" is the only valid resource.
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'FindBuildLogGroup', actions: ['logs:DescribeLogGroups'], resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2messages and ssmmessages (the SSM agent\'s Run Command channels) and logs:DescribeLogGroups (which the agent calls before streaming command output; it lists names only) support no resource-level permissions.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
      reason: 'The agent registers whichever instance it runs on; only this account and Region.',
    });
    const logsId = stack.getLogicalId(this.logGroup.node.defaultChild as logs.CfnLogGroup);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logsId}.Arn>:*]`,
      reason: 'Run Command names a log stream per command under the build log group.',
    });

    const profile = new iam.CfnInstanceProfile(this, 'Profile', { roles: [this.role.roleName] });
    this.launchTemplate = new ec2.CfnLaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateData: {
        iamInstanceProfile: { arn: profile.attrArn },
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 2, instanceMetadataTags: 'disabled' },
        // The launcher repeats this mapping under the AMI's own root device name when it differs.
        blockDeviceMappings: [
          { deviceName: DEFAULT_ROOT_DEVICE, ebs: { encrypted: true, volumeSize: size, volumeType: 'gp3', deleteOnTermination: true } },
        ],
        instanceInitiatedShutdownBehavior: 'terminate',
        monitoring: { enabled: true },
        ...(props.securityGroupIds?.length ? { securityGroupIds: [...props.securityGroupIds] } : {}),
      },
      tagSpecifications: [{ resourceType: 'launch-template', tags: [{ key: TAGS.stack, value: stack.stackName }] }],
    });
    Tags.of(this).add(TAGS.stack, stack.stackName);
  }

  /** ARN of the launch template, for IAM conditions. */
  get launchTemplateArn(): string {
    return Stack.of(this).formatArn({ service: 'ec2', resource: 'launch-template', resourceName: this.launchTemplate.ref });
  }
}
