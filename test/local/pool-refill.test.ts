import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalCloud } from '../../local/cloud';
import { credentialsFor } from '../../local/iam/identity';
import { AwsError } from '../../local/services/aws-error';
import { loadLaunchConfig, type LaunchConfig } from '../../lambdas/shared/config';
import { parseFleets, type FleetProps } from '../../lambdas/shared/fleets';
import type { PoolTable } from '../../lambdas/shared/pool-table';
import { doctoredTemplate } from './doctored-template';

/**
 * The pool refill against the local cloud: EC2 boots, stops and hibernates instances, SSM registers
 * their agents, DynamoDB holds the pool table with the design's keys, and IAM authorizes every call as
 * a role of the template. The refill runs in this process, with SDK clients on the local endpoints.
 */
const ROLE = 'PoolRefillTestRole';
const IMAGE = 'ami-0a1b2c3d4e5f67890';
const OTHER_IMAGE = 'ami-0123456789abcdef0';

let cloud: LocalCloud;
let pool: PoolTable;
let launch: LaunchConfig;
let refillModule: typeof import('../../lambdas/pool-refill/refill');
let tableModule: typeof import('../../lambdas/shared/pool-table');

beforeAll(async () => {
  const template = await doctoredTemplate((t) => {
    const r = t.Resources as Record<string, unknown>;
    r.PoolTable ??= {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    };
    // The calls the refill makes; the stack's own grants for it are the lead's (lib/).
    const allow = (Sid: string, Action: string[], Resource: unknown, Condition?: unknown) => ({ Sid, Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
    r[ROLE] = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] } } };
    r[`${ROLE}Policy`] = {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: `${ROLE}Policy`,
        Roles: [{ Ref: ROLE }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            allow('Ec2', ['ec2:RunInstances', 'ec2:CreateTags', 'ec2:StopInstances', 'ec2:StartInstances', 'ec2:TerminateInstances', 'ec2:DescribeInstances', 'ec2:DescribeImages'], '*'),
            allow('PassRole', ['iam:PassRole'], '*', { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } }),
            // A Spot launch's own rights (lib/launch-grants.ts grantSpot).
            allow('SpotRole', ['iam:CreateServiceLinkedRole'], '*', { StringEquals: { 'iam:AWSServiceName': 'spot.amazonaws.com' } }),
            allow('Agents', ['ssm:DescribeInstanceInformation'], '*'),
            allow('Table', ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], { 'Fn::GetAtt': ['PoolTable', 'Arn'] }),
          ],
        },
      },
    };
  });
  cloud = await LocalCloud.start({ msPerSecond: 20, bootMs: 150, registerMs: 100 }, { template });
  // The sweeper terminates stack instances without an execution tag; teaching it pool members is another change.
  cloud.bus.stopSchedules();
  const credentials = credentialsFor(ROLE);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken });
  // The modules build their SDK clients when loaded: after the endpoints and credentials are set.
  /* eslint-disable @typescript-eslint/no-require-imports */
  refillModule = require('../../lambdas/pool-refill/refill') as typeof refillModule;
  tableModule = require('../../lambdas/shared/pool-table') as typeof tableModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  pool = { client: new DynamoDBClient({}), tableName: cloud.stack.ref('PoolTable') };
  // Where the stack's launcher launches: its launch template, subnets, stack tag and root volume.
  launch = loadLaunchConfig(cloud.functionAt('Tasks/Launch').lambda.spec.env);
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

const FLEET: FleetProps = { imageId: IMAGE, instanceTypes: ['t3.medium', 't3.large'], market: 'on-demand', hotPool: 2, stoppedPool: 1, maxConcurrent: 5, maxQueueMinutes: 5 };

/** One refill run over `fleets`, watching until its members settle. */
function refill(fleets: Record<string, FleetProps>, holder = 'test-run') {
  const settings = { table: pool, fleets: parseFleets(fleets, 'fleets'), launch, watchMs: 20_000, pollMs: 50 };
  return refillModule.refill(settings, undefined, { holder });
}

