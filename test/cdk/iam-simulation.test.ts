import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { ACCOUNT, decide, PARTITION, REGION, rolePolicies } from './simulate-policies';

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
});
