import { parseFleets, type Fleet, type FleetProps } from '../lambdas/shared/fleets';
import { PROPERTY } from '../lambdas/shared/properties';
import type { LocalCloud } from './cloud';
import { builderOf, fillFleet, holdRefill, idlePoolInstances, poolTableMembers } from './fleet-checks';
import type { Fault } from './faults';
import type { JobOptions, JobSummary } from './job';

/**
 * Faults of fleets (#12): each runs on a fleet of its own (Fault.fleets), in a local cloud started with those
 * fleets. What they share: a scenario that prepares the fleet (fills its pools, breaks something behind the
 * table's back), runs the job or jobs, and checks what the summary alone cannot show (where the build ran,
 * what the refill did after).
 */

/** What a fault's scenario gets from the runner (local/fault-run.ts). */
export interface FaultContext {
  readonly cloud: LocalCloud;
  /** Runs the fault's job (its `job` options applied over the runner's); `extra` changes it, `plain` runs it without the fault. */
  readonly run: (extra?: Partial<JobOptions>, plain?: boolean) => Promise<JobSummary>;
}

/** A scenario's jobs, the one whose outcome the fault's expectation describes, and the fault's own broken promises. */
export interface ScenarioOutcome {
  readonly summaries: JobSummary[];
  readonly primary: JobSummary;
  readonly violations: string[];
}

const IMAGE = 'ami-0a1b2c3d4e5f67890';
/**
 * The fleet of fleet-image-changed reads its image from a public parameter none of examples/fleets.json's fleets
 * uses (Ubuntu 24.04 amd64), so publishing a new image there retires only its own pool; the fault flips it
 * between two x86_64 images the local EC2 knows (local/services/ec2-images.ts).
 */
export const IMAGE_PARAMETER = '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';
const IMAGES = ['ami-0b1c2d3e4f5a6b7c8', 'ami-0123456789abcdef0'] as const;
/** The image last published to the parameter in this process (its seed, PUBLIC_AMI_PARAMETERS, is the first). */
let published: string = IMAGES[0];

const base = { imageId: IMAGE, instanceTypes: ['t3.medium', 't3.large'], market: 'on-demand', maxQueueMinutes: 5 } as const;
/** The fleets the fleet faults that share a cloud run on: one each, so a fault's pools are its own. */
export const FAULT_FLEETS: Readonly<Record<string, Fleet>> = parseFleets(
  {
    'fault-empty': { ...base, hotPool: 0, stoppedPool: 0, maxConcurrent: 10 },
    'fault-race': { ...base, hotPool: 10, stoppedPool: 0, maxConcurrent: 50 },
    'fault-dead': { ...base, hotPool: 2, stoppedPool: 0, maxConcurrent: 10 },
    'fault-image': { ...base, imageId: `resolve:ssm:${IMAGE_PARAMETER}`, hotPool: 2, stoppedPool: 1, maxConcurrent: 10 },
    // The Spot faults' (local/faults-spot.ts): empty pools, so their jobs launch cold in the fleet's market.
    'fault-spot': { ...base, market: 'spot', hotPool: 0, stoppedPool: 0, maxConcurrent: 10 },
    'fault-spot-fallback': { ...base, market: 'spot-then-on-demand', hotPool: 0, stoppedPool: 0, maxConcurrent: 10 },
    // No job runs on it: its refill launches a Spot member, as a Spot fleet's does (the refill's Spot rights, used).
    'fault-spot-pool': { ...base, market: 'spot', hotPool: 1, stoppedPool: 0, maxConcurrent: 1 },
  } satisfies Record<string, FleetProps>,
  'fault fleets',
);
/** queue-timeout's fleet, in a cloud of its own (it also shortens every job's renewal interval). */
const QUEUE_FLEETS: Readonly<Record<string, Fleet>> = parseFleets(
  { 'fault-queue': { ...base, hotPool: 0, stoppedPool: 0, maxConcurrent: 1, maxQueueMinutes: 1 } } satisfies Record<string, FleetProps>,
  'queue fault fleets',
);

const onFleet = (name: string): Partial<JobOptions> => ({ properties: { [PROPERTY.fleet]: name } });

/** Waits until a new execution (not in `before`) has left `state` as it does when its task succeeded, or gives up after `ms`. */
async function untilExited(cloud: LocalCloud, before: ReadonlySet<string>, state: string, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const exited = [...cloud.sfn.executions.values()].some((e) => !before.has(e.name) && e.events.some((ev) => ev.type === 'StateExited' && ev.state?.name === state));
    if (exited) return true;
  }
  return false;
}