const members = (fleet: string) => tableModule.listMembers(pool, fleet);
const instance = (id: string) => cloud.ec2.instances.get(id)!;
const poolInstances = (fleet: string) => [...cloud.ec2.instances.values()].filter((i) => i.tags['ec2-build-action:fleet'] === fleet);

/** The pools as the table, EC2 and SSM see them: ready hot members running with their agent online, stopped ones stopped. */
async function expectFilled(fleet: string, hot: number, stopped: number): Promise<void> {
  const all = await members(fleet);
  const ready = all.filter((m) => m.pool === 'hot' && m.state === 'ready');
  const parked = all.filter((m) => m.pool === 'stopped' && m.state === 'stopped');
  expect({ ready: ready.length, stopped: parked.length, all: all.length }).toEqual({ ready: hot, stopped, all: hot + stopped });
  for (const m of ready) expect(instance(m.instanceId)).toMatchObject({ state: 'running', onlineAt: expect.any(Number) });
  for (const m of parked) expect(instance(m.instanceId).state).toBe('stopped');
  for (const m of all) {
    expect(instance(m.instanceId).tags).toEqual({ 'ec2-build-action:stack': launch.stackTagValue, 'ec2-build-action:fleet': fleet, 'ec2-build-action:pool': m.pool });
  }
}

describe('filling the pools', () => {
  it('brings a fleet with hotPool 2 and stoppedPool 1 to 2 ready instances with their agents online and 1 stopped one', async () => {
    // WHEN the refill runs on an empty fleet
    const report = await refill({ linux: FLEET });
    // THEN it launched three, made two ready and stopped one, and says so
    expect(report.fleets.linux).toMatchObject({ launched: 3, ready: 2, stopped: 1, retired: 0, removed: 0, sizes: { hotPool: 2, stoppedPool: 1, schedule: null } });
    await expectFilled('linux', 2, 1);
    expect(poolInstances('linux')).toHaveLength(3);
  });

  it('launches, stops and retires nothing when the pools are full already', async () => {
    const before = (await members('linux')).map((m) => m.instanceId).sort();
    const report = await refill({ linux: FLEET });
    expect(report.fleets.linux).toMatchObject({ launched: 0, ready: 0, stopped: 0, retired: 0, removed: 0 });
    expect((await members('linux')).map((m) => m.instanceId).sort()).toEqual(before);
    expect(poolInstances('linux')).toHaveLength(3);
  });

  it('replaces every member when the fleet\'s image changes, and terminates the old ones', async () => {
    const old = (await members('linux')).map((m) => m.instanceId);
    const report = await refill({ linux: { ...FLEET, imageId: OTHER_IMAGE } });
    expect(report.fleets.linux).toMatchObject({ launched: 3, retired: 3, ready: 2, stopped: 1 });
    const now = await members('linux');
    expect(now.every((m) => m.imageId === OTHER_IMAGE && !old.includes(m.instanceId))).toBe(true);
    for (const id of old) expect(['shutting-down', 'terminated']).toContain(instance(id).state);
    await expectFilled('linux', 2, 1);
  });

  it('forgets and replaces a member whose instance was terminated behind the table\'s back', async () => {
    const [victim] = (await members('linux')).filter((m) => m.state === 'ready');
    cloud.ec2.terminate(instance(victim.instanceId), 'Client.UserInitiatedShutdown: User initiated shutdown');
    const report = await refill({ linux: { ...FLEET, imageId: OTHER_IMAGE } });
    expect(report.fleets.linux).toMatchObject({ removed: 1, launched: 1, ready: 1, retired: 0 });
    expect((await members('linux')).map((m) => m.instanceId)).not.toContain(victim.instanceId);
    await expectFilled('linux', 2, 1);
  });

  it('trims a pool that shrank, never touching a claimed member', async () => {
    // GIVEN a job claimed one ready member
    const claimed = await tableModule.claim(pool, 'linux', 'hot', 'exec-1', new Date());
    expect(claimed).not.toBeNull();
    // WHEN the hot pool shrinks to 0 and the stopped pool stays
    const report = await refill({ linux: { ...FLEET, imageId: OTHER_IMAGE, hotPool: 0 } });
    // THEN the other ready member is retired and the claimed one is left to its job
    expect(report.fleets.linux).toMatchObject({ retired: 1, launched: 0 });
    const now = await members('linux');
    expect(now.map((m) => `${m.pool}:${m.state}`).sort()).toEqual(['hot:claimed', 'stopped:stopped']);
    expect(instance(claimed!.instanceId).state).toBe('running');
  });
});

