#!/usr/bin/env node
import { App, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { Ec2BuildAction, Ec2BuildProvider, type IEc2BuildProvider } from 'ec2-build-action';

/** Runs every build job of this account and Region on EC2. Deploy it once; any number of pipelines use it. */
class BuildProviderStack extends Stack {
  readonly provider: Ec2BuildProvider;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.provider = new Ec2BuildProvider(this, 'Ec2Builds', {
      // subnetIds: ['subnet-…'], securityGroupIds: ['sg-…'], rootVolumeGiB: 50,
    });
  }
}

interface PipelineStackProps extends StackProps {
  /** The provider: this app's, or `Ec2BuildProvider.fromAttributes(this, 'Builds', { version: '1' })` for one deployed elsewhere. */
  readonly provider: IEc2BuildProvider;
  /** The AMI to build on: `-c imageId=ami-…`, or the latest Amazon Linux 2023 (it has the SSM agent). */
  readonly imageId?: string;
}

/** Source from S3 (upload a zip of your project as source.zip), build on EC2, keep the output. */
class PipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const sources = new s3.Bucket(this, 'Sources', {
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    const source = new codepipeline.Artifact('Source');
    const built = new codepipeline.Artifact('Built');
    const imageId = props.imageId ?? ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }).getImage(this).imageId;

    new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      stages: [
        {
          stageName: 'Source',
          actions: [new actions.S3SourceAction({ actionName: 'Source', bucket: sources, bucketKey: 'source.zip', output: source, trigger: actions.S3Trigger.NONE })],
        },
        {
          stageName: 'Build',
          actions: [
            new Ec2BuildAction({
              actionName: 'BuildOnEc2',
              provider: props.provider,
              input: source,
              outputs: [built],
              imageId,
              instanceTypes: ['c7g.large', 'm7g.large'],
              command: 'bash build.sh',
              outputArtifactPath: 'dist',
              timeout: Duration.minutes(30),
            }),
          ],
        },
      ],
    });
  }
}

const app = new App();
const { provider } = new BuildProviderStack(app, 'Ec2BuildProvider');
new PipelineStack(app, 'Ec2BuildPipeline', { provider, imageId: app.node.tryGetContext('imageId') as string | undefined });
