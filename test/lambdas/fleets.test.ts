import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLEET_LIMITS, FleetValueError, parseFleets, type FleetProps } from '../../lambdas/shared/fleets';

const FLEET: FleetProps = {
  imageId: 'ami-0123456789abcdef0',
  instanceTypes: ['c7i.large', 'm7i.large'],
  market: 'spot-then-on-demand',
  hotPool: 2,
  stoppedPool: 1,
  maxConcurrent: 5,
  maxQueueMinutes: 15,
};
const OFFICE = { cron: '0 8 ? * MON-FRI *', timezone: 'Europe/Berlin', hotPool: 3, stoppedPool: 2 };

/** Parses one fleet named linux with `change` applied to a valid one (undefined values removed). */
const parseOne = (change: Record<string, unknown>) => parseFleets({ linux: JSON.parse(JSON.stringify({ ...FLEET, ...change })) }, 'fleets');
const refusal = (attempt: () => unknown): string => {
  try {
    attempt();
  } catch (e) {
    expect(e).toBeInstanceOf(FleetValueError);
    return (e as Error).message;
  }
  throw new Error('expected a FleetValueError, got none');
};
const IMAGE =
  'an AMI ID (ami-0123456789abcdef0), resolve:ssm: and a parameter (resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64, resolve:ssm:/builds/golden-ami:prod) or one of the stock image aliases al2023, al2023-arm64, ubuntu-24.04, ubuntu-24.04-arm64, windows-2022';