describe('claimed members after their build', () => {
  it('forgets a claimed member once EC2 no longer lists its instance (its build released it), and keeps one still building', async () => {
    // GIVEN two claims on a filled fleet: one build still running, one whose instance the state machine terminated
    await refill({ claims: FLEET });
    const old = new Date(Date.now() - 10 * 60_000);
    const finished = (await tableModule.claim(pool, 'claims', 'hot', 'exec-done', old))!;
    const building = (await tableModule.claim(pool, 'claims', 'hot', 'exec-running', old))!;
    cloud.ec2.terminate(instance(finished.instanceId), 'Client.UserInitiatedShutdown: User initiated shutdown');
    await new Promise((r) => setTimeout(r, 1500));
    // WHEN the refill looks again
    await refill({ claims: FLEET });
    // THEN the finished claim's item is gone, the running one's kept
    const left = await members('claims');
    expect(left.find((m) => m.instanceId === finished.instanceId)).toBeUndefined();
    expect(left.find((m) => m.instanceId === building.instanceId)?.state).toBe('claimed');
  }, 60_000);
});

describe('a run that died midway', () => {
  it('finishes what it left: terminates a retiring member, records a stop that completed, and refills', async () => {
    // GIVEN a full fleet whose last run died after marking its ready member retiring and before recording a stop
    await refill({ crashy: { ...FLEET, hotPool: 1, stoppedPool: 1 } });
    const [hot] = (await members('crashy')).filter((m) => m.pool === 'hot');
    const [parked] = (await members('crashy')).filter((m) => m.pool === 'stopped');
    expect(await tableModule.transition(pool, 'crashy', hot.instanceId, 'ready', 'retiring', new Date())).toBe(true);
    expect(await tableModule.transition(pool, 'crashy', parked.instanceId, 'stopped', 'stopping', new Date())).toBe(true);
    // WHEN the next run comes
    const report = await refill({ crashy: { ...FLEET, hotPool: 1, stoppedPool: 1 } });
    // THEN the retiring one is terminated and replaced, and the stopped one is recorded as stopped again
    expect(report.fleets.crashy).toMatchObject({ retired: 1, launched: 1, ready: 1, stopped: 1 });
    expect(['shutting-down', 'terminated']).toContain(instance(hot.instanceId).state);
    await expectFilled('crashy', 1, 1);
  });
});

describe('two refills at once', () => {
  it('skips a fleet whose lease another refill holds, launching nothing', async () => {
    expect(await tableModule.takeRefillLease(pool, 'leased', 'another-run', new Date(), 60)).toBe(true);
    const report = await refill({ leased: { ...FLEET, hotPool: 1, stoppedPool: 0 } });
    expect(report.fleets.leased).toMatchObject({ launched: 0, skipped: expect.stringContaining('lease') });
    expect(poolInstances('leased')).toHaveLength(0);
    // Once given back, the next run fills the fleet (and gives its own lease back).
    await tableModule.releaseRefillLease(pool, 'leased', 'another-run');
    expect((await refill({ leased: { ...FLEET, hotPool: 1, stoppedPool: 0 } })).fleets.leased).toMatchObject({ launched: 1, ready: 1 });
    expect(await tableModule.takeRefillLease(pool, 'leased', 'a-third-run', new Date(), 60)).toBe(true);
  });
});

