import { arnFits, checkPolicies, type Finding } from './iam-policy-check';
import { synthesizeStack, type CfnTemplate } from './synthesized';
import { SAMPLE, templatePolicies } from './template-policies';

// The static IAM check (issue 10, point 4): every policy of the synthesized stack is checked against the
// Service Authorization Reference, as IAM Access Analyzer's policy validation does. The first block proves the
// checker finds what it must (known-bad and known-good policies); the second runs it on the real stack.

const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

/** A template with one role policy, written as CDK writes them (intrinsics and all). */
function templateWith(...statements: Record<string, unknown>[]): CfnTemplate {
  return {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: {} },
      Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'Jobs' } },
      Policy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: { Version: '2012-10-17', Statement: statements } } },
    },
  };
}

const findingsOf = (...statements: Record<string, unknown>[]) => checkPolicies(templatePolicies(templateWith(...statements)));
const allow = (Sid: string, Action: unknown, Resource: unknown, Condition?: unknown) => ({ Sid, Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
const problems = (findings: Finding[]) => findings.map((f) => `${f.sid} ${f.action}: ${f.problem}`);

describe('static IAM check: the checker', () => {
  it('reports PollForJobs on actiontype/… (a slash), which matches no action type ARN', async () => {
    // GIVEN the poller's statement as lib/job-poller.ts wrote it before issue 10
    const bad = allow('PollThisActionType', 'codepipeline:PollForJobs', arn(':codepipeline:us-east-1:123456789012:actiontype/Custom/Build/EC2-Build/1'));
    // WHEN checked THEN the finding names the policy, the Sid, the action, the resolved resource and AWS's format
    expect(await findingsOf(bad)).toEqual([
      {
        policy: 'Role/Policy',
        sid: 'PollThisActionType',
        action: 'codepipeline:PollForJobs',
        resource: 'arn:aws:codepipeline:us-east-1:123456789012:actiontype/Custom/Build/EC2-Build/1',
        problem: expect.stringContaining(':actiontype:${Owner}/${Category}/${Provider}/${Version}'),
      },
    ]);
  });

  it('accepts PollForJobs on the documented actiontype:Owner/Category/Provider/Version ARN', async () => {
    const good = allow('Poll', 'codepipeline:PollForJobs', arn(':codepipeline:us-east-1:123456789012:actiontype:Custom/Build/EC2-Build/1'));
    expect(await findingsOf(good)).toEqual([]);
  });

  it('reports an action that does not exist, an unknown service and a wildcard that matches no action', async () => {
    const findings = await findingsOf(allow('Typos', ['codepipeline:PollForJob', 'codepipelines:PollForJobs', 'ec2:Descrbe*'], '*'));
    expect(problems(findings)).toEqual([
      'Typos codepipeline:PollForJob: action does not exist',
      'Typos codepipelines:PollForJobs: action names an unknown service "codepipelines"',
      'Typos ec2:Descrbe*: action matches no action of the service',
    ]);
  });

  it('expands wildcards in actions and checks what they match', async () => {
    expect(await findingsOf(allow('Read', ['ec2:Describe*', 'ssm:GetCommand*'], '*'))).toEqual([]);
    // GetExecution* matches GetExecutionHistory, authorized on executions only, not on a state machine
    expect(problems(await findingsOf(allow('History', 'states:GetExecution*', { Ref: 'Machine' })))).toEqual([
      expect.stringMatching(/^History states:GetExecution\*: no resource fits .*:execution:/),
    ]);
  });

  it('reports an ARN on an action without resource-level permissions, and accepts "*" there', async () => {
    // states:SendTaskSuccess has no resource types in the Service Authorization Reference
    const findings = await findingsOf(allow('Resume', 'states:SendTaskSuccess', { Ref: 'Machine' }), allow('ResumeAny', 'states:SendTaskSuccess', '*'));
    expect(findings).toEqual([
      expect.objectContaining({ sid: 'Resume', resource: `arn:aws:states:${SAMPLE.region}:${SAMPLE.account}:stateMachine:Jobs`, problem: expect.stringContaining('must be "*"') }),
    ]);
  });

  it('reports a resource that fits no action of its statement, even when another resource does', async () => {
    const document = arn(':ssm:us-east-1:123456789012:document/Build');
    const typo = arn(':ssm:us-east-1:123456789012:documents/Build');
    const findings = await findingsOf(allow('Send', 'ssm:SendCommand', [document, typo]));
    expect(findings).toEqual([expect.objectContaining({ sid: 'Send', resource: 'arn:aws:ssm:us-east-1:123456789012:documents/Build', problem: expect.stringContaining('fits no resource type') })]);
  });

  it('accepts condition keys of the action, of its resource types and global ones; reports any other', async () => {
    const instances = arn(':ec2:us-east-1:123456789012:instance/*');
    const good = [
      allow('Launch', 'ec2:RunInstances', instances, { StringEquals: { 'aws:RequestTag/team': 'x' }, ArnEquals: { 'ec2:LaunchTemplate': 'arn:aws:ec2:*:*:launch-template/lt-1' } }),
      allow('Pass', 'iam:PassRole', { 'Fn::GetAtt': ['Role', 'Arn'] }, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
      allow('Send', 'ssm:SendCommand', instances, { StringEquals: { 'ssm:resourceTag/team': 'x' } }),
    ];
    expect(await findingsOf(...good)).toEqual([]);
    const bad = allow('Terminate', 'ec2:TerminateInstances', instances, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com', 'ec2:Bogus': 'x' } });
    expect(problems(await findingsOf(bad))).toEqual([
      'Terminate ec2:TerminateInstances: condition key iam:PassedToService is not supported by the action, its resource types or the global keys',
      'Terminate ec2:TerminateInstances: condition key ec2:Bogus is not supported by the action, its resource types or the global keys',
    ]);
  });

  it('compares partition, service, region and account field by field, so a placeholder never swallows a colon', () => {
    const format = 'arn:${Partition}:codepipeline:${Region}:${Account}:actiontype:${Owner}/${Category}/${Provider}/${Version}';
    expect(arnFits('arn:aws:codepipeline:us-east-1:123456789012:actiontype:Custom/Build/EC2-Build/1', format)).toBe(true);
    expect(arnFits('arn:aws:codepipeline:*:*:actiontype:*', format)).toBe(true);
    expect(arnFits('arn:aws:codepipeline:us-east-1:1234:5678:actiontype:Custom/Build/EC2-Build/1', format)).toBe(false);
    expect(arnFits('arn:aws:codepipeline:us-east-1:123456789012:actiontype/Custom/Build/EC2-Build/1', format)).toBe(false);
    expect(arnFits('arn:aws:s3:::bucket', 'arn:${Partition}:s3:::${BucketName}')).toBe(true);
  });

  it('refuses to guess what a Ref to an unknown resource type returns', () => {
    const template = templateWith(allow('X', 'sqs:SendMessage', { Ref: 'Thing' }));
    template.Resources.Thing = { Type: 'AWS::Made::Up' };
    expect(() => templatePolicies(template)).toThrow(/no sample for Ref Thing \(AWS::Made::Up\)/);
  });
});

describe('static IAM check: the synthesized stack', () => {
  let template: CfnTemplate;
  beforeAll(() => {
    template = synthesizeStack();
  });

  it('checks a policy of every role of the stack', () => {
    const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
    const checked = templatePolicies(template).map((p) => p.name.split('/')[0].split('+')).flat();
    expect(roles.length).toBeGreaterThan(0);
    expect(roles.filter((role) => !checked.includes(role))).toEqual([]);
  });

  it('has no finding: every action exists, every resource fits its action, every condition key applies', async () => {
    const findings = await checkPolicies(templatePolicies(template));
    expect(findings).toEqual([]);
  });
});
