import { Fn, Stage, Token, type Duration } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import type { Construct } from 'constructs';
import { toBuildJob } from '../lambdas/poller/job';
import { MAX_PROPERTY_LENGTH, PROPERTY } from '../lambdas/shared/properties';
import type { VariableType } from '../lambdas/shared/build-environment';
import { ARTIFACT_BOUNDS } from './action-type';
import type { IEc2BuildProvider } from './provider';

/** One build on EC2 in a pipeline stage. */
export interface Ec2BuildActionProps extends codepipeline.CommonActionProps {
  /** The provider that runs the build: an `Ec2BuildProvider`, or `Ec2BuildProvider.fromAttributes` for one deployed elsewhere. */
  readonly provider: IEc2BuildProvider;
  /**
   * The source the build runs on, unzipped into the working directory.
   * @default - no input artifact
   */
  readonly input?: codepipeline.Artifact;
  /**
   * Other input artifacts (up to 4, after `input`), each unzipped into a directory of its own, which the build finds in
   * `CODEPIPELINE_SRC_DIR_<artifact name>`. Needs action type version 3 or later.
   * @default - none
   */
  readonly extraInputs?: codepipeline.Artifact[];
  /**
   * The artifacts the build produces: what `outputArtifactPath` names, zipped (up to 5; more than one needs action type
   * version 3 or later, and `outputArtifactPath` as `name=path,name=path`).
   * @default - no output artifact
   */
  readonly outputs?: codepipeline.Artifact[];
  /**
   * The AMI to build on (ami-...), in the pipeline's Region, with the SSM agent.
   * @default - none: required unless `fleet` is set
   */
  readonly imageId?: string;
  /**
   * Instance types, best first: the next is tried when EC2 has no capacity for one (at most 5).
   * @default - none: required unless `fleet` is set
   */
  readonly instanceTypes?: string[];
  /**
   * One of the provider's fleets (warm pools, Spot, a concurrency cap), which chooses the image and instance types:
   * set it instead of `imageId` and `instanceTypes`. Needs action type version 2 or later.
   * @default - none: a cold launch from `imageId` and `instanceTypes`
   */
  readonly fleet?: string;
  /** The build command: bash on Linux, PowerShell on Windows; its exit code decides the result. */
  readonly command: string;
  /**
   * Absolute directory to unzip the input and build in.
   * @default - a fresh temporary directory
   */
  readonly workingDirectory?: string;
  /**
   * File or directory, relative to the working directory, zipped as the output artifact. Required with `outputs`; with
   * several, each one's as `name=path`, comma-separated (`app=dist,reports=test-results`).
   * @default - no output artifact
   */
  readonly outputArtifactPath?: string;
  /**
   * How long the build may run, in whole minutes from 1 to 1440.
   * @default Duration.minutes(60)
   */
  readonly timeout?: Duration;
  /**
   * The build's own environment variables, by name, as the CodeBuild action takes them: a value (PLAINTEXT, the
   * default), a Parameter Store parameter's name (PARAMETER_STORE) or a secret's id with its qualifiers
   * (SECRETS_MANAGER), under the provider's parameterPrefixes / secretPrefixes. Needs action type version 3 or later.
   * @default - none
   */
  readonly environmentVariables?: Readonly<Record<string, BuildEnvironmentVariable>>;
  /**
   * Variables whose values at the end of the build become the action's output variables, which later actions read
   * with `variable(name)`. Needs action type version 3 or later.
   * @default - none
   */
  readonly exportedVariables?: readonly string[];
}

/** One of `environmentVariables`. */
export interface BuildEnvironmentVariable {
  readonly value: string;
  /** @default 'PLAINTEXT' */
  readonly type?: VariableType;
}

/**
 * A value CloudFormation or CodePipeline fills in later, checked when the job runs: a token, a dynamic reference
 * (`{{resolve:ssm:…}}`, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html) or a
 * pipeline variable (`#{Namespace.Variable}`, resolved at run time: https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html).
 */
function late(value: string): boolean {
  return Token.isUnresolved(value) || /#\{[^}]*\}/.test(value) || value.includes('{{resolve:');
}