describe('markets', () => {
  afterEach(() => cloud.injectFault('', {}));

  it('launches a spot fleet as one-time Spot instances that terminate when interrupted', async () => {
    const report = await refill({ spotty: { ...FLEET, market: 'spot', hotPool: 1, stoppedPool: 0 } });
    expect(report.fleets.spotty).toMatchObject({ launched: 1, ready: 1 });
    const [m] = await members('spotty');
    expect(m.market).toBe('spot');
    expect(instance(m.instanceId).launch).toMatchObject({ market: 'spot', spotRequestType: 'one-time', interruptionBehavior: 'terminate' });
  });

  it('falls back to on-demand when no type in any subnet has Spot capacity, and keeps the stopped pool on-demand', async () => {
    // GIVEN EC2 has no Spot capacity anywhere (pool instances carry no job id: the fault for job '')
    const spotTries: string[] = [];
    cloud.injectFault('', {
      runInstances: (_job, subnet, type, market) => {
        if (market !== 'spot') return undefined;
        spotTries.push(`${type}@${subnet}`);
        return new AwsError('InsufficientInstanceCapacity', 'We currently do not have sufficient capacity in the Availability Zone you requested.');
      },
    });
    // WHEN a spot-then-on-demand fleet fills its pools
    const report = await refill({ mixed: { ...FLEET, market: 'spot-then-on-demand', hotPool: 2, stoppedPool: 1 } });
    // THEN Spot was tried for each type in each subnet, hot members are on-demand, and the stopped member never tried Spot
    expect(spotTries.sort()).toEqual(['t3.large', 't3.medium'].flatMap((t) => launch.subnetIds.map((s) => `${t}@${s}`)).sort());
    expect(report.fleets.mixed).toMatchObject({ launched: 3, ready: 2, stopped: 1 });
    expect((await members('mixed')).map((m) => m.market)).toEqual(['on-demand', 'on-demand', 'on-demand']);
    for (const i of poolInstances('mixed')) expect(i.launch.market).toBe('on-demand');
  });

  it('hibernates the stopped pool of a fleet that asks for it', async () => {
    const report = await refill({ sleepy: { ...FLEET, hotPool: 0, stoppedPool: 1, hibernate: true } });
    expect(report.fleets.sleepy).toMatchObject({ launched: 1, stopped: 1 });
    const [m] = await members('sleepy');
    expect(instance(m.instanceId)).toMatchObject({ state: 'stopped', hibernated: true, launch: { hibernationConfigured: true } });
  });
});

it('reads its settings once from the environment: FLEETS parsed again, a bad value named', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadRefillSettings } = require('../../lambdas/pool-refill/settings') as typeof import('../../lambdas/pool-refill/settings');
  const env = { ...cloud.functionAt('Tasks/Launch').lambda.spec.env, FLEETS: JSON.stringify({ linux: FLEET }), POOL_TABLE_NAME: 'pool', REFILL_WATCH_MS: '300000' };
  expect(loadRefillSettings(env)).toMatchObject({ fleets: { linux: { ...FLEET, maxAgeMinutes: 1440, hibernate: false, schedules: [] } }, watchMs: 300_000, pollMs: 2000, launch });
  expect(loadRefillSettings({ ...env, REFILL_WATCH_MS: '3000' }).pollMs).toBe(100);
  expect(() => loadRefillSettings({ ...env, FLEETS: JSON.stringify({ linux: { ...FLEET, hotPool: -1 } }) })).toThrow(/environment variable FLEETS must be fleets as the stack parsed them \(FLEETS\.linux\.hotPool must be/);
  expect(() => loadRefillSettings({ ...env, REFILL_WATCH_MS: 'soon' })).toThrow(/REFILL_WATCH_MS must be a number of milliseconds/);
});

it('refuses an event that names a fleet the stack does not have', async () => {
  const settings = { table: pool, fleets: parseFleets({ linux: FLEET }, 'fleets'), launch, watchMs: 0, pollMs: 50 };
  await expect(refillModule.refill(settings, 'windows', { holder: 'x' })).rejects.toMatchObject({ name: 'UnknownFleetError', message: expect.stringContaining('linux') });
});
