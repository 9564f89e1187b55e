import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_STACK_VARIABLE } from '../lambdas/shared/metric-names';
import { bundleDir } from './bundling';

export interface BuildActionFunctionProps {
  /** Folder under lambdas/ holding handler.ts. */
  readonly entry: string;
  readonly description: string;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /** @default 30 seconds */
  readonly timeout?: Duration;
}

/**
 * Every function of the stack: Node.js 22 on ARM64, its own log group with a retention,
 * its code one minified file bundled by esbuild (lib/bundling.ts): at pack time for the package, on synth in the
 * source tree; never Docker.
 */
export class BuildActionFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: BuildActionFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role with write access to its own log group only (no AWSLambdaBasicExecutionRole).
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}:*`] }),
    );
    super(scope, id, {
      role,
      code: lambda.Code.fromAsset(bundleDir(props.entry)),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(30),
      environment: props.environment,
      logGroup,
    });
    // Its metrics' Stack dimension (lambdas/shared/metrics.ts), the same on every function.
    this.addEnvironment(METRICS_STACK_VARIABLE, Stack.of(this).stackName);
    const logsId = Stack.of(this).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logsId}.Arn>:*]`,
      reason: 'Log streams are created by Lambda under the function\'s own log group; the wildcard is the stream name only.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime this project targets and tests against; moving to a newer one is a deliberate change.',
    });
  }

  /** Acknowledges one cdk-nag finding on this function's role, with its reason. */
  acknowledgeFinding(id: string, reason: string): void {
    Validations.of(this.role!).acknowledge({ id, reason });
  }

  /** Acknowledges `Resource::*` on this function's policy, for APIs that have no resource-level permissions. */
  acknowledgeUnscopedApis(apis: string): void {
    Validations.of(this.role!).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: `${apis} support no resource-level permissions.` });
  }
}
