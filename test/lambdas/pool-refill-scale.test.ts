import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { refillPass, type FleetContext, type FleetCounts } from '../../lambdas/pool-refill/pass';
import { parseFleets } from '../../lambdas/shared/fleets';

/**
 * A refill pass's EC2 calls stay flat in the pool's size (#16): the fleet's instances in one filtered, paginated
 * listing, and the members that listing leaves out (launched a moment ago: EC2 is eventually consistent) looked up
 * together, never one DescribeInstances each.
 */

const IMAGE = 'ami-0a1b2c3d4e5f67890';
const now = new Date('2026-11-22T12:00:00Z');
const fleet = parseFleets({ f: { imageId: IMAGE, instanceTypes: ['t3.medium'], market: 'on-demand', hotPool: 60, stoppedPool: 0, maxConcurrent: 60, maxQueueMinutes: 5 } }, 'fleets').f;
const table = { client: new DynamoDBClient({}), tableName: 'PoolTable' };
const ctx: FleetContext = {
  table,
  name: 'f',
  fleet,
  sizes: { hotPool: 60, stoppedPool: 0, schedule: null },
  imageId: IMAGE,
  market: 'on-demand',
  launch: { launchTemplateId: 'lt-0123', subnetIds: [], stackTagValue: 'Ec2BuildAction', rootVolumeGiB: 30 },
  rootVolume: null,
};
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  ec2.reset();
  ssm.reset();
  dynamodb.reset();
});

/** 60 warming hot-pool members launched 20 seconds ago, as the table records them. */
const ids = Array.from({ length: 60 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
function warmingMembers() {
  const at = new Date(now.getTime() - 20_000).toISOString();
  const Items = ids.map((id) => ({
    pk: { S: 'FLEET#f' },
    sk: { S: `INSTANCE#${id}` },
    ...Object.fromEntries(Object.entries({ fleet: 'f', instanceId: id, pool: 'hot', state: 'warming', imageId: IMAGE, instanceType: 't3.medium', market: 'on-demand', launchedAt: at, updatedAt: at }).map(([k, v]) => [k, { S: v }])),
  }));
  dynamodb.on(QueryCommand).resolves({ Items });
}

it('looks up the members the fleet\'s listing left out in one call, not one call each', async () => {
  // GIVEN 60 members just launched, which the fleet's tag listing does not show yet (eventual consistency), all pending
  warmingMembers();
  ec2.on(DescribeInstancesCommand).callsFake((input: { Filters: { Name: string; Values: string[] }[] }) => {
    const byId = input.Filters.find((f) => f.Name === 'instance-id');
    const Instances = (byId?.Values ?? []).map((InstanceId) => ({ InstanceId, State: { Name: 'pending' } }));
    return { Reservations: Instances.length ? [{ Instances }] : [] };
  });
  ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
  // WHEN one pass runs (no launch)
  const counts: FleetCounts = { launched: 0, ready: 0, stopped: 0, retired: 0, removed: 0, refusals: [] };
  const pass = await refillPass(ctx, now, false, counts);
  // THEN two DescribeInstances calls: the fleet's listing, then the 60 by id together (filtered and paginated)
  const calls = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
  expect(calls).toHaveLength(2);
  expect(calls[1]).toEqual({ Filters: [{ Name: 'instance-id', Values: ids }], MaxResults: 1000 });
  expect(calls[1].InstanceIds).toBeUndefined();
  // AND every member is kept warming: EC2 knows it, it is only missing from the listing
  expect(pass.busy).toBe(60);
  expect(counts).toMatchObject({ removed: 0, retired: 0 });
});