/** What each property stands for when its own value is late, so the others are still checked by the same parser. */
const STAND_INS: Record<string, string> = {
  [PROPERTY.imageId]: 'ami-00000000',
  [PROPERTY.instanceType]: 't3.micro',
  [PROPERTY.command]: 'true',
  [PROPERTY.workingDirectory]: '/tmp/build',
  [PROPERTY.outputArtifactPath]: 'out',
  [PROPERTY.timeoutMinutes]: '60',
  [PROPERTY.fleet]: 'late',
  [PROPERTY.environmentVariables]: '[]',
  [PROPERTY.exportedVariables]: '',
};

/** Versions registered before EnvironmentVariables and ExportedVariables existed; CodePipeline refuses a key the type lacks. */
const BEFORE_VERSION_3 = ['1', '2'];

/**
 * Runs a build on EC2 through the provider's custom action type. Its props are checked at synth by the parser
 * the poller runs on every job (lambdas/poller/job.ts), so a value the poller would refuse fails `cdk synth` with
 * the poller's own message instead of a failed pipeline run.
 */
export class Ec2BuildAction extends codepipeline.Action {
  protected readonly providedActionProperties: codepipeline.ActionProperties;
  private readonly configuration: Record<string, string>;
  private readonly provider: IEc2BuildProvider;

  constructor(props: Ec2BuildActionProps) {
    super();
    const { actionType } = props.provider;
    this.configuration = configurationOf(props);
    this.providedActionProperties = {
      actionName: props.actionName,
      runOrder: props.runOrder,
      variablesNamespace: props.variablesNamespace,
      category: actionType.category as codepipeline.ActionCategory,
      owner: 'Custom',
      provider: actionType.provider,
      version: actionType.version,
      artifactBounds: ARTIFACT_BOUNDS,
      inputs: inputsOf(props),
      outputs: props.outputs ?? [],
    };
    this.provider = props.provider;
  }

  /** A reference to one of the action's output variables, `#{namespace.name}`, for a later action's configuration. */
  variable(name: string): string {
    return this.variableExpression(name);
  }

  protected bound(_scope: Construct, stage: codepipeline.IStage, _options: codepipeline.ActionBindOptions): codepipeline.ActionConfig {
    // CloudFormation creates the action type before a pipeline of the same app that uses it (CDK allows such a
    // dependency only inside one cdk.Stage; across stages, deploy the provider's stage first).
    const type = this.provider.actionTypeResource;
    if (type && Stage.of(type) === Stage.of(stage.pipeline)) stage.pipeline.node.addDependency(type);
    return { configuration: this.configuration };
  }
}

/** The action's input artifacts: `input` (the primary), then `extraInputs`. */
function inputsOf(props: Ec2BuildActionProps): codepipeline.Artifact[] {
  if (props.extraInputs?.length && !props.input) throw new Error(`Ec2BuildAction '${props.actionName}': extraInputs need an input (the primary one, unzipped into the working directory)`);
  return [...(props.input ? [props.input] : []), ...(props.extraInputs ?? [])];
}

