import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import type { BuilderInstance } from './builder-instance';
import { grantEbsKey, grantLaunch, grantLaunchChecks } from './launch-grants';
import { BuildActionFunction } from './lambda-function';

/** How long one instance check of an execution started before the readiness watcher watches (well inside the function's timeout). */
export const CHECK_WATCH_MS = 20_000;
/** The instance check function's timeout: the longest one "Is Instance Ready?" invocation takes. */
export const CHECK_TIMEOUT_SECONDS = 30;

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
  readonly buildEnvironment: BuildActionFunction;
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

    // Its rights (the parameters and secrets under the stack's prefixes, the environment objects) are lib/job-bucket.ts's.
    this.buildEnvironment = new BuildActionFunction(this, 'BuildEnvironment', {
      entry: 'build-environment',
      description: 'Store Build Environment: resolves a job\'s environment variables into its object in the job bucket, before launch',
    });

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
    grantLaunch(this.launch, builder);
    grantLaunchChecks(this.launch);

    if (props.ebsKmsKeyArn) grantEbsKey(this.launch, props.ebsKmsKeyArn);

    this.instanceCheck = new BuildActionFunction(this, 'InstanceCheck', {
      entry: 'instance-check',
      description: 'Is Instance Ready?: registers the build with the readiness watcher (and watches by itself for executions started before it)',
      timeout: Duration.seconds(CHECK_TIMEOUT_SECONDS),
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

    this.launch.acknowledgeUnscopedApis('ec2:DescribeImages and ec2:DescribeInstanceTypes (read-only)');
    this.instanceCheck.acknowledgeUnscopedApis('ec2:DescribeInstances, ssm:DescribeInstanceInformation (read-only) and states:SendTaskSuccess/SendTaskFailure (a task token names no resource)');
    this.artifactUrls.acknowledgeUnscopedApis('codepipeline:GetJobDetails (read-only)');
    this.completion.acknowledgeUnscopedApis('CodePipeline job results (PutJobSuccessResult, PutJobFailureResult)');
    this.renew.acknowledgeUnscopedApis('codepipeline:PutJobSuccessResult');
    this.waitForBuild.acknowledgeUnscopedApis('ssm:ListCommands, ssm:GetCommandInvocation (read-only) and states:SendTaskSuccess (a task token names no resource)');
  }
}
