import { Authorizer } from '../../local/iam/authorize';
import { decisionKey } from '../../local/iam/decision-key';
import type { RolePolicies } from '../../local/iam/policies';

const INSTANCE = (id: string) => `arn:aws:ec2:us-east-1:000000000000:instance/${id}`;

function role(statements: unknown[]): RolePolicies {
  return { role: 'R', roleArn: 'arn:aws:iam::000000000000:role/R', trustedServices: [], policies: [{ name: 'P', policy: { Version: '2012-10-17', Statement: statements } }] };
}

const authorizer = (r: RolePolicies) => new Authorizer(new Map([[r.role, r]]));

describe('the local IAM decisions kept by what the policies can tell apart', () => {
  it('decides a second instance the policies cannot tell from the first without simulating again', async () => {
    // GIVEN a role allowed to terminate any instance
    const a = authorizer(role([{ Sid: 'Any', Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: INSTANCE('*') }]));
    // WHEN two instances are checked
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('i-1') })).toBe(true);
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('i-2') })).toBe(true);
    // THEN IAM was simulated once
    expect(a.simulations).toBe(1);
  });

  it('simulates again, and decides apart, two instances a policy names apart', async () => {
    // GIVEN a role allowed to terminate one named instance only
    const a = authorizer(role([{ Sid: 'One', Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: INSTANCE('i-1') }]));
    // THEN the named one is allowed and the other refused, each simulated
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('i-1') })).toBe(true);
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('i-2') })).toBe(false);
    expect(a.simulations).toBe(2);
  });

  it('tells apart resources a pattern matches only without regard to case', () => {
    const r = role([{ Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: INSTANCE('I-*') }]);
    const key = (id: string) => decisionKey(r, { action: 'ec2:TerminateInstances', resource: INSTANCE(id) });
    expect(key('i-1')).not.toBe(key('x-1'));
    expect(key('I-1')).not.toBe(key('i-1'));
  });

  it('keeps a condition\'s key and value apart, and reuses the decision across values no condition reads', async () => {
    // GIVEN a role allowed to terminate instances tagged with its stack
    const a = authorizer(
      role([{ Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: INSTANCE('*'), Condition: { StringEquals: { 'aws:ResourceTag/stack': 'mine' } } }]),
    );
    const check = (id: string, stack: string, job: string) => ({ action: 'ec2:TerminateInstances', resource: INSTANCE(id), context: { 'aws:ResourceTag/stack': stack, 'aws:ResourceTag/job': job } });
    // WHEN instances of two jobs of the stack, and one of another stack, are checked
    expect(await a.isAllowed('R', check('i-1', 'mine', 'job-1'))).toBe(true);
    expect(await a.isAllowed('R', check('i-2', 'mine', 'job-2'))).toBe(true);
    expect(await a.isAllowed('R', check('i-3', 'theirs', 'job-3'))).toBe(false);
    // THEN the job's tag, which no condition reads, did not cost a simulation; the other stack's did
    expect(a.simulations).toBe(2);
  });

  it('keeps the exact resource and context for a role whose patterns or conditions use policy variables', () => {
    const withVariable = role([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/${aws:username}/*' }]);
    const check = (key: string) => ({ action: 's3:GetObject', resource: `arn:aws:s3:::bucket/${key}` });
    expect(decisionKey(withVariable, check('a/b'))).not.toBe(decisionKey(withVariable, check('c/d')));
    const inCondition = role([{ Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/owner': '${aws:userid}' } } }]);
    const tagged = (job: string) => ({ action: 'ec2:TerminateInstances', resource: INSTANCE('i-1'), context: { 'aws:ResourceTag/job': job } });
    expect(decisionKey(inCondition, tagged('1'))).not.toBe(decisionKey(inCondition, tagged('2')));
  });

  it('tells a bucket from its objects, and a resource type from another, even where every pattern matches both', () => {
    const r = role([{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const key = (resource: string) => decisionKey(r, { action: 's3:GetObject', resource });
    expect(key('arn:aws:s3:::bucket')).not.toBe(key('arn:aws:s3:::bucket/key'));
    expect(key('arn:aws:s3:::bucket/a')).toBe(key('arn:aws:s3:::bucket/b'));
    expect(key(INSTANCE('i-1'))).not.toBe(key('arn:aws:ec2:us-east-1:000000000000:volume/i-1'));
    expect(key(INSTANCE('i-1'))).not.toBe(key('arn:aws:ec2:us-west-2:000000000000:instance/i-1'));
  });

  it('reuses a decision within the names a pattern allows, and not across a path it does not', () => {
    const r = role([{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: 'arn:aws:ssm:*:000000000000:parameter/app/*' }]);
    const key = (name: string) => decisionKey(r, { action: 'ssm:GetParameter', resource: `arn:aws:ssm:us-east-1:000000000000:parameter/${name}` });
    expect(key('app/a')).toBe(key('app/b'));
    expect(key('app/a')).not.toBe(key('other/a'));
  });

  it('simulates each resource with a wildcard on its own (the simulation matches it by overlap, not by name)', async () => {
    // GIVEN a role allowed to describe one stack (its ARN as Ref AWS::StackId gives it)
    const stack = (name: string) => `arn:aws:cloudformation:us-east-1:000000000000:stack/${name}`;
    const a = authorizer(role([{ Effect: 'Allow', Action: 'cloudformation:DescribeStacks', Resource: stack('Mine/1111-2222') }]));
    // THEN its own stack named with a wildcard is allowed and another's refused (one key for both would allow both)
    expect(await a.isAllowed('R', { action: 'cloudformation:DescribeStacks', resource: stack('Mine/*') })).toBe(true);
    expect(await a.isAllowed('R', { action: 'cloudformation:DescribeStacks', resource: stack('Other/*') })).toBe(false);
  });

  it('matches the first five segments without case and the resource part with it, as the simulation does', async () => {
    // GIVEN a pattern whose service is written in capitals
    const a = authorizer(role([{ Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: 'arn:aws:EC2:us-east-1:000000000000:instance/i-1' }]));
    // THEN the instance it names is allowed, and one named with other capitals is not
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('i-1') })).toBe(true);
    expect(await a.isAllowed('R', { action: 'ec2:TerminateInstances', resource: INSTANCE('I-1') })).toBe(false);
  });

  it('keeps apart what the simulation types differently: an empty name, other fixed words, a line break', () => {
    const r = role([{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const key = (resource: string) => decisionKey(r, { action: 'logs:PutLogEvents', resource });
    expect(key('arn:aws:ec2:us-east-1::image/ami-1')).not.toBe(key('arn:aws:ec2:us-east-1::image/'));
    expect(key('arn:aws:states:us-east-1:000000000000:execution:sm:e1')).not.toBe(key('arn:aws:states:us-east-1:000000000000:execution::e1'));
    expect(key('arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:s')).not.toBe(key('arn:aws:logs:us-east-1:000000000000:log-group:g:other:s'));
    const objects = role([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*' }]);
    const object = (k: string) => decisionKey(objects, { action: 's3:GetObject', resource: `arn:aws:s3:::bucket/${k}` });
    expect(object('a')).not.toBe(object('a\nb'));
  });

  it('reads a policy whose Statement is one object, as IAM allows', () => {
    const single: RolePolicies = { ...role([]), policies: [{ name: 'P', policy: { Statement: { Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: INSTANCE('i-1') } as unknown as unknown[] } }] };
    expect(decisionKey(single, { action: 'ec2:TerminateInstances', resource: INSTANCE('i-1') })).not.toBe(decisionKey(single, { action: 'ec2:TerminateInstances', resource: INSTANCE('i-2') }));
  });
});
