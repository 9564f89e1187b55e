import { LocalCloud } from '../../local/cloud';
import { faultNamed } from '../../local/faults';
import { runJob } from '../../local/job';
import { LOCAL_SUBNETS } from '../../local/synthesized';

/**
 * A build while another Availability Zone is disrupted, in a cloud of its own (the disruption is the whole account's):
 * EC2 fails every DescribeInstances that names no instance ID, or one in that zone (API_DescribeInstances.html). The
 * build's instance runs in the first subnet (the launcher tries them in order) and its "running" event is lost, so
 * only the readiness watcher's look at EC2 can move it on; that look names its instances by ID, so it still works.
 */
let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await LocalCloud.start();
}, 300_000);
afterAll(async () => {
  await cloud?.stop();
});

it('starts a build whose running event was lost while another zone is disrupted: the watcher asks EC2 by instance ID', async () => {
  // GIVEN the second subnet's zone disrupted
  cloud.ec2.disruptedSubnets.add(LOCAL_SUBNETS[1]);
  // AND the EC2 state-change events that reach EventBridge recorded
  const states: unknown[] = [];
  const put = cloud.bus.put.bind(cloud.bus);
  cloud.bus.put = (event) => {
    if (event['detail-type'] === 'EC2 Instance State-change Notification') states.push((event.detail as { state: string }).state);
    put(event);
  };
  // WHEN a build runs whose instance's running event EventBridge loses
  const summary = await runJob(cloud, { source: null, command: 'true' }, faultNamed('instance-running-event-lost'));
  // (it was lost: only the watcher's look could tell that the instance runs)
  expect(states).toContain('pending');
  expect(states).not.toContain('running');
  // THEN it succeeds, with one result and its instance released, in the healthy zone
  expect([summary.status, summary.failureMessage]).toEqual(['Succeeded', null]);
  expect(summary.jobResults).toBe(1);
  expect(summary.instancesReleased).toBe(summary.instancesLaunched);
  expect([...cloud.ec2.instances.values()].map((i) => i.subnetId)).toEqual([LOCAL_SUBNETS[0]]);
});
