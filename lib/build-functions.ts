import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV, TAGS } from '../lambdas/shared/env';
import type { BuilderInstance } from './builder-instance';
import { BuildActionFunction } from './lambda-function';

/** How long one instance check watches (well inside the function's 30 s timeout). */
export const CHECK_WATCH_MS = 20_000;

export interface BuildFunctionsProps {
  readonly builder: BuilderInstance;
  /** Subnets the launcher tries in turn. @default - the launch template's (default VPC) */
  readonly subnetIds?: readonly string[];
  /** ARN of the account's default EBS encryption key, when it is customer managed. @default - the AWS managed key (aws/ebs), which needs no grant */
  readonly ebsKmsKeyArn?: string;
}

/** The functions the state machine's tasks invoke, each with only the rights its task needs. */
export class BuildFunctions extends Construct {
  readonly acknowledge: BuildActionFunction;
  readonly launch: BuildActionFunction;
  readonly instanceCheck: BuildActionFunction;
  readonly artifactUrls: BuildActionFunction;
  readonly completion: BuildActionFunction;
  readonly renew: BuildActionFunction;
  readonly waitForBuild: BuildActionFunction;

  constructor(scope: Construct, id: string, props: BuildFunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { builder } = props;

    this.acknowledge = new BuildActionFunction(this, 'Acknowledge', {
      entry: 'acknowledge',
      description: 'Acknowledge Job: the execution takes ownership of its CodePipeline job',
    });
    this.acknowledge.addToRolePolicy(new iam.PolicyStatement({ sid: 'AcknowledgeJob', actions: ['codepipeline:AcknowledgeJob'], resources: ['*'] }));
    this.acknowledge.acknowledgeUnscopedApis('codepipeline:AcknowledgeJob (which also needs the job\'s nonce)');

    this.launch = new BuildActionFunction(this, 'Launch', {
      entry: 'launcher',
      description: 'Launch Instance: one build instance from the stack launch template',
      timeout: Duration.seconds(60),
      environment: {
        [ENV.launchTemplateId]: builder.launchTemplate.ref,
        [ENV.subnetIds]: (props.subnetIds ?? []).join(','),
        [ENV.stackTagValue]: stack.stackName,
        [ENV.rootVolumeGiB]: String(builder.rootVolumeGiB),
      },
    });
    const arn = (resource: string, account = stack.account) => stack.formatArn({ service: 'ec2', resource, resourceName: '*', account });
    const tagged = { StringEquals: { [`aws:RequestTag/${TAGS.stack}`]: stack.stackName } };
    const fromTemplate = { ArnEquals: { 'ec2:LaunchTemplate': builder.launchTemplateArn } };
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LaunchTaggedFromTemplate',
        actions: ['ec2:RunInstances'],
        resources: [arn('instance'), arn('volume')],
        conditions: { ...tagged, ...fromTemplate },
      }),
    );
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LaunchWithTemplateResources',
        actions: ['ec2:RunInstances'],
        resources: [builder.launchTemplateArn, arn('subnet'), arn('security-group'), arn('network-interface'), arn('image', '')],
        conditions: fromTemplate,
      }),
    );
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagAtLaunchOnly',
        actions: ['ec2:CreateTags'],
        resources: [arn('instance'), arn('volume')],
        conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      }),
    );
    this.launch.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadImages', actions: ['ec2:DescribeImages'], resources: ['*'] }));
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassBuildRole',
        actions: ['iam:PassRole'],
        resources: [builder.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    );

    if (props.ebsKmsKeyArn) this.grantEbsKey(props.ebsKmsKeyArn);

    this.instanceCheck = new BuildActionFunction(this, 'InstanceCheck', {
      entry: 'instance-check',
      description: 'Is Instance Ready?: watches the build instance until its SSM agent is online, up to 20 s per call',
      environment: { [ENV.checkWatchMs]: String(CHECK_WATCH_MS) },
    });
    this.instanceCheck.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadInstanceState', actions: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'], resources: ['*'] }),
    );

    this.artifactUrls = new BuildActionFunction(this, 'ArtifactUrls', {
      entry: 'artifact-urls',
      description: 'Presigned artifact URLs from the job\'s own artifact credentials',
    });
    this.artifactUrls.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadJob', actions: ['codepipeline:GetJobDetails'], resources: ['*'] }));

    this.completion = new BuildActionFunction(this, 'Completion', {
      entry: 'completion',
      description: 'Report Result: the job\'s one success or failure result',
    });
    this.completion.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReportJob', actions: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'], resources: ['*'] }),
    );

    this.renew = new BuildActionFunction(this, 'Renew', {
      entry: 'renew',
      description: 'Renew Job: a success with a continuation token for a build that outlives its job\'s horizon',
    });
    // A continuation is a PutJobSuccessResult (with continuationToken): nothing else.
    this.renew.addToRolePolicy(new iam.PolicyStatement({ sid: 'RenewJob', actions: ['codepipeline:PutJobSuccessResult'], resources: ['*'] }));

    this.waitForBuild = new BuildActionFunction(this, 'WaitForBuild', {
      entry: 'wait-for-build',
      description: 'Wait For Build: after a renewal, resumes the execution at once if its build already finished',
    });
    this.waitForBuild.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadCommands', actions: ['ssm:ListCommands', 'ssm:GetCommandInvocation'], resources: ['*'] }),
    );
    // SendTaskSuccess supports no resource-level permissions (see lib/command-events.ts).
    this.waitForBuild.addToRolePolicy(new iam.PolicyStatement({ sid: 'ResumeOwnTask', actions: ['states:SendTaskSuccess'], resources: ['*'] }));

    this.launch.acknowledgeUnscopedApis('ec2:DescribeImages (read-only)');
    this.instanceCheck.acknowledgeUnscopedApis('ec2:DescribeInstances and ssm:DescribeInstanceInformation (read-only)');
    this.artifactUrls.acknowledgeUnscopedApis('codepipeline:GetJobDetails (read-only)');
    this.completion.acknowledgeUnscopedApis('CodePipeline job results (PutJobSuccessResult, PutJobFailureResult)');
    this.renew.acknowledgeUnscopedApis('codepipeline:PutJobSuccessResult');
    this.waitForBuild.acknowledgeUnscopedApis('ssm:ListCommands, ssm:GetCommandInvocation (read-only) and states:SendTaskSuccess (a task token names no resource)');
    const launchReason =
      'Instance, volume and network interface IDs do not exist before launch: RunInstances is allowed only with this stack\'s launch template (ec2:LaunchTemplate) and, for instances and volumes, only with this stack\'s tag; CreateTags only at launch.';
    for (const resource of ['instance', 'volume', 'network-interface', 'security-group', 'subnet']) {
      Validations.of(this.launch.role!).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:${resource}/*]`, reason: launchReason });
    }
    Validations.of(this.launch.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*]',
      reason: 'The AMI is a property of each job; RunInstances is still limited to this stack\'s launch template.',
    });
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
  private grantEbsKey(keyArn: string): void {
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EbsKeyGrantsForVolumes',
        actions: ['kms:CreateGrant'],
        resources: [keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    this.launch.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EbsKeyThroughEc2',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `ec2.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
