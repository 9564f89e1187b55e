import { documentContent } from '../../lib/document-content';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ec2BuildActionStack } from '../../lib/ec2-build-action-stack';

// aws-cdk-lib's built-in CloudFormation validation, off for the other tests (test/setup/synth.ts): on here, where the
// validation report of the synthesized app must be empty, as `npx cdk synth` runs it.
process.env.CDK_VALIDATION = 'true';

function synth(): { template: Template; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-'));
  const app = new App({ outdir });
  const stack = new Ec2BuildActionStack(app, 'Ec2BuildAction', { subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'] });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  app.synth();
  return { template, outdir };
}

describe('Ec2BuildAction stack', () => {
  const { template, outdir } = synth();
  const policies = () => Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('registers the custom action type with its properties, artifacts and console links', () => {
    template.hasResourceProperties('AWS::CodePipeline::CustomActionType', {
      Category: 'Build',
      Provider: 'EC2-Build',
      Version: '3',
      // CodePipeline's limits for a custom action, declared by version 3 and served (lambdas/poller/artifacts.ts).
      InputArtifactDetails: { MinimumCount: 0, MaximumCount: 5 },
      OutputArtifactDetails: { MinimumCount: 0, MaximumCount: 5 },
      ConfigurationProperties: Match.arrayWith([
        // Either ImageId and InstanceType, or Fleet: the poller requires one or the other.
        Match.objectLike({ Name: 'ImageId', Required: false }),
        Match.objectLike({ Name: 'InstanceType', Required: false }),
        Match.objectLike({ Name: 'Command', Required: true }),
        Match.objectLike({ Name: 'WorkingDirectory', Required: false }),
        Match.objectLike({ Name: 'OutputArtifactPath', Required: false }),
        Match.objectLike({ Name: 'TimeoutMinutes', Required: false }),
        Match.objectLike({ Name: 'Fleet', Required: false }),
        Match.objectLike({ Name: 'EnvironmentVariables', Required: false, Secret: false }),
        Match.objectLike({ Name: 'ExportedVariables', Required: false }),
        Match.objectLike({ Name: 'CachePaths', Required: false }),
      ]),
      Settings: {
        EntityUrlTemplate: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('ec2/home\\?region=$')])]) }),
        ExecutionUrlTemplate: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('executions/details/\\{ExternalExecutionId\\}')])]) }),
      },
    });
  });

  it('wakes the poller only for STARTED events of this action type', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.codepipeline'],
        'detail-type': ['CodePipeline Action Execution State Change'],
        detail: { state: ['STARTED'], type: { owner: ['Custom'], category: ['Build'], provider: ['EC2-Build'], version: ['3', 3] } },
      },
    });
  });

  it('resumes builds from finished commands of its own document only', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ssm'],
        detail: { 'document-name': [{ Ref: Match.stringLikeRegexp('BuildDocument') }], status: [{ 'anything-but': Match.arrayWith(['InProgress']) }] },
      },
    });
  });

  it('watches for executions that end abnormally, abandoned actions, and leftover instances', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: Match.anyValue() }] } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.codepipeline'], detail: { state: ['ABANDONED'], type: Match.objectLike({ provider: ['EC2-Build'] }) } },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('requires IMDSv2 and encrypts the root volume', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
      },
    });
  });

  it('loads the state machine from its file with every placeholder substituted', () => {
    const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const subs = Object.keys(sm.Properties.DefinitionSubstitutions).sort();
    const file = fs.readFileSync(path.join(__dirname, '../../state-machines/build-job.asl.json'), 'utf8');
    const placeholders = [...new Set([...file.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]))].sort();
    expect(subs).toEqual(placeholders);
  });

  it('puts the SSM document in the template as the file says, its scripts without comment lines', () => {
    const [doc] = Object.values(template.findResources('AWS::SSM::Document'));
    expect(doc.Properties.Content).toEqual(documentContent(fs.readFileSync(path.join(__dirname, '../../ssm-documents/run-build.yaml'), 'utf8')));
  });

  it('limits RunInstances to the launch template and the stack tag', () => {
    const run = policies().filter((s) => JSON.stringify(s.Action).includes('ec2:RunInstances'));
    expect(run.length).toBeGreaterThan(0);
    for (const s of run) expect(JSON.stringify(s.Condition)).toContain('ec2:LaunchTemplate');
    expect(run.some((s) => JSON.stringify(s.Condition).includes('aws:RequestTag/ec2-build-action:stack'))).toBe(true);
  });

  it('limits TerminateInstances and SendCommand on instances to the stack tag', () => {
    for (const action of ['ec2:TerminateInstances', 'ssm:SendCommand']) {
      const onInstances = policies().filter((s) => JSON.stringify(s.Action).includes(action) && JSON.stringify(s.Resource).includes('instance/'));
      expect(onInstances.length).toBeGreaterThan(0);
      for (const s of onInstances) expect(JSON.stringify(s.Condition)).toMatch(/[Rr]esourceTag\/ec2-build-action:stack/);
    }
  });

  it('has no Resource "*" on any action that changes things, except job-worker APIs without resource-level permissions', () => {
    const allowedUnscoped = /^(ec2:Describe|ssm:Describe|ssm:List|ssm:Get|codepipeline:(GetJobDetails|AcknowledgeJob|PutJob)|xray:|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)|ec2messages:|ssmmessages:|states:SendTaskSuccess$|states:SendTaskFailure$)/;
    for (const s of policies()) {
      if (s.Resource !== '*') continue;
      for (const action of [s.Action].flat() as string[]) expect(action).toMatch(allowedUnscoped);
    }
  });

  it('passes only the build role, only to EC2', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:PassRole', Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } } })]) },
    });
  });

  it('gives the build instance no access to S3', () => {
    const roles = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } } });
    const [roleId] = Object.keys(roles);
    const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId));
    expect(JSON.stringify(attached)).not.toMatch(/"s3:/);
    expect(roles[roleId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('runs every function on Node.js 22', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fns.length).toBe(17);
    for (const fn of fns) expect(fn.Properties.Runtime).toBe('nodejs22.x');
  });
});
