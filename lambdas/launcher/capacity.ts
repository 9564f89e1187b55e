import type { LaunchConfig } from '../shared/config';
import { errorCode, errorMessage, NoFreeFleetSlotError } from '../shared/errors';
import { resolveImageId } from '../shared/images';
import { onDemandUntil } from '../shared/pool-breaker';
import { describeInstanceState } from '../shared/ec2';
import { agentsOnline, startInstance, tagForJob, terminateInstances } from '../shared/pool-ec2';
import { claim, takeSlot, transition, type PoolMember, type PoolName, type PoolTable } from '../shared/pool-table';
import type { BuildJob, InstanceMarket, JobFleet, LaunchedInstance } from '../shared/types';
import { launchBuildInstance, type ImageCache, type LaunchSpec } from './launch';

/** What the launcher needs beyond a cold launch's configuration: the pool table. */
export interface FleetCapacity {
  readonly table: PoolTable;
  readonly log: (message: string, details: Record<string, unknown>) => void;
}

/** The markets a fleet's cold launch tries: its own, on-demand only while its circuit breaker is open. */
export function fleetMarkets(fleet: JobFleet, breakerOpen: boolean): InstanceMarket[] {
  if (fleet.market === 'on-demand' || breakerOpen) return ['on-demand'];
  return fleet.market === 'spot' ? ['spot'] : ['spot', 'on-demand'];
}

/** What EC2 answers for an instance that is gone or cannot start (StartInstances on a terminated one, say). */
const GONE_CODES = new Set(['InvalidInstanceID.NotFound', 'IncorrectInstanceState', 'IncorrectState']);

/** How many members of each pool a launch tries when the ones it claims turn out dead. */
const CLAIM_ATTEMPTS = { hot: 3, stopped: 2 } as const;

/**
 * A fleet's job takes one of its slots before anything is claimed or launched, in the same invocation (a state and a
 * function call fewer on the way to a build than a state of its own). Taking it again (a retried launch, a Spot
 * rerun, a job the line resumed) is harmless: takeSlot admits its holder. None free: NoFreeFleetSlot, and the state
 * machine puts the job in line ("Take Fleet Slot").
 */
export async function takeFleetSlot(table: PoolTable, fleet: JobFleet, executionName: string): Promise<void> {
  if (await takeSlot(table, fleet.name, executionName, fleet.maxConcurrent)) return;
  throw new NoFreeFleetSlotError(`every one of fleet ${JSON.stringify(fleet.name)}'s ${fleet.maxConcurrent} slots (maxConcurrent) is taken`);
}

/** A claimed member that cannot build: the job terminates it and looks further. */
export class DeadMemberError extends Error {
  override readonly name = 'DeadMemberError' as const;
}

/**
 * A hot member is what the table says only while EC2 runs it and its agent answers: one may have been terminated, or
 * its agent gone, since the refill last looked (it looks every minute). Both are asked together, so the check costs
 * one round trip; a dead member is never handed to a build that would wait for it.
 */
async function checkAlive(instanceId: string): Promise<void> {
  const [state, online] = await Promise.all([describeInstanceState(instanceId), agentsOnline([instanceId])]);
  if (state?.state !== 'running') throw new DeadMemberError(`pool instance ${instanceId} is ${state?.state ?? 'unknown to EC2'}`);
  if (!online.has(instanceId)) throw new DeadMemberError(`the SSM agent of pool instance ${instanceId} is not online`);
}

/**
 * Gives a claimed member to the job: the job's tags beside, for a hot one, the look that it is alive, and for a
 * stopped one, StartInstances (none waits for another; a dead member that got the job's tags is terminated all the
 * same). All settle before an error is thrown, so no call outlives the invocation.
 */
async function takeOver(member: PoolMember, pool: PoolName, job: BuildJob, executionName: string, now: Date): Promise<LaunchedInstance> {
  const settled = await Promise.allSettled([pool === 'hot' ? checkAlive(member.instanceId) : startInstance(member.instanceId), tagForJob(member.instanceId, job.jobId, executionName)]);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
  return {
    instanceId: member.instanceId,
    instanceType: member.instanceType,
    subnetId: null,
    launchedAt: now.toISOString(),
    capacitySource: pool === 'hot' ? 'hot-pool' : 'stopped-pool',
    market: member.market,
  };
}

