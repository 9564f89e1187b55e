import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { ACCOUNT, decide, PARTITION, REGION, resolve, rolePolicies } from './simulate-policies';

const actionType = { owner: 'Custom' as const, category: 'Build', provider: 'EC2-Build', version: '1' };

/** The stack's template without bundling the functions (their code plays no part in IAM). */
function template(context: Record<string, string> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new Ec2BuildActionStack(app, 'Ec2BuildAction', { actionType }));
}

describe('IAM, evaluated against the Service Authorization Reference', () => {
  const stack = template();

  describe('the poller', () => {
    const policies = rolePolicies(stack, 'PollerFunctionRole');
    // arn:${Partition}:codepipeline:${Region}:${Account}:actiontype:${Owner}/${Category}/${Provider}/${Version}
    const actionTypeArn = (provider: string, version = '1') => `arn:${PARTITION}:codepipeline:${REGION}:${ACCOUNT}:actiontype:Custom/Build/${provider}/${version}`;

    it('may poll for jobs of its own action type', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build'))).toBe('Allowed');
    });

    it('may not poll for jobs of another action type or another version', async () => {
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('Other-Build'))).toBe('ImplicitlyDenied');
      expect(await decide(policies, 'codepipeline:PollForJobs', actionTypeArn('EC2-Build', '2'))).toBe('ImplicitlyDenied');
    });
  });

  describe('the build instance, streaming command output to its log group', () => {
    const policies = rolePolicies(stack, 'BuilderRole');
    const resources = stack.toJSON().Resources;
    // The group Run Build and Upload Output Artifact name in CloudWatchOutputConfig: the build log group's Ref.
    const [sm] = Object.values(stack.findResources('AWS::StepFunctions::StateMachine'));
    const groupName = String(resolve(sm.Properties.DefinitionSubstitutions.BuildLogGroupName, resources));
    const group = (name: string) => `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

    it('may create its build log group, named by ARN with or without a stream part', async () => {
      expect(await decide(policies, 'logs:CreateLogGroup', group(groupName))).toBe('Allowed');
      expect(await decide(policies, 'logs:CreateLogGroup', `${group(groupName)}:log-stream:`)).toBe('Allowed');
    });

    it('may look log groups up, which supports no resource-level permission', async () => {
      expect(await decide(policies, 'logs:DescribeLogGroups', '*')).toBe('Allowed');
    });

    it('may write streams of its build log group only', async () => {
      expect(await decide(policies, 'logs:PutLogEvents', `${group(groupName)}:log-stream:cmd/i-0123/aws-runShellScript/stdout`)).toBe('Allowed');
      expect(await decide(policies, 'logs:CreateLogGroup', group('someone-elses-group'))).toBe('ImplicitlyDenied');
      expect(await decide(policies, 'logs:PutLogEvents', `${group('someone-elses-group')}:log-stream:x`)).toBe('ImplicitlyDenied');
    });
  });
});
