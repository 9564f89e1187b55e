import { App, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Ec2BuildProvider, PropValueError, type Ec2BuildProviderProps } from '../../lib';

const build = (props: Ec2BuildProviderProps = {}, id = 'Ec2Builds') => new Ec2BuildProvider(new Stack(new App(), 'Builds'), id, props);

describe('Ec2BuildProvider', () => {
  it.each<[string, Ec2BuildProviderProps, string]>([
    ['category', { category: 'Compile' }, 'category must be one of Build, Test, Deploy, Invoke, got "Compile"'],
    ['category', { category: 'Source' }, 'category must be one of Build, Test, Deploy, Invoke, got "Source"'],
    ['providerName', { providerName: 'EC2 Build' }, 'providerName must be 1 to 35 letters, digits, - or _, got "EC2 Build"'],
    ['version', { version: '1234567890' }, 'version must be 1 to 9 letters, digits, - or _, got "1234567890"'],
    ['subnetIds', { subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-x'] }, 'subnetIds[1] must be a subnet ID (subnet-0123abcd...), got "subnet-x"'],
    ['subnetIds', { subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0aaaaaaaaaaaaaaaa'] }, 'subnetIds must be a list without repeats, got ["subnet-0aaaaaaaaaaaaaaaa","subnet-0aaaaaaaaaaaaaaaa"]'],
    ['securityGroupIds', { securityGroupIds: ['default'] }, 'securityGroupIds[0] must be a security group ID (sg-0123abcd...), got "default"'],
    ['rootVolumeGiB', { rootVolumeGiB: 7 }, 'rootVolumeGiB must be a whole number of GiB from 8 to 16384, got 7'],
    ['rootVolumeGiB', { rootVolumeGiB: 30.5 }, 'rootVolumeGiB must be a whole number of GiB from 8 to 16384, got 30.5'],
    ['holdOnFailureMinutes', { holdOnFailureMinutes: 721 }, 'holdOnFailureMinutes must be a whole number of minutes from 0 to 720, known at synth, got 721'],
    ['holdOnFailureMinutes', { holdOnFailureMinutes: 2.5 }, 'holdOnFailureMinutes must be a whole number of minutes from 0 to 720, known at synth, got 2.5'],
    ['ebsKmsKeyArn', { ebsKmsKeyArn: 'alias/aws/ebs' }, 'ebsKmsKeyArn must be the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID; not an alias or a bare key ID), got "alias/aws/ebs"'],
  ])('refuses a bad %s, naming the prop and echoing the value', (_prop, props, message) => {
    const attempt = () => build(props);
    expect(attempt).toThrow(PropValueError);
    expect(attempt).toThrow(`Ec2BuildProvider: ${message}`);
  });

  it('gives the poller the stack\'s hold on failure (0 by default)', () => {
    const holdOf = (provider: Ec2BuildProvider) =>
      Object.entries(Template.fromStack(Stack.of(provider)).findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('Ec2BuildsPollerFunction'))?.[1].Properties.Environment.Variables.HOLD_ON_FAILURE_MINUTES;
    expect(holdOf(build({ holdOnFailureMinutes: 20 }))).toBe('20');
    expect(holdOf(build())).toBe('0');
  });

  it('checks fleets with the fleets parser, naming the fleet and the setting, and wants literals', () => {
    const linux = { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], market: 'on-demand', hotPool: 1, stoppedPool: 0, maxConcurrent: 2, maxQueueMinutes: 5 } as const;
    expect(() => build({ fleets: { linux } })).not.toThrow();
    expect(() => build({ fleets: { linux: { ...linux, maxConcurrent: 0 } } })).toThrow('Ec2BuildProvider: fleets.linux.maxConcurrent must be a whole number from 1 to 1000, got 0');
    expect(() => build({ fleets: { linux: { ...linux, imageId: Fn.importValue('Ami') } } })).toThrow(
      /^Ec2BuildProvider: fleets\.linux\.imageId must be a literal known at synth \(for an image that changes, resolve:ssm: and a parameter\), got "\$\{Token/,
    );
  });

  it('gives its fleets to the poller and the refill, and schedules refills only when it has fleets', () => {
    const linux = { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], market: 'on-demand' as const, hotPool: 1, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 10 };
    const template = (provider: Ec2BuildProvider) => Template.fromStack(Stack.of(provider));
    const withFleets = template(build({ fleets: { linux } }));
    const functions = Object.entries(withFleets.findResources('AWS::Lambda::Function'));
    const fleetsOf = (prefix: string) => functions.find(([id]) => id.startsWith(prefix))?.[1].Properties.Environment?.Variables?.FLEETS;
    // The poller checks a job's Fleet against them; the refill fills their pools.
    expect(fleetsOf('Ec2BuildsPollerFunction')).toBeDefined();
    expect(fleetsOf('Ec2BuildsFleetsRefill')).toBeDefined();
    const fleetsValues = functions.map(([, f]) => f.Properties.Environment?.Variables?.FLEETS).filter((v) => v !== undefined).map((v) => JSON.parse(v));
    expect(fleetsValues.length).toBeGreaterThanOrEqual(2);
    for (const value of fleetsValues) expect(value).toEqual({ linux: { ...linux, schedules: [], maxAgeMinutes: 1440, hibernate: false } });
    const everyMinute = (t: Template) => Object.values(t.findResources('AWS::Events::Rule')).filter((r) => r.Properties.ScheduleExpression === 'rate(1 minute)');
    // The refill; and the safety-net poll, which hands a job in a fleet's line its continuation job; and, in every
    // stack, the schedule that restarts the readiness watcher.
    expect(everyMinute(withFleets)).toHaveLength(3);
    expect(everyMinute(template(build())).map((r) => r.Properties.Description)).toEqual(['Restarts the readiness watcher if builds wait and none runs']);
  });

  it('refuses fleets too large for a function\'s environment, naming the size and the limit', () => {
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`fleet-with-a-long-name-${i}`, { imageId: 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', instanceTypes: ['c7i.large', 'm7i.large'], market: 'on-demand' as const, hotPool: 1, stoppedPool: 1, maxConcurrent: 4, maxQueueMinutes: 10 }]));
    expect(() => build({ fleets: many })).toThrow(/fleets take \d+ bytes as the functions' FLEETS variable, more than the 3000 that Lambda's 4 KB limit/);
  });

  it('leaves unresolved tokens to CloudFormation, but not the action type\'s identity', () => {
    expect(() => build({ subnetIds: Fn.split(',', Fn.importValue('BuildSubnets')) })).not.toThrow();
    expect(() => build({ ebsKmsKeyArn: Fn.importValue('EbsKey') })).not.toThrow();
    expect(() => build({ version: Fn.importValue('Version') })).toThrow(/version must be a literal string \(1 to 9 letters, digits, - or _\), known at synth, got "\$\{Token/);
  });

  it('allows one provider per stack, since its instances are tagged with the stack name', () => {
    const stack = new Stack(new App(), 'Builds');
    new Ec2BuildProvider(stack, 'First');
    expect(() => new Ec2BuildProvider(stack, 'Second', { version: '2' })).toThrow("Ec2BuildProvider: a stack holds at most one, and Builds already has Builds/First; put 'Second' in a stack of its own");
  });

  it('refuses a second provider of the app that registers the same action type, in any stack', () => {
    const app = new App();
    new Ec2BuildProvider(new Stack(app, 'One'), 'Builds');
    expect(() => new Ec2BuildProvider(new Stack(app, 'Two'), 'Builds')).toThrow("Ec2BuildProvider: One/Builds already registers Custom/Build/EC2-Build/3; give 'Builds' another providerName or version");
    expect(() => new Ec2BuildProvider(new Stack(app, 'Three'), 'Builds', { version: '4' })).not.toThrow();
  });

  it('refuses a stack name too long to name its state machine', () => {
    const name = `B${'x'.repeat(71)}`;
    expect(() => new Ec2BuildProvider(new Stack(new App(), name), 'Builds')).toThrow(`the name of its stack must be at most 71 characters (its state machine is named after it), got "${name}"`);
    expect(() => new Ec2BuildProvider(new Stack(new App(), name.slice(1)), 'Builds')).not.toThrow();
  });

  it('matches the shipped pin of version 1 wherever the provider sits in the app', () => {
    // GIVEN the default action type under a construct path other than the app's
    const stack = new Stack(new App(), 'TeamBuilds');
    // WHEN it is created, THEN its definition matches action-types/Build-EC2-Build-1.json
    expect(() => new Ec2BuildProvider(stack, 'Nested')).not.toThrow();
    Template.fromStack(stack).resourceCountIs('AWS::CodePipeline::CustomActionType', 1);
  });

  it('refuses attributes that cannot name an action type', () => {
    const stack = new Stack(new App(), 'Pipelines');
    expect(() => Ec2BuildProvider.fromAttributes(stack, 'Other', { providerName: 'EC2/Build' })).toThrow('Ec2BuildProvider.fromAttributes: providerName must be 1 to 35 letters, digits, - or _, got "EC2/Build"');
    expect(Ec2BuildProvider.fromAttributes(stack, 'Default', { version: '4' }).actionType).toEqual({ owner: 'Custom', category: 'Build', provider: 'EC2-Build', version: '4' });
  });
});
