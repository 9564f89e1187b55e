import { LocalCloud, MIN_EVENT_GRACE_MS } from '../../local/cloud';
import { faultNamed } from '../../local/faults';
import { runJob } from '../../local/job';

/**
 * The sweeper leaves an execution that ended abnormally to its status event for the stack's grace (5 minutes on AWS,
 * where the event and its handler take seconds). The local cloud runs that grace in simulated time but never shorter
 * than MIN_EVENT_GRACE_MS of real time: this machine's own pauses (a handler's first invocation on busy cores took 8 s)
 * must not hand the watchdog's work to the sweeper. Schedules are stopped: each sweep here is the test's own.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Someone stops the execution during the build and its status event never reaches the watchdog: the fault of that name. */
const stoppedUnseen = faultNamed('execution-status-event-lost')!;

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await LocalCloud.start();
  cloud.bus.stopSchedules();
}, 300_000);
afterAll(async () => {
  await cloud?.stop();
});

it('keeps an ended execution\'s instance for its event\'s grace, at least MIN_EVENT_GRACE_MS real, and releases it after', async () => {
  // GIVEN a cloud whose simulated grace (300 s at 20 ms a second) would be 6 real seconds, and a sweeper already warm
  // (a first invocation on busy cores takes seconds, and the sweeper reads its clock inside)
  expect(cloud.functionAt('SafetyNets/Sweeper').lambda.spec.env.EVENT_GRACE_MS).toBe(String(MIN_EVENT_GRACE_MS));
  await cloud.sweep();
  const job = runJob(cloud, { source: null, command: 'true' }, stoppedUnseen);
  // AND an execution stopped during its build, whose event the watchdog has not handled
  let stoppedAt = 0;
  for (const until = Date.now() + 120_000; !stoppedAt; await sleep(100)) {
    if ([...cloud.sfn.executions.values()].some((e) => e.status === 'ABORTED')) stoppedAt = Date.now();
    if (Date.now() > until) throw new Error('the execution was not stopped within 2 minutes');
  }
  const instanceId = [...cloud.ec2.instances.values()].find((i) => i.state === 'running' || i.state === 'pending')!.instanceId;
  // WHEN the sweeper runs 7.5 real seconds later (past 6 s, as long as this machine's pauses)
  await sleep(7500 - (Date.now() - stoppedAt));
  const early = await cloud.sweep();
  // THEN it keeps the instance: the event still has its grace
  expect(early.terminated.map((t) => t.instanceId)).not.toContain(instanceId);
  expect(cloud.ec2.instances.get(instanceId)!.state).toBe('running');
  // WHEN it runs again past the grace
  await sleep(cloud.eventGraceMs + 1000 - (Date.now() - stoppedAt));
  const late = await cloud.sweep();
  // THEN it releases the instance and fails the job, once
  expect(late.terminated.map((t) => t.instanceId)).toContain(instanceId);
  const summary = await job;
  expect(summary).toMatchObject({ status: 'Failed', jobResults: 1, instancesSwept: 1 });
  expect(summary.failureMessage).toMatch(/ended ABORTED/);
}, 240_000);
