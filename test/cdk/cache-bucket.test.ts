import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CONTEXT, readSettings } from '../../lib/context';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';
import { decide, PARTITION, rolePolicies } from './simulate-policies';

/** The stack's template without bundling the functions (their code plays no part in IAM). */
function template(context: Record<string, string | number> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new Ec2BuildActionStack(app, 'Ec2BuildAction', { ...readSettings(app.node), stackName: undefined }));
}
const object = (key: string) => `arn:${PARTITION}:s3:::jobsbucket264fe5c6-name/${key}`;

describe('the builds\' caches in the job bucket', () => {
  const stack = template();

  it('expires caches after 7 days by default, job objects after a day, each by its own prefix', () => {
    stack.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'environment/', ExpirationInDays: 1, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'exports/', ExpirationInDays: 1, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'cache/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    // No rule without a prefix expires objects: it would expire the caches after a day too (S3 applies the shorter).
    const rules = Object.values(stack.findResources('AWS::S3::Bucket'))[0].Properties.LifecycleConfiguration.Rules as { Prefix?: string; ExpirationInDays?: number }[];
    expect(rules.filter((r) => r.ExpirationInDays !== undefined && !r.Prefix)).toEqual([]);
  });

  it('takes the caches\' expiry from the context key ec2-build-action:cacheExpiryDays, and refuses one S3 would not', () => {
    template({ [CONTEXT.cacheExpiryDays]: 30 }).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'cache/', ExpirationInDays: 30 })]) },
    });
    expect(() => template({ [CONTEXT.cacheExpiryDays]: 0 })).toThrow('ec2-build-action:cacheExpiryDays must be a whole number of days from 1 to 365, got 0');
  });

  it('lets only the signing function read and write caches (the presigned GET and PUT), and the instance nothing', async () => {
    const signer = rolePolicies(stack, 'TasksArtifactUrlsRole');
    expect(await decide(signer, 's3:GetObject', object('cache/abc/def'))).toBe('Allowed');
    expect(await decide(signer, 's3:PutObject', object('cache/abc/def'))).toBe('Allowed');
    expect(await decide(signer, 's3:DeleteObject', object('cache/abc/def'))).toBe('ImplicitlyDenied');
    // Its cache rights reach no other prefix.
    expect(await decide(signer, 's3:GetObject', object('exports/job-1'))).toBe('ImplicitlyDenied');
    for (const role of ['BuilderRole', 'TasksCompletionRole', 'PollerFunctionRole']) {
      for (const action of ['s3:GetObject', 's3:PutObject']) expect([role, action, await decide(rolePolicies(stack, role), action, object('cache/abc/def'))]).toEqual([role, action, 'ImplicitlyDenied']);
    }
  });
});
