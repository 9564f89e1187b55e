import { App } from 'aws-cdk-lib';
import { CONTEXT, readSettings } from '../../lib/context';

const settings = (context: Record<string, unknown>) => readSettings(new App({ context }).node);
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('context settings', () => {
  it('defaults every key when none is set', () => {
    expect(settings({})).toEqual({
      stackName: 'Ec2BuildAction',
      category: 'Build',
      providerName: 'EC2-Build',
      version: '3',
      previousVersions: [],
      subnetIds: [],
      securityGroupIds: [],
      rootVolumeGiB: 30,
      ebsKmsKeyArn: undefined,
      fleets: undefined,
      parameterPrefixes: [],
      secretPrefixes: [],
      referenceKmsKeyArns: [],
      holdOnFailureMinutes: 0,
      cacheExpiryDays: 7,
    });
  });

  it('reads the hold on failure in minutes, and refuses one past 12 hours or not whole', () => {
    expect(settings({ [CONTEXT.holdOnFailureMinutes]: '30' }).holdOnFailureMinutes).toBe(30);
    expect(settings({ [CONTEXT.holdOnFailureMinutes]: 45 }).holdOnFailureMinutes).toBe(45);
    expect(() => settings({ [CONTEXT.holdOnFailureMinutes]: '721' })).toThrow(/ec2-build-action:holdOnFailureMinutes.*721/);
    expect(() => settings({ [CONTEXT.holdOnFailureMinutes]: '1.5' })).toThrow(/ec2-build-action:holdOnFailureMinutes/);
  });

  it('reads the versions kept beside the current one, and refuses one that cannot be a version', () => {
    expect(settings({ [CONTEXT.version]: '3', [CONTEXT.previousVersions]: '1, 2' }).previousVersions).toEqual(['1', '2']);
    expect(() => settings({ [CONTEXT.previousVersions]: '1,v 2' })).toThrow(`${CONTEXT.previousVersions} must be a comma-separated list of earlier versions (each 1 to 9 letters, digits, - or _), got "v 2"`);
  });

  it('reads a root volume size given as text (-c) or as a number (cdk.json)', () => {
    expect(settings({ [CONTEXT.rootVolumeGiB]: '40' }).rootVolumeGiB).toBe(40);
    expect(settings({ [CONTEXT.rootVolumeGiB]: 40 }).rootVolumeGiB).toBe(40);
  });

  it.each([['abc'], ['7'], ['12.5'], [16385], [true]])('rejects the root volume size %j, naming the key and echoing the value', (value) => {
    expect(() => settings({ [CONTEXT.rootVolumeGiB]: value })).toThrow(
      `${CONTEXT.rootVolumeGiB} must be a whole number of GiB from 8 to 16384, got ${JSON.stringify(value)}`,
    );
  });

  it('reads the default EBS key ARN, and rejects an alias or a bare key ID', () => {
    expect(settings({ [CONTEXT.ebsKmsKeyArn]: KEY_ARN }).ebsKmsKeyArn).toBe(KEY_ARN);
    for (const value of ['alias/aws/ebs', 'arn:aws:kms:eu-west-1:123456789012:alias/builds', '1234abcd-12ab-34cd-56ef-1234567890ab']) {
      expect(() => settings({ [CONTEXT.ebsKmsKeyArn]: value })).toThrow(new RegExp(`^${CONTEXT.ebsKmsKeyArn} must be the ARN of a KMS key .*, got ${JSON.stringify(value)}$`));
    }
  });

  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  it.each([
    [CONTEXT.category, 'Compile', 'Compile'],
    [CONTEXT.provider, 'EC2 Build', 'EC2 Build'],
    [CONTEXT.version, '1.0', '1.0'],
    [CONTEXT.stackName, '9lives', '9lives'],
    [CONTEXT.subnetIds, 'subnet-0aaaaaaa1,vpc-0bbbbbbb', 'vpc-0bbbbbbb'],
    [CONTEXT.securityGroupIds, ['sg-0123abcd', 42], 42],
  ])('rejects %s = %j with a message naming the key and echoing the bad value', (key, value, bad) => {
    expect(() => settings({ [key]: value })).toThrow(new RegExp(`^${escape(key)} must be .+, got ${escape(JSON.stringify(bad))}$`));
  });

  it('reads fleets given as JSON text (-c) or as an object (cdk.json), with their defaults', () => {
    const linux = { imageId: 'ami-0123456789abcdef0', instanceTypes: ['c7i.large'], market: 'spot', hotPool: 2, stoppedPool: 0, maxConcurrent: 4, maxQueueMinutes: 10 };
    const expected = { linux: { ...linux, schedules: [], maxAgeMinutes: 1440, hibernate: false } };
    expect(settings({ [CONTEXT.fleets]: JSON.stringify({ linux }) }).fleets).toEqual(expected);
    expect(settings({ [CONTEXT.fleets]: { linux } }).fleets).toEqual(expected);
    expect(settings({}).fleets).toBeUndefined();
    expect(() => settings({ [CONTEXT.fleets]: { linux: { ...linux, hotPool: -1 } } })).toThrow(`${CONTEXT.fleets}.linux.hotPool must be a whole number from 0 to 100, got -1`);
    expect(() => settings({ [CONTEXT.fleets]: '{linux: 1}' })).toThrow(`${CONTEXT.fleets} must be a JSON object of fleets keyed by name, got "{linux: 1}"`);
  });

  it('reads lists given as comma-separated text or as arrays', () => {
    expect(settings({ [CONTEXT.subnetIds]: 'subnet-0aaaaaaa1, subnet-0bbbbbbb2' }).subnetIds).toEqual(['subnet-0aaaaaaa1', 'subnet-0bbbbbbb2']);
    expect(settings({ [CONTEXT.securityGroupIds]: ['sg-0123abcd'] }).securityGroupIds).toEqual(['sg-0123abcd']);
  });
});
