import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV, TAGS } from '../lambdas/shared/env';
import type { Fleet } from '../lambdas/shared/fleets';
import type { BuilderInstance } from './builder-instance';
import { BuildActionFunction } from './lambda-function';
import { grantEbsKey, grantLaunch, grantOnOwnInstances, grantSpot } from './launch-grants';

/** How long one refill run watches warming and stopping pool instances, and its function's timeout around it. */
export const REFILL_WATCH_MS = 50_000;
const REFILL_TIMEOUT = Duration.seconds(90);

/**
 * Lambda's limit on a function's environment: 4 KB for all its variables together
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-limits). FLEETS
 * shares it with the function's other variables, so it may take at most this much.
 */
export const FLEETS_VARIABLE_BUDGET = 3000;

export interface FleetPoolsProps {
  readonly builder: BuilderInstance;
  readonly fleets: Readonly<Record<string, Fleet>>;
  /** The launcher, which claims pool instances. */
  readonly launcher: BuildActionFunction;
  /** The renew function, which also reports a waiting job's place in its fleet's line ("Report Place In Line"). */
  readonly renew: BuildActionFunction;
  readonly subnetIds?: readonly string[];
  readonly ebsKmsKeyArn?: string;
}

/** The fleets as the FLEETS variable holds them; throws, naming the size and the limit, when they do not fit. */
export function fleetsVariable(fleets: Readonly<Record<string, Fleet>>): string {
  const value = JSON.stringify(fleets);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > FLEETS_VARIABLE_BUDGET) {
    throw new Error(
      `fleets take ${bytes} bytes as the functions' FLEETS variable, more than the ${FLEETS_VARIABLE_BUDGET} that Lambda's 4 KB limit on a function's variables leaves for them (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html): use fewer fleets or schedules, or shorter names`,
    );
  }
  return value;
}

/**
 * The parameters a fleet's `resolve:ssm:` image names, as IAM resources (a version or label is not part of the ARN:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html). AWS's public
 * parameters are written with no account in their ARN in AWS's examples (arn:aws:ssm:REGION::parameter/aws/service/…),
 * while the Service Authorization Reference gives the parameter resource an account
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html#awssystemsmanager-resources-for-iam-policies):
 * both forms are granted, so either reading works. The account's own parameters carry its account.
 */
export function imageParameterArns(stack: Stack, fleets: Readonly<Record<string, Fleet>>): string[] {
  const names = Object.values(fleets)
    .map((f) => f.imageId)
    .filter((id) => id.startsWith('resolve:ssm:'))
    .map((id) => id.slice('resolve:ssm:'.length))
    .map((name) => (name.startsWith('/') ? name.replace(/:[^/]*$/, '') : name.replace(/:.*$/, '')));
  const arn = (name: string, account: string) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, ''), account });
  const arns = names.flatMap((name) => (name.startsWith('/aws/service/') ? [arn(name, ''), arn(name, stack.account)] : [arn(name, stack.account)]));
  return [...new Set(arns)];
}

/**
 * What fleets run on: the pool table (pool members, slots, the line, circuit breakers, refill leases), the slot
 * function behind "Take Fleet Slot" and "Free Fleet Slot", and the refill that keeps each fleet's pools at their
 * sizes (every minute while the stack has fleets, and at once after a claim). A stack without fleets keeps the table
 * and functions idle (the state machine names the slot function) and schedules no refill.
 */
export class FleetPools extends Construct {
  readonly table: dynamodb.Table;
  readonly slots: BuildActionFunction;
  readonly refill: BuildActionFunction;
  /** The FLEETS variable's value, for every function that reads the fleets. */
  readonly fleetsJson: string;