describe('parseFleets', () => {
  it('applies the defaults: no schedules, pool instances replaced after a day, no hibernation', () => {
    expect(parseOne({})).toEqual({ linux: { ...FLEET, schedules: [], maxAgeMinutes: 1440, hibernate: false } });
  });

  it('reads examples/fleets.json: a Linux office-hours pool, a Spot-then-on-demand fleet, a hibernating Windows stopped pool', () => {
    const file = JSON.parse(fs.readFileSync(path.join(__dirname, '../../examples/fleets.json'), 'utf8'));
    const fleets = parseFleets(file, 'examples/fleets.json');
    expect(Object.keys(fleets)).toHaveLength(3);
    expect(Object.values(fleets).map((f) => f.market).sort()).toEqual(['on-demand', 'on-demand', 'spot-then-on-demand']);
    expect(Object.values(fleets).some((f) => f.schedules.length > 0)).toBe(true);
    expect(Object.values(fleets).some((f) => f.hibernate && f.stoppedPool > 0)).toBe(true);
  });

  it.each([
    [[], 'fleets must be an object of fleets keyed by name, got []'],
    ['{}', 'fleets must be an object of fleets keyed by name, got "{}"'],
    [{ 'linux big': FLEET }, 'fleets must be keyed by fleet names of 1 to 32 letters, digits, - or _, starting with a letter or digit, got "linux big"'],
    [{ '-linux': FLEET }, 'fleets must be keyed by fleet names of 1 to 32 letters, digits, - or _, starting with a letter or digit, got "-linux"'],
    [{ ['l'.repeat(33)]: FLEET }, `fleets must be keyed by fleet names of 1 to 32 letters, digits, - or _, starting with a letter or digit, got "${'l'.repeat(33)}"`],
    [{ Linux: FLEET, linux: FLEET }, 'fleets must be keyed by names that differ in more than case ("Linux" is there), got "linux"'],
    [{ linux: 'c7i.large' }, 'fleets.linux must be an object (a fleet), got "c7i.large"'],
  ])('refuses the fleets %j', (value, message) => {
    expect(refusal(() => parseFleets(value, 'fleets'))).toBe(message);
  });

  it(`holds at most ${FLEET_LIMITS.fleets} fleets`, () => {
    const names = Array.from({ length: FLEET_LIMITS.fleets + 1 }, (_, i) => `f${i}`);
    expect(() => parseFleets(Object.fromEntries(names.slice(1).map((n) => [n, FLEET])), 'fleets')).not.toThrow();
    expect(refusal(() => parseFleets(Object.fromEntries(names.map((n) => [n, FLEET])), 'fleets'))).toBe(`fleets must be at most 20 fleets, got ${JSON.stringify(names)}`);
  });

  it('refuses a setting it does not know, so a typo fails', () => {
    expect(refusal(() => parseOne({ hotpool: 2 }))).toBe(
      'fleets.linux.hotpool must be left out: there is no such setting (the settings are imageId, instanceTypes, market, hotPool, stoppedPool, maxConcurrent, maxQueueMinutes, schedules, maxAgeMinutes, hibernate), got 2',
    );
  });

  it.each(['imageId', 'instanceTypes', 'market', 'hotPool', 'stoppedPool', 'maxConcurrent', 'maxQueueMinutes'])('requires %s', (key) => {
    expect(refusal(() => parseOne({ [key]: undefined }))).toMatch(new RegExp(`^fleets\\.linux\\.${key} must be set: .+, got undefined$`));
  });

  it.each([
    'ami-0123abcd',
    'ami-0123456789abcdef0',
    'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    'resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base',
    'resolve:ssm:golden-ami',
    'resolve:ssm:/builds/golden-ami:3',
    'resolve:ssm:/builds/golden-ami:prod',
    `resolve:ssm:${'/a'.repeat(15)}`,
  ])('takes the image %s', (imageId) => {
    expect(parseOne({ imageId }).linux.imageId).toBe(imageId);
  });

  it.each([
    ['ami-0123'],
    ['ami-0123456789ABCDEF0'],
    ['resolve:ssm:'],
    ['resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64:1'],
    ['resolve:ssm:aws-golden-ami'],
    ['resolve:ssm:/SSM/golden-ami'],
    ['resolve:ssm:/builds/golden-ami:1prod'],
    ['resolve:ssm:/builds/golden-ami:aws-prod'],
    ['resolve:ssm:/builds/golden ami'],
    ['resolve:ssm:builds/golden-ami'],
    ['resolve:ssm:/builds//golden-ami'],
    [`resolve:ssm:/${'a'.repeat(1011)}`],
    ['resolve:ssm:arn:aws:ssm:eu-west-1:123456789012:parameter/golden-ami'],
    [`resolve:ssm:${'/a'.repeat(16)}`],
    ['{{resolve:ssm:/builds/golden-ami}}'],
  ])('refuses the image %s', (imageId) => {
    expect(refusal(() => parseOne({ imageId }))).toBe(`fleets.linux.imageId must be ${IMAGE}, got ${JSON.stringify(imageId)}`);
  });

  it.each([
    [[], 'fleets.linux.instanceTypes must be a list of 1 to 5 instance types (c7i.large), tried in order, got []'],
    ['c7i.large', 'fleets.linux.instanceTypes must be a list of 1 to 5 instance types (c7i.large), tried in order, got "c7i.large"'],
    [['a1.large', 'c5.large', 'c6i.large', 'c7i.large', 'm5.large', 'm6i.large'], 'fleets.linux.instanceTypes must be a list of 1 to 5 instance types (c7i.large), tried in order, got ["a1.large","c5.large","c6i.large","c7i.large","m5.large","m6i.large"]'],
    [['c7i.large', 'C7i.Large'], 'fleets.linux.instanceTypes[1] must be an instance type (c7i.large), got "C7i.Large"'],
    [['c7i.large', 7], 'fleets.linux.instanceTypes[1] must be an instance type (c7i.large), got 7'],
    [['c7i.large', 'c7i.large'], 'fleets.linux.instanceTypes must be a list without repeats, got ["c7i.large","c7i.large"]'],
  ])('refuses the instance types %j', (instanceTypes, message) => {
    expect(refusal(() => parseOne({ instanceTypes }))).toBe(message);
  });

  it.each(['on-demand', 'spot', 'spot-then-on-demand'])('takes the market %s', (market) => {
    expect(parseOne({ market, stoppedPool: 0 }).linux.market).toBe(market);
  });

  it('keeps no stopped pool on a spot fleet: a Spot instance stops only under a persistent request, which EC2 restarts itself', () => {
    const expected = '0 on a spot fleet: a Spot instance stops only under a persistent request, which EC2 restarts itself (spot-then-on-demand keeps an on-demand stopped pool)';
    expect(refusal(() => parseOne({ market: 'spot', stoppedPool: 1 }))).toBe(`fleets.linux.stoppedPool must be ${expected}, got 1`);
    expect(refusal(() => parseOne({ market: 'spot', stoppedPool: 0, schedules: [OFFICE] }))).toBe(`fleets.linux.schedules[0].stoppedPool must be ${expected}, got 2`);
    expect(parseOne({ market: 'spot-then-on-demand', stoppedPool: 1, schedules: [OFFICE] }).linux.stoppedPool).toBe(1);
  });

  it.each(['Spot', 'spot-fallback', 7])('refuses the market %j', (market) => {
    expect(refusal(() => parseOne({ market }))).toBe(`fleets.linux.market must be one of on-demand, spot, spot-then-on-demand, got ${JSON.stringify(market)}`);
  });

  it.each<[string, unknown, string]>([
    ['hotPool', -1, 'a whole number from 0 to 100'],
    ['hotPool', 101, 'a whole number from 0 to 100'],
    ['hotPool', 1.5, 'a whole number from 0 to 100'],
    ['stoppedPool', '2', 'a whole number from 0 to 100'],
    ['maxConcurrent', 0, 'a whole number from 1 to 1000'],
    ['maxConcurrent', 1001, 'a whole number from 1 to 1000'],
    ['maxQueueMinutes', -1, 'a whole number of minutes from 0 to 720'],
    ['maxQueueMinutes', 721, 'a whole number of minutes from 0 to 720'],
    ['maxAgeMinutes', 59, 'a whole number of minutes from 60 to 10080'],
    ['maxAgeMinutes', 10081, 'a whole number of minutes from 60 to 10080'],
    ['hibernate', 'yes', 'true or false'],
  ])('refuses %s = %j', (key, value, expected) => {
    expect(refusal(() => parseOne({ [key]: value }))).toBe(`fleets.linux.${key} must be ${expected}, got ${JSON.stringify(value)}`);
  });

  it('takes the ends of each range', () => {
    expect(() => parseOne({ hotPool: 0, stoppedPool: 0, maxConcurrent: 1, maxQueueMinutes: 0, maxAgeMinutes: 60 })).not.toThrow();
    expect(() => parseOne({ hotPool: 100, stoppedPool: 0, maxConcurrent: 1000, maxQueueMinutes: 30, maxAgeMinutes: 10080 })).not.toThrow();
  });

  it('keeps every pool size within maxConcurrent: a pool larger than the cap is never claimed at once', () => {
    expect(() => parseOne({ hotPool: 3, stoppedPool: 2, maxConcurrent: 5 })).not.toThrow();
    expect(refusal(() => parseOne({ hotPool: 4, stoppedPool: 2, maxConcurrent: 5 }))).toBe(
      'fleets.linux.maxConcurrent must be at least hotPool + stoppedPool (6): a pool larger than the cap is never claimed at once, got 5',
    );
    expect(refusal(() => parseOne({ maxConcurrent: 4, schedules: [OFFICE] }))).toBe(
      'fleets.linux.maxConcurrent must be at least hotPool + stoppedPool of schedules[0] (5): a pool larger than the cap is never claimed at once, got 4',
    );
  });

  it('hibernates only a fleet that keeps a stopped pool at some time', () => {
    expect(parseOne({ hibernate: true }).linux.hibernate).toBe(true);
    expect(parseOne({ hibernate: true, stoppedPool: 0, schedules: [OFFICE] }).linux.hibernate).toBe(true);
    expect(refusal(() => parseOne({ hibernate: true, stoppedPool: 0, schedules: [{ ...OFFICE, stoppedPool: 0 }] }))).toBe(
      "fleets.linux.hibernate must be false when the fleet never keeps a stopped pool (stoppedPool and every schedule's are 0), got true",
    );
  });

  it('reads schedules', () => {
    const night = { ...OFFICE, cron: '0 19 ? * MON-FRI *', hotPool: 0, stoppedPool: 1 };
    expect(parseOne({ schedules: [OFFICE, night] }).linux.schedules).toEqual([OFFICE, night]);
  });

  it.each<[string, unknown, string]>([
    ['not a list', OFFICE, `fleets.linux.schedules must be a list of at most 10 schedules, got ${JSON.stringify(OFFICE)}`],
    ['more than 10', Array.from({ length: 11 }, (_, i) => ({ ...OFFICE, cron: `${i} 8 ? * MON-FRI *` })), 'fleets.linux.schedules must be a list of at most 10 schedules, got ['],
    ['not an object', ['0 8 ? * MON-FRI *'], 'fleets.linux.schedules[0] must be an object (cron, timezone, hotPool, stoppedPool), got "0 8 ? * MON-FRI *"'],
    ['an unknown key', [{ ...OFFICE, timeZone: 'UTC' }], 'fleets.linux.schedules[0].timeZone must be left out: there is no such setting (the settings are cron, timezone, hotPool, stoppedPool), got "UTC"'],
    ['no time zone', [{ ...OFFICE, timezone: undefined }], 'fleets.linux.schedules[0].timezone must be set: an IANA time zone, got undefined'],
    ['no stopped pool', [{ ...OFFICE, stoppedPool: undefined }], 'fleets.linux.schedules[0].stoppedPool must be set: a pool size, got undefined'],
    ['a pool out of range', [{ ...OFFICE, hotPool: 101 }], 'fleets.linux.schedules[0].hotPool must be a whole number from 0 to 100, got 101'],
    ['the same time twice', [OFFICE, { ...OFFICE, hotPool: 1 }], `fleets.linux.schedules[1] must be a schedule of its own: another one fires at the same time, got ${JSON.stringify({ ...OFFICE, hotPool: 1 })}`],
  ])('refuses schedules with %s', (_case, schedules, message) => {
    const attempt = () => parseFleets({ linux: JSON.parse(JSON.stringify({ ...FLEET, maxConcurrent: 200, schedules })) }, 'fleets');
    expect(refusal(attempt).startsWith(message)).toBe(true);
  });

  it('names the value it was given in errors: the context key, the prop, the file', () => {
    expect(refusal(() => parseFleets({ linux: { ...FLEET, hotPool: -1 } }, 'ec2-build-action:fleets'))).toBe('ec2-build-action:fleets.linux.hotPool must be a whole number from 0 to 100, got -1');
  });
});
