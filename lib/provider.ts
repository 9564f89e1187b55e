import { Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../lambdas/shared/env';
import type { Fleet } from '../lambdas/shared/fleets';
import type { ActionTypeRef } from '../lambdas/shared/types';
import { BuildActionType } from './action-type';
import { BuildDocument } from './build-document';
import { BuildFunctions } from './build-functions';
import { BuildWorkflow } from './build-workflow';
import { BuilderInstance } from './builder-instance';
import { CommandEvents } from './command-events';
import { FleetPools } from './fleet-pools';
import { Readiness } from './readiness';
import { JobPoller } from './job-poller';
import { FIRST_CONSTRUCT_ID, pinFile, readPin } from './action-type-snapshot';
import { JobBucket } from './job-bucket';
import { KeptActionType } from './kept-action-type';
import { Observability } from './observability';
import { resolveProviderProps, type Ec2BuildProviderProps, type ResolvedProviderProps } from './provider-props';
import { SafetyNets } from './safety-nets';
import { SpotInterruptions } from './spot-interruptions';

/** A provider of the EC2 build action type: one this app deploys, or one deployed elsewhere. */
export interface IEc2BuildProvider {
  /** The custom action type pipelines name in their `ActionTypeId`. */
  readonly actionType: ActionTypeRef;
  /** The action type's resource when this app deploys it: a pipeline in the same app is deployed after it. */
  readonly actionTypeResource?: IConstruct;
  /** Its fleets, when this app defines them (an action's `fleet` is checked against them at synth). */
  readonly fleets?: Readonly<Record<string, Fleet>>;
}

/** Names a provider deployed in another stack or app. */
export interface Ec2BuildProviderAttributes {
  /** @default 'Build' */
  readonly category?: string;
  /** The provider name it registered. @default 'EC2-Build' */
  readonly providerName?: string;
  /** The version it registered. @default '1' */
  readonly version?: string;
}

/** A state machine name is 1 to 80 characters (https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html); `-BuildJob` takes 9. */
const MAX_STACK_NAME = 80 - '-BuildJob'.length;

const sameType = (a: ActionTypeRef, b: ActionTypeRef) => a.category === b.category && a.provider === b.provider && a.version === b.version;

/**
 * Registers the kept versions under the construct ids their pins record, and the current version under its own:
 * the one its pin records, or for a new version `ActionType` when that is free, else `ActionType<version>`. Each
 * version keeps one logical ID for its life: CloudFormation creates a replacement before it deletes the old resource,
 * and a second resource with a taken identity would fail. Returns the current version's construct.
 */
function registerVersions(scope: Construct, resolved: ResolvedProviderProps, documentName: string): IConstruct {
  const pin = resolved.actionTypePin;
  const keptIds = resolved.previousVersions.map((ref) => KeptActionType.constructIdOf(ref, pin));
  // An unpinned version's id depends on which versions are kept today: with kept versions it must be pinned now, so
  // that it keeps this id when they are retired (else CloudFormation would see its Version change under one logical ID).
  const currentPin = readPin(resolved.actionType, pin?.directory);
  if (resolved.previousVersions.length > 0 && !currentPin && !pin?.writeMissing) {
    throw new Error(
      `Ec2BuildProvider: version ${resolved.actionType.version} is registered beside kept versions, so it must be pinned: ` +
        `set actionTypePin: { directory: '<a folder you commit>', writeMissing: true } (${pinFile(resolved.actionType, pin?.directory)} does not exist)`,
    );
  }
  const current = currentPin?.constructId ?? (keptIds.includes(FIRST_CONSTRUCT_ID) ? `${FIRST_CONSTRUCT_ID}${resolved.actionType.version}` : FIRST_CONSTRUCT_ID);
  const ids = [...keptIds, current];
  if (new Set(ids).size !== ids.length) {
    throw new Error(`Ec2BuildProvider: versions ${[...resolved.previousVersions, resolved.actionType].map((r) => r.version).join(', ')} would share a construct id (${ids.join(', ')}); their pins must record different ones`);
  }
  resolved.previousVersions.forEach((ref, i) => new KeptActionType(scope, keptIds[i], { actionType: ref, documentName, pin }));
  return new BuildActionType(scope, current, { actionType: resolved.actionType, documentName, pin, keptVersions: resolved.previousVersions.map((r) => r.version) });
}

/** Where a provider cannot go: beside another in its stack, beside one of the app registering one of its versions, or in a stack whose name is too long. */
function refusePlacement(self: Ec2BuildProvider, id: string, resolved: ResolvedProviderProps): void {
  const stack = Stack.of(self);
  // Its instances, state machine and IAM conditions are named and tagged after the stack (lib/builder-instance.ts,
  // lib/build-workflow.ts): a second provider in the same stack would share them and sweep the first's instances.
  const other = stack.node.findAll().find((c) => c !== self && c instanceof Ec2BuildProvider);
  if (other) throw new Error(`Ec2BuildProvider: a stack holds at most one, and ${stack.stackName} already has ${other.node.path}; put '${id}' in a stack of its own`);
  // An action type exists once per account and Region: two providers of one app registering the same one would collide.
  const { category, provider } = resolved.actionType;
  const mine = [...resolved.previousVersions, resolved.actionType];
  for (const c of self.node.root.node.findAll()) {
    const clash = c !== self && c instanceof Ec2BuildProvider && c.actionTypes ? mine.find((t) => c.actionTypes.some((u) => sameType(t, u))) : undefined;
    if (clash) throw new Error(`Ec2BuildProvider: ${c.node.path} already registers Custom/${category}/${provider}/${clash.version}; give '${id}' another providerName or version`);
  }
  // The state machine is named <stack>-BuildJob, at most 80 characters (lib/build-workflow.ts).
  if (!Token.isUnresolved(stack.stackName) && stack.stackName.length > MAX_STACK_NAME) {
    throw new Error(`Ec2BuildProvider: the name of its stack must be at most ${MAX_STACK_NAME} characters (its state machine is named after it), got ${JSON.stringify(stack.stackName)}`);
  }
}

class ImportedProvider extends Construct implements IEc2BuildProvider {
  constructor(
    scope: Construct,
    id: string,
    readonly actionType: ActionTypeRef,
  ) {
    super(scope, id);
  }
}

/**
 * Everything that runs CodePipeline jobs on EC2: the custom action type, the poller and its trigger, the state
 * machine, the SSM document, the functions and the safety nets. Deploy one per account and Region; any pipeline
 * there then runs builds on it with `Ec2BuildAction`.
 */
export class Ec2BuildProvider extends Construct implements IEc2BuildProvider {
  /** Refers to a provider deployed elsewhere (another stack or app) by the action type it registered. */
  static fromAttributes(scope: Construct, id: string, attrs: Ec2BuildProviderAttributes = {}): IEc2BuildProvider {
    const { actionType } = resolveProviderProps(attrs, 'Ec2BuildProvider.fromAttributes');
    return new ImportedProvider(scope, id, actionType);
  }

  readonly actionType: ActionTypeRef;
  /** Every version it serves: those it keeps (previousVersions), then the current one. */
  readonly actionTypes: readonly ActionTypeRef[];
  readonly actionTypeResource: IConstruct;
  readonly fleets: Readonly<Record<string, Fleet>>;
  /** The state machine that runs each build. */
  readonly stateMachine: sfn.IStateMachine;
  /** The SSM Command document each build runs. */
  readonly documentName: string;
  /** The log group the builds' output streams to. */
  readonly buildLogGroupName: string;

  constructor(scope: Construct, id: string, props: Ec2BuildProviderProps = {}) {
    super(scope, id);
    const resolved = resolveProviderProps(props);
    refusePlacement(this, id, resolved);
    this.actionType = resolved.actionType;
    this.fleets = resolved.fleets ?? {};
    const document = new BuildDocument(this, 'BuildDocument');
    const builder = new BuilderInstance(this, 'Builder', { securityGroupIds: resolved.securityGroupIds, rootVolumeGiB: resolved.rootVolumeGiB });
    const functions = new BuildFunctions(this, 'Tasks', { builder, subnetIds: resolved.subnetIds, ebsKmsKeyArn: resolved.ebsKmsKeyArn });
    const pools = new FleetPools(this, 'Fleets', {
      builder,
      fleets: resolved.fleets ?? {},
      launcher: functions.launch,
      renew: functions.renew,
      subnetIds: resolved.subnetIds,
      ebsKmsKeyArn: resolved.ebsKmsKeyArn,
    });
    new Readiness(this, 'Readiness', { table: pools.table, instanceCheck: functions.instanceCheck });
    const workflow = new BuildWorkflow(this, 'Workflow', {
      acknowledgeFunction: functions.acknowledge,
      buildEnvironmentFunction: functions.buildEnvironment,
      launchFunction: functions.launch,
      instanceCheckFunction: functions.instanceCheck,
      artifactUrlsFunction: functions.artifactUrls,
      completionFunction: functions.completion,
      renewFunction: functions.renew,
      waitForBuildFunction: functions.waitForBuild,
      fleetSlotsFunction: pools.slots,
      refillFunction: pools.refill,
      documentName: document.documentName,
      documentArn: document.documentArn,
      buildLogGroupName: builder.logGroup.logGroupName,
    });
    // Its failure messages and summaries link to the build's output (lambdas/shared/log-link.ts).
    functions.completion.addEnvironment(ENV.buildLogGroupName, builder.logGroup.logGroupName);
    const { stateMachine, executionsArn } = workflow;
    pools.grantLineChecks(executionsArn);
    const actionTypes = [...resolved.previousVersions, this.actionType];
    this.actionTypes = actionTypes;
    // A job in a fleet's line reports its place through a job renewal and waits for the poller to hand it the
    // continuation job (a slot freed meanwhile waits with it): with a line, the safety-net poll that finds those jobs
    // runs every minute (rate(1 minute), the smallest value a rate expression's minute unit takes:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html).
    const keepsALine = Object.values(this.fleets).some((f) => f.maxQueueMinutes > 0);
    const poller = new JobPoller(this, 'Poller', { actionTypes, stateMachine, executionsArn, safetyNetPollMinutes: keepsALine ? 1 : undefined });
    poller.function.addEnvironment(ENV.fleets, pools.fleetsJson);
    poller.function.addEnvironment(ENV.holdOnFailureMinutes, String(resolved.holdOnFailureMinutes));
    new CommandEvents(this, 'CommandEvents', { documentName: document.documentName, stateMachine, executionsArn });
    if (Object.values(this.fleets).some((f) => f.market !== 'on-demand')) {
      new SpotInterruptions(this, 'SpotInterruptions', { stateMachine, executionsArn, table: pools.table });
    }
    const safetyNets = new SafetyNets(this, 'SafetyNets', { actionTypes, stateMachine, executionsArn, documentName: document.documentName, poolTable: pools.table, fleetsJson: pools.fleetsJson });
    new JobBucket(this, 'Jobs', {
      buildEnvironment: functions.buildEnvironment,
      artifactUrls: functions.artifactUrls,
      completion: functions.completion,
      poller: poller.function,
      releasers: safetyNets.releasers,
      parameterPrefixes: resolved.parameterPrefixes,
      secretPrefixes: resolved.secretPrefixes,
      referenceKmsKeyArns: resolved.referenceKmsKeyArns,
      cacheExpiryDays: resolved.cacheExpiryDays,
    });
    this.actionTypeResource = registerVersions(this, resolved, document.documentName);
    this.stateMachine = stateMachine;
    this.documentName = document.documentName;
    this.buildLogGroupName = builder.logGroup.logGroupName;
    // Last: every function of the provider exists by now, and each gets its error alarm.
    const allFunctions = this.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
    new Observability(this, 'Observability', { functions: allFunctions, stateMachine, sweepMinutes: safetyNets.sweepMinutes, alarmTopicArn: resolved.alarmTopicArn });
  }
}