  constructor(scope: Construct, id: string, props: FleetPoolsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { builder, launcher } = props;
    this.fleetsJson = fleetsVariable(props.fleets);
    // Pool state is rebuilt by the refill from EC2 itself; nothing in it outlives the stack.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const itemActions = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
    const useTable = (fn: BuildActionFunction, sid: string) => {
      fn.addToRolePolicy(new iam.PolicyStatement({ sid, actions: itemActions, resources: [this.table.tableArn] }));
      fn.addEnvironment(ENV.poolTableName, this.table.tableName);
    };

    this.slots = new BuildActionFunction(this, 'Slots', {
      entry: 'fleet-slots',
      description: "Take Fleet Slot and Free Fleet Slot: a fleet's maxConcurrent builds and its line of waiting jobs",
    });
    useTable(this.slots, 'FleetSlots');
    // SendTaskSuccess supports no resource-level permissions (see lib/command-events.ts).
    this.slots.addToRolePolicy(new iam.PolicyStatement({ sid: 'ResumeWaitingTasks', actions: ['states:SendTaskSuccess'], resources: ['*'] }));
    this.slots.acknowledgeUnscopedApis('states:SendTaskSuccess (a task token names no resource)');

    // A job in line reports its place (GetItem, then a COUNT Query) and leaves the line when its wait is over.
    props.renew.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadPlaceInLine', actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DeleteItem'], resources: [this.table.tableArn] }));
    props.renew.addEnvironment(ENV.poolTableName, this.table.tableName);

    this.refill = new BuildActionFunction(this, 'Refill', {
      entry: 'pool-refill',
      description: "Refill: keeps each fleet's hot and stopped pools at their sizes, replacing stale and dead members",
      timeout: REFILL_TIMEOUT,
      environment: {
        [ENV.fleets]: this.fleetsJson,
        [ENV.launchTemplateId]: builder.launchTemplate.ref,
        [ENV.subnetIds]: (props.subnetIds ?? []).join(','),
        [ENV.stackTagValue]: stack.stackName,
        [ENV.rootVolumeGiB]: String(builder.rootVolumeGiB),
        [ENV.refillWatchMs]: String(REFILL_WATCH_MS),
      },
    });
    useTable(this.refill, 'PoolMembers');
    grantLaunch(this.refill, builder);
    if (props.ebsKmsKeyArn) grantEbsKey(this.refill, props.ebsKmsKeyArn);
    grantOnOwnInstances(this.refill, 'ManageOwnPoolInstances', ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:TerminateInstances']);
    this.refill.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadInstanceState', actions: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'], resources: ['*'] }));
    this.refill.acknowledgeUnscopedApis('ec2:DescribeImages, ec2:DescribeInstances and ssm:DescribeInstanceInformation (read-only)');

    useTable(launcher, 'ClaimPoolInstances');
    grantOnOwnInstances(launcher, 'TakeOverPoolInstances', ['ec2:StartInstances', 'ec2:TerminateInstances']);
    // A hot member is checked alive before a build gets it (lambdas/launcher/capacity.ts).
    launcher.addToRolePolicy(new iam.PolicyStatement({ sid: 'CheckPoolMembers', actions: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'], resources: ['*'] }));
    launcher.acknowledgeUnscopedApis('ec2:DescribeImages, ec2:DescribeInstances and ssm:DescribeInstanceInformation (read-only)');
    // A claimed member gets the job's tags, only on this stack's instances and only those two keys.
    launcher.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TagClaimedForJob',
        actions: ['ec2:CreateTags'],
        resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${TAGS.stack}`]: stack.stackName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAGS.jobId, TAGS.execution] },
        },
      }),
    );
    if (Object.values(props.fleets).some((f) => f.market !== 'on-demand')) {
      grantSpot(launcher);
      grantSpot(this.refill);
    }
    const parameters = imageParameterArns(stack, props.fleets);
    if (parameters.length > 0) {
      for (const fn of [launcher, this.refill]) {
        fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadFleetImageParameters', actions: ['ssm:GetParameter'], resources: parameters }));
      }
    }
    if (Object.keys(props.fleets).length > 0) {
      new events.Rule(this, 'RefillSchedule', {
        description: "Refills every fleet's pools and applies their schedules",
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.LambdaFunction(this.refill, { retryAttempts: 0 })],
      });
    }
  }

  /**
   * The slot function asks Step Functions whether an execution still runs before it keeps a freed slot for a job that
   * waits on no task (lambdas/fleet-slots/slots.ts): DescribeExecution on this stack's executions only.
   */
  grantLineChecks(executionsArn: string): void {
    this.slots.addToRolePolicy(new iam.PolicyStatement({ sid: 'IsWaitingExecutionRunning', actions: ['states:DescribeExecution'], resources: [executionsArn] }));
    this.slots.acknowledgeFinding(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${Stack.of(this).stackName}-BuildJob:*]`,
      "Execution names are not known in advance; read-only, and this state machine's executions only.",
    );
  }
}
