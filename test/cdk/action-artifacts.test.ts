import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Ec2BuildAction, Ec2BuildProvider, type Ec2BuildActionProps } from '../../lib';

let imports = 0;
const build = (stack: Stack, props: Partial<Ec2BuildActionProps>, version = '3') =>
  new Ec2BuildAction({ actionName: 'Build', provider: Ec2BuildProvider.fromAttributes(stack, `Imported${++imports}`, { version }), imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], command: 'make', ...props });

describe('Ec2BuildAction with several artifacts (action type version 3)', () => {
  it('declares the input, the extra inputs and every output, each output\'s path named in OutputArtifactPath', () => {
    // GIVEN two sources and two outputs
    const stack = new Stack(new App(), 'Pipe');
    const [source, tools, app, reports] = ['Source', 'Tools', 'app', 'reports'].map((n) => new codepipeline.Artifact(n));
    const bucket = new s3.Bucket(stack, 'Src', { versioned: true });
    new codepipeline.Pipeline(stack, 'Pipeline', {
      stages: [
        { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Source', bucket, bucketKey: 'src.zip', output: source }), new actions.S3SourceAction({ actionName: 'Tools', bucket, bucketKey: 'tools.zip', output: tools })] },
        { stageName: 'Build', actions: [build(stack, { input: source, extraInputs: [tools], outputs: [app, reports], outputArtifactPath: 'app=dist,reports=test-results' })] },
      ],
    });
    // THEN the pipeline declares them in that order, the primary first
    Template.fromStack(stack).hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Actions: [Match.objectLike({ InputArtifacts: [{ Name: 'Source' }, { Name: 'Tools' }], OutputArtifacts: [{ Name: 'app' }, { Name: 'reports' }], Configuration: Match.objectLike({ OutputArtifactPath: 'app=dist,reports=test-results' }) })],
        }),
      ]),
    });
  });

  it('fails synth with the poller\'s message for a path that names no output, and for a provider on an earlier version', () => {
    const stack = new Stack(new App(), 'Pipe');
    const [app, reports] = ['app', 'reports'].map((n) => new codepipeline.Artifact(n));
    expect(() => build(stack, { outputs: [app, reports], outputArtifactPath: 'dist' })).toThrow(/Ec2BuildAction 'Build': OutputArtifactPath is one path, "dist", but the action declares 2 output artifacts \("app", "reports"\)/);
    expect(() => build(stack, { input: new codepipeline.Artifact('S'), extraInputs: [new codepipeline.Artifact('T')] }, '2')).toThrow(/more than one input or output artifact needs action type version 3 or later \(the provider's is 2\)/);
    expect(() => build(stack, { extraInputs: [new codepipeline.Artifact('T')] })).toThrow(/extraInputs need an input/);
  });
});
