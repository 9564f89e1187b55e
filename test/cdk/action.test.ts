import { App, CfnParameter, Duration, Stack, Stage as CdkStage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { parseProperties } from '../../lambdas/poller/job';
import { Ec2BuildAction, Ec2BuildProvider, type Ec2BuildActionProps, type IEc2BuildProvider } from '../../lib';

const AMI = 'ami-0123456789abcdef0';
let imports = 0;
const imported = (stack: Stack, attrs = {}) => Ec2BuildProvider.fromAttributes(stack, `Imported${++imports}`, attrs);

/** A pipeline: an S3 source, then the build; returns the stack's template. */
function pipeline(stack: Stack, build: (source: codepipeline.Artifact) => Ec2BuildAction): Template {
  const source = new codepipeline.Artifact('Source');
  const bucket = new s3.Bucket(stack, 'Sources', { versioned: true });
  new codepipeline.Pipeline(stack, 'Pipeline', {
    stages: [
      { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Source', bucket, bucketKey: 'src.zip', output: source })] },
      { stageName: 'Build', actions: [build(source)] },
    ],
  });
  return Template.fromStack(stack);
}

function action(provider: IEc2BuildProvider, props: Partial<Ec2BuildActionProps> = {}): Ec2BuildAction {
  return new Ec2BuildAction({ actionName: 'Build', provider, imageId: AMI, instanceTypes: ['c7i.large'], command: 'make', ...props });
}

/** What the poller says of a configuration, to compare with what synth says. */
function pollerMessage(config: Record<string, string>): string {
  try {
    parseProperties({ ImageId: AMI, InstanceType: 't3.micro', Command: 'make', ...config });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the poller accepts it');
}

describe('Ec2BuildAction', () => {
  it('names the action type its provider registers, and the pipeline is created after it', () => {
    // GIVEN a provider and a pipeline in the same stack
    const stack = new Stack(new App(), 'Builds');
    const provider = new Ec2BuildProvider(stack, 'Ec2Builds', { providerName: 'Team-Builds', version: '3' });
    // WHEN the pipeline builds with it
    const template = pipeline(stack, (source) => action(provider, { input: source, workingDirectory: '/opt/build', timeout: Duration.hours(2) }));
    // THEN the action's type is the provider's, its configuration the action type's properties, and the pipeline waits for the type
    const [typeId] = Object.keys(template.findResources('AWS::CodePipeline::CustomActionType', { Properties: { Provider: 'Team-Builds', Version: '3', Category: 'Build' } }));
    expect(typeId).toBeDefined();
    template.hasResource('AWS::CodePipeline::Pipeline', {
      DependsOn: Match.arrayWith([typeId]),
      Properties: {
        Stages: Match.arrayWith([
          {
            Name: 'Build',
            Actions: [
              Match.objectLike({
                ActionTypeId: { Category: 'Build', Owner: 'Custom', Provider: 'Team-Builds', Version: '3' },
                Configuration: { ImageId: AMI, InstanceType: 'c7i.large', Command: 'make', WorkingDirectory: '/opt/build', TimeoutMinutes: '120' },
                InputArtifacts: [{ Name: 'Source' }],
              }),
            ],
          },
        ]),
      },
    });
  });

  it('refers to a provider deployed elsewhere by its attributes', () => {
    const stack = new Stack(new App(), 'Pipelines');
    const template = pipeline(stack, (source) => action(imported(stack, { providerName: 'EC2-Build', version: '2' }), { input: source, instanceTypes: ['c7i.large', 'c6i.large'] }));
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({ Actions: [Match.objectLike({ ActionTypeId: { Category: 'Build', Owner: 'Custom', Provider: 'EC2-Build', Version: '2' }, Configuration: Match.objectLike({ InstanceType: 'c7i.large,c6i.large' }) })] }),
      ]),
    });
    expect(template.findResources('AWS::CodePipeline::CustomActionType')).toEqual({});
  });

  it('deploys a pipeline stack after the provider stack it uses', () => {
    const app = new App();
    const providerStack = new Stack(app, 'Provider');
    const provider = new Ec2BuildProvider(providerStack, 'Ec2Builds');
    const pipelineStack = new Stack(app, 'Pipelines');
    pipeline(pipelineStack, (source) => action(provider, { input: source }));
    expect(pipelineStack.dependencies).toContain(providerStack);
  });

  it.each([
    ['a malformed imageId', { imageId: 'ami-xyz' }, { ImageId: 'ami-xyz' }],
    ['an instance type that is not one', { instanceTypes: ['large'] }, { InstanceType: 'large' }],
    ['six instance types', { instanceTypes: ['a1.large', 'a1.xlarge', 'c5.large', 'c6.large', 'c7.large', 'm5.large'] }, { InstanceType: 'a1.large,a1.xlarge,c5.large,c6.large,c7.large,m5.large' }],
    ['an empty command', { command: ' ' }, { Command: ' ' }],
    ['a relative working directory', { workingDirectory: 'build' }, { WorkingDirectory: 'build' }],
    ['a timeout over a day', { timeout: Duration.hours(25) }, { TimeoutMinutes: '1500' }],
  ])('fails synth on %s with the poller\'s own message', (_what, props, config) => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() => action(imported(stack), props)).toThrow(`Ec2BuildAction 'Build': ${pollerMessage(config)}`);
  });

  it('fails synth when an output artifact has no path, or a path no output artifact, as the poller fails the job', () => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() => action(imported(stack), { outputs: [new codepipeline.Artifact('App')] })).toThrow(/declares the output artifact "App" but OutputArtifactPath is empty/);
    expect(() => action(imported(stack), { outputArtifactPath: 'dist' })).toThrow(/OutputArtifactPath is "dist" but the action declares no output artifact/);
  });

  it('refuses a timeout that is not whole minutes, and no instance type at all', () => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() => action(imported(stack), { timeout: Duration.seconds(90) })).toThrow("Ec2BuildAction 'Build': timeout must be a whole number of minutes, got 1 minute 30 seconds");
    expect(() => action(imported(stack), { instanceTypes: [] })).toThrow("Ec2BuildAction 'Build': instanceTypes must name at least one instance type, got []");
  });

  it('leaves values resolved later (a token, a pipeline variable) to the poller, and still checks the others', () => {
    const stack = new Stack(new App(), 'Pipelines');
    const fromParameter = ssm.StringParameter.valueForStringParameter(stack, '/builds/ami');
    expect(() => action(imported(stack), { imageId: fromParameter, command: 'make VERSION=#{SourceVariables.VersionId}' })).not.toThrow();
    expect(() => action(imported(stack), { imageId: '#{Vars.Ami}' })).not.toThrow();
    expect(() => action(imported(stack), { imageId: fromParameter, workingDirectory: 'relative' })).toThrow(/WorkingDirectory must be an absolute path/);
  });

  it('leaves empty optional values out of the configuration, which CodePipeline would refuse', () => {
    const stack = new Stack(new App(), 'Pipelines');
    const template = pipeline(stack, (source) => action(imported(stack), { input: source, workingDirectory: '', outputArtifactPath: '' }));
    const [resource] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    expect(Object.keys(resource.Properties.Stages[1].Actions[0].Configuration).sort()).toEqual(['Command', 'ImageId', 'InstanceType']);
  });

  it('joins a list token of instance types into one configuration string', () => {
    const stack = new Stack(new App(), 'Pipelines');
    const types = new CfnParameter(stack, 'Types', { type: 'CommaDelimitedList' }).valueAsList;
    const template = pipeline(stack, (source) => action(imported(stack), { input: source, instanceTypes: types }));
    const [resource] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    expect(resource.Properties.Stages[1].Actions[0].Configuration.InstanceType).toEqual({ 'Fn::Join': [',', { Ref: 'Types' }] });
  });

  it('accepts a CloudFormation dynamic reference, and holds a value with a variable to the length limit', () => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() => action(imported(stack), { imageId: '{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64}}' })).not.toThrow();
    const long = `${'x'.repeat(990)} #{SourceVariables.VersionId}`;
    expect(() => action(imported(stack), { command: long })).toThrow(`Ec2BuildAction 'Build': Command is ${long.length} characters long; CodePipeline allows 1000.`);
  });

  it('synthesizes a pipeline in a cdk.Stage that uses a provider outside it (deployed first)', () => {
    const app = new App();
    const provider = new Ec2BuildProvider(new Stack(app, 'Provider'), 'Builds');
    const stack = new Stack(new CdkStage(app, 'Prod'), 'Pipelines');
    expect(() => pipeline(stack, (source) => action(provider, { input: source }))).not.toThrow();
    expect(() => app.synth()).not.toThrow();
  });

  it('refuses two output artifacts, the most the action type declares', () => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() =>
      pipeline(stack, (source) => action(imported(stack), { input: source, outputs: [new codepipeline.Artifact('A'), new codepipeline.Artifact('B')], outputArtifactPath: 'dist' })),
    ).toThrow(/output/i);
  });

  it('gives #{namespace.name} for an output variable, in the namespace given or one CDK assigns', () => {
    const named = new Stack(new App(), 'Named');
    let namedReference = '';
    pipeline(named, (source) => {
      const build = action(imported(named), { input: source, variablesNamespace: 'Build1' });
      namedReference = build.variable('VERSION');
      return build;
    });
    expect(named.resolve(namedReference)).toBe('#{Build1.VERSION}');
    const stack = new Stack(new App(), 'Pipelines');
    let reference = '';
    const template = pipeline(stack, (source) => {
      const unnamed = action(imported(stack), { input: source });
      reference = unnamed.variable('VERSION');
      return unnamed;
    });
    const [resource] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    const namespace = resource.Properties.Stages[1].Actions[0].Namespace;
    expect(namespace).toEqual(expect.any(String));
    expect(stack.resolve(reference)).toBe(`#{${namespace}.VERSION}`);
  });

  describe('on a fleet', () => {
    const linux = { imageId: AMI, instanceTypes: ['c7i.large'], market: 'on-demand' as const, hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 10 };
    const fleetAction = (provider: IEc2BuildProvider, props: Partial<Ec2BuildActionProps> = {}) =>
      new Ec2BuildAction({ actionName: 'Build', provider, command: 'make', fleet: 'linux', ...props });

    it('sets Fleet instead of ImageId and InstanceType', () => {
      const stack = new Stack(new App(), 'Builds');
      const provider = new Ec2BuildProvider(stack, 'Ec2Builds', { fleets: { linux } });
      const template = pipeline(stack, (source) => fleetAction(provider, { input: source }));
      const [pipe] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
      const build = (pipe.Properties.Stages as { Actions: { Configuration: Record<string, string> }[] }[])[1].Actions[0];
      expect(build.Configuration).toEqual({ Fleet: 'linux', Command: 'make' });
    });

    it('refuses at synth a fleet the provider does not have, with the poller\'s message, and accepts any name for a provider deployed elsewhere', () => {
      const stack = new Stack(new App(), 'Builds');
      const provider = new Ec2BuildProvider(stack, 'Ec2Builds', { fleets: { linux } });
      expect(() => fleetAction(provider, { fleet: 'windows' })).toThrow("Ec2BuildAction 'Build': Fleet must be one of this stack's fleets (linux), got \"windows\". Fleet names are case-sensitive.");
      expect(() => fleetAction(imported(stack, { version: '2' }), { fleet: 'windows' })).not.toThrow();
    });

    it('refuses a fleet with imageId or instanceTypes, neither, and a fleet on version 1 of the action type', () => {
      const stack = new Stack(new App(), 'Builds');
      const provider = new Ec2BuildProvider(stack, 'Ec2Builds', { fleets: { linux } });
      expect(() => fleetAction(provider, { imageId: AMI })).toThrow("Ec2BuildAction 'Build': fleet \"linux\" chooses the image and instance types; leave imageId and instanceTypes out");
      expect(() => new Ec2BuildAction({ actionName: 'Build', provider, command: 'make' })).toThrow("Ec2BuildAction 'Build': imageId must be set (an AMI ID), or fleet (one of the provider's fleets)");
      expect(() => fleetAction(imported(stack, { version: '1' }))).toThrow(/fleet needs action type version 2 or later \(the provider's is 1\)/);
    });
  });
});