/**
 * The job's instance from its fleet: a ready member of the hot pool, else a stopped member (started), else a cold
 * launch of the fleet's image and types in its market; never a wait. Only members built from the fleet's current
 * image are claimed. The state machine starts a refill right after ("Refill The Fleet"). A claimed
 * member that cannot be taken over (EC2 refuses to start it, it vanished) is terminated and the next source tried:
 * a claimed member is never given back.
 */
export async function fleetInstance(
  job: BuildJob & { fleet: JobFleet },
  executionName: string,
  config: LaunchConfig,
  images: ImageCache,
  capacity: FleetCapacity,
  now: Date = new Date(),
): Promise<LaunchedInstance> {
  const fleet = job.fleet;
  // The slot, the image and the breaker are all needed before any claim or launch, and none waits for another. No
  // free slot: NoFreeFleetSlot, and nothing is claimed or launched. All settle before any error is thrown: a slot
  // taken after the function returned (a retry of its write, in a frozen environment) could outlive "Free Fleet Slot".
  const [slot, image, breakerRead] = await Promise.allSettled([takeFleetSlot(capacity.table, fleet, executionName), resolveImageId(fleet.imageId), onDemandUntil(capacity.table, fleet.name, now)]);
  for (const settled of [slot, image, breakerRead]) if (settled.status === 'rejected') throw settled.reason;
  const imageId = (image as PromiseFulfilledResult<string>).value;
  const breaker = (breakerRead as PromiseFulfilledResult<string | null>).value;
  // Only the pools the fleet keeps have members to claim: no look at the table for the others. (An execution started
  // before the fleet said which has no pools: it looks at both.)
  for (const pool of (['hot', 'stopped'] as const).filter((p) => fleet.pools?.includes(p) ?? true)) {
    // A few members of each pool at most: each dead one costs a claim and a look; past that, a cold launch is quicker.
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS[pool]; attempt++) {
      // A job on on-demand (its fleet's market, or a rerun after a Spot interruption) takes no Spot member.
      const member = await claim(capacity.table, fleet.name, pool, executionName, now, (m) => m.imageId === imageId && (fleet.market !== 'on-demand' || m.market === 'on-demand'));
      if (!member) break;
      try {
        // A retried launch gets back what this execution claimed before, from whichever pool it was.
        return await takeOver(member, member.pool, job, executionName, now);
      } catch (err) {
        // Only a member that cannot build is given up; a throttled or refused call says nothing about the member (the
        // SDK has retried it already): the launch fails (Throttled is retried by the state machine, and the retry gets
        // the same member back; anything else ends as SystemUnavailable), and a member claimed but never tagged for
        // the job is the sweeper's after its grace.
        if (!(err instanceof DeadMemberError) && !GONE_CODES.has(errorCode(err))) throw err;
        capacity.log('claimed pool instance could not be taken over; terminating it', { instanceId: member.instanceId, pool: member.pool, error: `${errorCode(err)}: ${errorMessage(err)}` });
        await terminateInstances([member.instanceId]).catch(() => undefined);
        // Retiring, so a second look (or a retried launch) does not claim it back; the refill removes it once it is gone.
        await transition(capacity.table, fleet.name, member.instanceId, 'claimed', 'retiring', now);
      }
    }
  }
  const spec: LaunchSpec = {
    imageId,
    instanceTypes: fleet.instanceTypes,
    markets: fleetMarkets(fleet, breaker !== null),
    imageName: `fleet ${JSON.stringify(fleet.name)}'s imageId${imageId === fleet.imageId ? '' : ` (${fleet.imageId})`}`,
    typesName: `fleet ${JSON.stringify(fleet.name)}'s instanceTypes`,
    fleet: fleet.name,
    warn: (message) => capacity.log(message, { fleet: fleet.name }),
  };
  return launchBuildInstance(job, executionName, config, images, spec);
}