/** Fills the fault's fleet and says so when it could not. */
async function filled(cloud: LocalCloud, fleet: string, violations: string[]): Promise<void> {
  if (!(await fillFleet(cloud, fleet))) violations.push(`fleet ${fleet}: the refill did not fill its pools (${JSON.stringify(cloud.poolCounts(fleet))})`);
}

/** After the job: the refill brings the fleet back to size, and the table lists none of `gone` as claimable. */
async function refilledWithout(cloud: LocalCloud, fleet: string, gone: readonly string[], what: string, violations: string[]): Promise<void> {
  await filled(cloud, fleet, violations);
  const stale = (await poolTableMembers(cloud, fleet)).filter((m) => gone.includes(m.instanceId ?? '') && (m.state === 'ready' || m.state === 'stopped'));
  for (const m of stale) violations.push(`fleet ${fleet}: the table still offers ${what} instance ${m.instanceId} (${m.state}) after the refill`);
  const idle = idlePoolInstances(cloud, fleet).filter((i) => gone.includes(i.instanceId) && i.state !== 'terminated' && i.state !== 'shutting-down');
  for (const i of idle) violations.push(`fleet ${fleet}: ${what} instance ${i.instanceId} is still ${i.state} after the refill`);
}

export const FLEET_FAULTS: readonly Fault[] = [
  {
    name: 'pool-empty',
    description: 'the job\'s fleet has no pool instance to give (its pools are 0, or empty at this moment)',
    handling: 'Launch Instance finds nothing to claim and launches cold from the fleet\'s image and first instance type in its market, at once: an empty pool is never waited for',
    expect: { status: 'Succeeded', capacitySource: 'launched' },
    fleets: FAULT_FLEETS,
    job: onFleet('fault-empty'),
    scenario: async ({ cloud, run }) => {
      const s = await run();
      const violations: string[] = [];
      const builder = builderOf(cloud, s);
      const fleet = FAULT_FLEETS['fault-empty'];
      if (builder && (builder.imageId !== fleet.imageId || builder.instanceType !== fleet.instanceTypes[0])) {
        violations.push(`${s.jobId}: built on ${builder.imageId} (${builder.instanceType}), not the fleet's ${fleet.imageId} (${fleet.instanceTypes[0]})`);
      }
      return { summaries: [s], primary: s, violations };
    },
  },
  {
    name: 'pool-claim-race',
    description: '50 jobs start at once on a fleet whose hot pool holds 10 ready instances',
    handling: 'each claim is a conditional write in the pool table: a lost race moves on to the next member, and with none left the job launches cold; every pool instance builds once, the other 40 jobs launch their own (the refill is held off during the race, as by a long refill run holding the fleet\'s lease, so exactly 10 members are there to claim)',
    expect: { status: 'Succeeded' },
    fleets: FAULT_FLEETS,
    job: onFleet('fault-race'),
    jobCount: 50,
    scenario: async ({ cloud, run }) => {
      const violations: string[] = [];
      await filled(cloud, 'fault-race', violations);
      // Refills started by the claims would ready new members during the race; held off, the race is 50 claims on these 10.
      const release = await holdRefill(cloud, 'fault-race', 'fault pool-claim-race');
      // The members a claim can get: ready in the table (and, fillFleet saw to it, running with their agent online).
      const pool = new Set((await poolTableMembers(cloud, 'fault-race')).filter((m) => m.state === 'ready').map((m) => m.instanceId ?? ''));
      const summaries = await Promise.all(Array.from({ length: 50 }, () => run())).finally(release);
      const builders = summaries.map((s) => builderOf(cloud, s)?.instanceId ?? `none (${s.jobId})`);
      if (new Set(builders).size !== builders.length) violations.push(`50 jobs built on ${new Set(builders).size} distinct instances`);
      for (const id of pool) if (builders.filter((b) => b === id).length !== 1) violations.push(`pool instance ${id} ran ${builders.filter((b) => b === id).length} of the builds, not 1`);
      const fromPool = summaries.filter((s) => s.capacitySource === 'hot-pool').length;
      const launched = summaries.filter((s) => s.capacitySource === 'launched').length;
      if (fromPool !== pool.size || launched !== summaries.length - pool.size) violations.push(`${fromPool} builds on pool instances (${pool.size} were ready) and ${launched} cold launches, of ${summaries.length} jobs`);
      for (const s of summaries.filter((x) => x.status !== 'Succeeded')) violations.push(`${s.jobId}: ${s.status}: ${s.failureMessage ?? ''}`);
      return { summaries, primary: summaries[0], violations };
    },
  },
  {
    name: 'pool-instance-dead',
    description: 'the hot pool\'s ready instances were terminated behind the pool table\'s back (by hand, or EC2 retired them)',
    handling: 'the claimed instance cannot be taken over: the launcher gives it up (never back to the pool) and takes the next member or launches cold; the refill sees EC2\'s state, drops the dead members and launches their replacements',
    expect: { status: 'Succeeded' },
    fleets: FAULT_FLEETS,
    job: onFleet('fault-dead'),
    scenario: async ({ cloud, run }) => {
      const violations: string[] = [];
      await filled(cloud, 'fault-dead', violations);
      const dead = idlePoolInstances(cloud, 'fault-dead').filter((i) => i.state === 'running');
      for (const i of dead) cloud.ec2.terminate(i, 'Client.UserInitiatedShutdown: User initiated shutdown');
      const s = await run();
      const ids = dead.map((i) => i.instanceId);
      const builder = builderOf(cloud, s);
      if (builder && ids.includes(builder.instanceId)) violations.push(`${s.jobId}: built on ${builder.instanceId}, which was terminated before the job`);
      await refilledWithout(cloud, 'fault-dead', ids, 'dead', violations);
      return { summaries: [s], primary: s, violations };
    },
  },
  {
    name: 'fleet-image-changed',
    description: 'a new image is published to the fleet\'s image parameter (resolve:ssm:) after its pools were filled',
    handling: 'Launch Instance resolves the parameter and claims only members of the new image, else launches cold from it; the refill retires the members of the old image and launches new ones',
    expect: { status: 'Succeeded' },
    fleets: FAULT_FLEETS,
    job: onFleet('fault-image'),
    scenario: async ({ cloud, run }) => {
      const violations: string[] = [];
      await filled(cloud, 'fault-image', violations);
      const next = published === IMAGES[0] ? IMAGES[1] : IMAGES[0];
      const oldMembers = idlePoolInstances(cloud, 'fault-image').filter((i) => i.imageId !== next).map((i) => i.instanceId);
      cloud.ssm.parameters.set(IMAGE_PARAMETER, next);
      published = next;
      const s = await run();
      const builder = builderOf(cloud, s);
      if (builder && builder.imageId !== next) violations.push(`${s.jobId}: built on ${builder.instanceId} of ${builder.imageId}, not the new image ${next}`);
      await refilledWithout(cloud, 'fault-image', oldMembers, 'old-image', violations);
      return { summaries: [s], primary: s, violations };
    },
  },
  /**
   * In real time, with a minute of maxQueueMinutes shortened to 8 s and renewals every 3 s: the waiting job reports its
   * place to CodePipeline about every 3 s (a job renewal each time) and gives up after 8 s instead of the fleet's minute.
   */
  {
    name: 'queue-timeout',
    description: 'every slot of the fleet (maxConcurrent 1) is held by a long build, and the next job waits in line past its bound',
    handling: 'the waiting job reports its place in line (a job renewal whose summary CodePipeline shows) at each refresh, then, past maxQueueMinutes, leaves the line and fails as SystemUnavailable naming the fleet and maxQueueMinutes, with nothing launched for it; the build holding the slot is not disturbed',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /fleet "fault-queue".*maxQueueMinutes/, launched: 0 },
    fleets: QUEUE_FLEETS,
    jobs: { renewalSeconds: 3, timeoutMs: 24_000, queueMinuteSeconds: 8 },
    job: onFleet('fault-queue'),
    scenario: async ({ cloud, run }) => {
      const violations: string[] = [];
      const before = new Set([...cloud.sfn.executions.values()].map((e) => e.name));
      const holder = run({ command: 'sleep 12 && bash build.sh' }, true);
      // The slot is taken inside Launch Instance (lambdas/launcher/capacity.ts), so the next job starts once the holder
      // has left it: started when the holder had only entered it, the next job's launch could take the slot first
      // (the holder's invocation can be the function's first, slower, on a loaded machine).
      if (!(await untilExited(cloud, before, 'Launch Instance', 30_000))) violations.push('the build that should hold the slot never left Launch Instance');
      const waiting = await run();
      const held = await holder;
      if (held.status !== 'Succeeded') violations.push(`${held.jobId} (holding the slot): ${held.status}: ${held.failureMessage ?? ''}`);
      return { summaries: [held, waiting], primary: waiting, violations };
    },
  },
];

/** The fleets a fault needs in its cloud, and the renewals: faults with the same key can share a cloud. */
export function cloudKey(fault: Pick<Fault, 'fleets' | 'jobs'>): string {
  return JSON.stringify({ fleets: fault.fleets ?? null, jobs: fault.jobs ?? null });
}