/** The action's configuration, checked as the poller checks a job's (late values aside). */
function configurationOf(props: Ec2BuildActionProps): Record<string, string> {
  const owner = `Ec2BuildAction '${props.actionName}'`;
  const configuration: Record<string, string> = {};
  if (props.fleet !== undefined) {
    if (props.imageId !== undefined || props.instanceTypes !== undefined) {
      throw new Error(`${owner}: fleet ${JSON.stringify(props.fleet)} chooses the image and instance types; leave imageId and instanceTypes out, or leave fleet out to launch from them`);
    }
    // Version 1 of the action type has no Fleet property, and CodePipeline refuses a configuration key the type lacks.
    if (props.provider.actionType.version === '1') throw new Error(`${owner}: fleet needs action type version 2 or later (the provider's is 1); see "Upgrading the action type" in the README`);
    configuration[PROPERTY.fleet] = props.fleet;
  } else {
    if (props.imageId === undefined) throw new Error(`${owner}: imageId must be set (an AMI ID), or fleet (one of the provider's fleets)`);
    if (props.instanceTypes === undefined || (!Token.isUnresolved(props.instanceTypes) && props.instanceTypes.length === 0)) {
      throw new Error(`${owner}: instanceTypes must name at least one instance type, got ${JSON.stringify(props.instanceTypes ?? null)}`);
    }
    configuration[PROPERTY.imageId] = props.imageId;
    // A list token (a CommaDelimitedList parameter, Fn.split) must still be one string in the configuration.
    configuration[PROPERTY.instanceType] = Token.isUnresolved(props.instanceTypes) ? Fn.join(',', props.instanceTypes) : props.instanceTypes.join(',');
  }
  configuration[PROPERTY.command] = props.command;
  // An empty value is the default, and CodePipeline refuses empty configuration values (1 to 1000 characters:
  // https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionConfiguration.html), so it is left out.
  if (props.workingDirectory) configuration[PROPERTY.workingDirectory] = props.workingDirectory;
  if (props.outputArtifactPath) configuration[PROPERTY.outputArtifactPath] = props.outputArtifactPath;
  if (props.timeout !== undefined) configuration[PROPERTY.timeoutMinutes] = timeoutMinutes(owner, props.timeout);
  const variables = Object.entries(props.environmentVariables ?? {});
  const exported = props.exportedVariables ?? [];
  if ((inputsOf(props).length > 1 || (props.outputs ?? []).length > 1) && BEFORE_VERSION_3.includes(props.provider.actionType.version)) {
    throw new Error(`${owner}: more than one input or output artifact needs action type version 3 or later (the provider's is ${props.provider.actionType.version}); see "Upgrading the action type" in the README`);
  }
  if ((variables.length > 0 || exported.length > 0) && BEFORE_VERSION_3.includes(props.provider.actionType.version)) {
    throw new Error(`${owner}: environmentVariables and exportedVariables need action type version 3 or later (the provider's is ${props.provider.actionType.version}); see "Upgrading the action type" in the README`);
  }
  // The CodeBuild action's JSON array; a value that is a token or #{Namespace.Variable} is resolved later, as any.
  if (variables.length > 0) configuration[PROPERTY.environmentVariables] = JSON.stringify(variables.map(([name, v]) => ({ name, value: v.value, type: v.type ?? 'PLAINTEXT' })));
  if (exported.length > 0) configuration[PROPERTY.exportedVariables] = exported.join(',');

  // The length limit holds for the value as written, variable references included.
  for (const [key, value] of Object.entries(configuration)) {
    if (!Token.isUnresolved(value) && value.length > MAX_PROPERTY_LENGTH) {
      throw new Error(`${owner}: ${key} is ${value.length} characters long; CodePipeline allows ${MAX_PROPERTY_LENGTH}. Move the script into your source and call it.`);
    }
  }
  const checked = Object.fromEntries(Object.entries(configuration).map(([k, v]) => [k, late(v) ? STAND_INS[k] : v]));
  // Each variable is checked with its own late value stood in for, so the names and types are still checked at synth.
  if (variables.length > 0) checked[PROPERTY.environmentVariables] = JSON.stringify(variables.map(([name, v]) => ({ name, value: late(v.value) ? 'late' : v.value, type: v.type ?? 'PLAINTEXT' })));
  const artifact = (a: codepipeline.Artifact, i: number) => ({ name: a.artifactName ?? `artifact${i}`, location: { type: 'S3' as const, s3Location: { bucketName: 'b', objectKey: 'k' } } });
  // The fleet's name is checked against the provider's fleets when this app defines them, and by the poller otherwise.
  const fleets = props.fleet !== undefined && !late(props.fleet) ? (props.provider.fleets ?? null) : null;
  try {
    toBuildJob(
      {
        id: 'synth',
        data: {
          actionConfiguration: { configuration: checked },
          inputArtifacts: inputsOf(props).map(artifact),
          outputArtifacts: (props.outputs ?? []).map(artifact),
        },
      },
      undefined,
      fleets,
      // The provider's parameter and secret settings are checked by the poller, where they are known.
      null,
    );
  } catch (err) {
    throw new Error(`${owner}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return configuration;
}

function timeoutMinutes(owner: string, timeout: Duration): string {
  const seconds = timeout.toSeconds();
  if (seconds % 60 !== 0) throw new Error(`${owner}: timeout must be a whole number of minutes, got ${timeout.toHumanString()}`);
  return String(seconds / 60);
}
