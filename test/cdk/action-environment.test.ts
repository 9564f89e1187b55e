import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Ec2BuildAction, Ec2BuildProvider, type Ec2BuildActionProps } from '../../lib';

let imports = 0;
const provider = (stack: Stack, version = '3') => Ec2BuildProvider.fromAttributes(stack, `Imported${++imports}`, { version });
const build = (stack: Stack, props: Partial<Ec2BuildActionProps>, version?: string) =>
  new Ec2BuildAction({ actionName: 'Build', provider: provider(stack, version), imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], command: 'make', variablesNamespace: 'Built', ...props });

describe('Ec2BuildAction with a build environment (action type version 3)', () => {
  it('writes environmentVariables as the CodeBuild action\'s JSON array and exportedVariables comma-separated, which a later action reads', () => {
    // GIVEN a build with a plain variable, a parameter, a secret and an export, and a later action reading the export
    const stack = new Stack(new App(), 'Pipe');
    const source = new codepipeline.Artifact('Source');
    const built = build(stack, {
      input: source,
      environmentVariables: { STAGE: { value: 'prod' }, TOKEN: { value: '/builds/token', type: 'PARAMETER_STORE' }, DB: { value: 'builds/db:password', type: 'SECRETS_MANAGER' } },
      exportedVariables: ['VERSION', 'IMAGE_TAG'],
    });
    const next = build(stack, { actionName: 'Next', variablesNamespace: undefined, runOrder: 2, environmentVariables: { VERSION: { value: built.variable('VERSION') } } });
    new codepipeline.Pipeline(stack, 'Pipeline', {
      stages: [
        { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Source', bucket: new s3.Bucket(stack, 'Src', { versioned: true }), bucketKey: 'src.zip', output: source })] },
        { stageName: 'Build', actions: [built, next] },
      ],
    });
    // THEN the configuration holds them as the poller parses them
    Template.fromStack(stack).hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Actions: [
            Match.objectLike({
              Configuration: Match.objectLike({
                EnvironmentVariables: '[{"name":"STAGE","value":"prod","type":"PLAINTEXT"},{"name":"TOKEN","value":"/builds/token","type":"PARAMETER_STORE"},{"name":"DB","value":"builds/db:password","type":"SECRETS_MANAGER"}]',
                ExportedVariables: 'VERSION,IMAGE_TAG',
              }),
            }),
            Match.objectLike({ Configuration: Match.objectLike({ EnvironmentVariables: '[{"name":"VERSION","value":"#{Built.VERSION}","type":"PLAINTEXT"}]' }) }),
          ],
        }),
      ]),
    });
  });

  it('fails synth with the poller\'s message for a bad name, and for a provider on an earlier version', () => {
    const stack = new Stack(new App(), 'Pipe');
    expect(() => build(stack, { environmentVariables: { 'MY-VAR': { value: 'x' } } })).toThrow(/Ec2BuildAction 'Build': EnvironmentVariables: variable "MY-VAR" needs a "name" of 1 to 128 letters/);
    expect(() => build(stack, { exportedVariables: ['A', 'A'] })).toThrow(/ExportedVariables names a variable twice/);
    expect(() => build(stack, { exportedVariables: ['VERSION'] }, '2')).toThrow(/environmentVariables and exportedVariables need action type version 3 or later \(the provider's is 2\)/);
  });
});
