import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Ec2BuildProvider } from './provider';
import type { Ec2BuildProviderProps } from './provider-props';

export interface Ec2BuildActionStackProps extends StackProps, Ec2BuildProviderProps {}

/**
 * The app's one stack (bin/): an Ec2BuildProvider and the outputs `cdk deploy` prints. The provider's id is
 * `Default`, which CDK leaves out of logical IDs, so the stack deploys the same resources as when it held them itself.
 */
export class Ec2BuildActionStack extends Stack {
  readonly provider: Ec2BuildProvider;

  constructor(scope: Construct, id: string, props: Ec2BuildActionStackProps = {}) {
    super(scope, id, props);
    const provider = new Ec2BuildProvider(this, 'Default', props);
    this.provider = provider;
    const { category, provider: providerName, version } = provider.actionType;
    new CfnOutput(this, 'ActionTypeId', { value: `Owner=Custom,Category=${category},Provider=${providerName},Version=${version}` });
    new CfnOutput(this, 'StateMachineArn', { value: provider.stateMachine.stateMachineArn });
    new CfnOutput(this, 'BuildDocumentName', { value: provider.documentName });
    new CfnOutput(this, 'BuildLogGroupName', { value: provider.buildLogGroupName });
  }
}
