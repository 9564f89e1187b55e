import type { Logger } from '@aws-lambda-powertools/logger';
import type { LaunchConfig } from '../shared/config';
import { describeImage } from '../shared/ec2';
import { errorMessage } from '../shared/errors';
import { poolSizesAt, type PoolSizes } from '../shared/fleet-sizes';
import type { Fleet } from '../shared/fleets';
import { resolveImageId } from '../shared/images';
import { onDemandUntil, releaseRefillLease, takeRefillLease, type PoolTable } from '../shared/pool-table';
import { TEMPLATE_ROOT_DEVICE } from '../launcher/launch';
import { refillPass, type FleetContext, type FleetCounts } from './pass';

/** What the refill needs: the stack's fleets and table, where to launch, and how long to watch. */
export interface RefillSettings {
  readonly table: PoolTable;
  readonly fleets: Readonly<Record<string, Fleet>>;
  readonly launch: LaunchConfig;
  /** How long a run keeps watching warming and stopping members (ms); 0 makes one pass. */
  readonly watchMs: number;
  /** The pause between two passes while watching (ms). */
  readonly pollMs: number;
}

/** What one run did to one fleet. */
export interface FleetRefillReport extends Omit<FleetCounts, 'refusals'> {
  readonly sizes: PoolSizes | null;
  /** Where EC2 had no room, when the pools could not be filled. */
  readonly refusals?: string[];
  /** Why nothing was done: another refill holds the fleet's lease. */
  readonly skipped?: string;
  /** Why the run stopped early (a bad image, a denied call); the next run starts over. */
  readonly error?: string;
}

export interface RefillReport {
  readonly fleets: Record<string, FleetRefillReport>;
}

/** The event names a fleet the stack does not have. */
export class UnknownFleetError extends Error {
  override readonly name = 'UnknownFleetError' as const;
}

export interface RefillRun {
  /** Who holds the leases while this run lasts: the Lambda request id. */
  readonly holder: string;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: Logger;
}

/** Seconds a lease outlives the time the run expects to hold it: a run that dies frees its fleets this long after. */
const LEASE_MARGIN_SECONDS = 60;

/**
 * The root volume to repeat under the AMI's own root device name when it is not the launch template's (as
 * launch.ts does for a job); null when the template's fits.
 */
async function rootVolumeFor(imageId: string, launch: LaunchConfig): Promise<FleetContext['rootVolume']> {
  const image = await describeImage(imageId);
  return image && image.rootDeviceName && image.rootDeviceName !== TEMPLATE_ROOT_DEVICE ? { deviceName: image.rootDeviceName, sizeGiB: launch.rootVolumeGiB } : null;
}

async function refillFleet(settings: RefillSettings, name: string, fleet: Fleet, run: Required<Omit<RefillRun, 'logger'>> & Pick<RefillRun, 'logger'>): Promise<FleetRefillReport> {
  const { table } = settings;
  const started = run.now();
  const leaseSeconds = Math.ceil((settings.watchMs + settings.pollMs) / 1000) + LEASE_MARGIN_SECONDS;
  const counts: FleetCounts = { launched: 0, ready: 0, stopped: 0, retired: 0, removed: 0, refusals: [] };
  let sizes: PoolSizes | null = null;
  const report = (extra: Partial<FleetRefillReport> = {}): FleetRefillReport => {
    const { refusals, ...rest } = counts;
    return { ...rest, sizes, ...(refusals.length > 0 ? { refusals } : {}), ...extra };
  };
  if (!(await takeRefillLease(table, name, run.holder, started, leaseSeconds))) return report({ skipped: "another refill holds the fleet's lease" });
  try {
    sizes = poolSizesAt(fleet, started);
    const imageId = await resolveImageId(fleet.imageId);
    // An open Spot circuit breaker sends the fleet's launches to on-demand until it closes.
    const market = fleet.market !== 'on-demand' && (await onDemandUntil(table, name, started)) !== null ? 'on-demand' : fleet.market;
    const ctx: FleetContext = { table, name, fleet, sizes, imageId, market, launch: settings.launch, rootVolume: await rootVolumeFor(imageId, settings.launch) };
    const deadline = started.getTime() + settings.watchMs;
    let mayLaunch = true;
    for (;;) {
      const pass = await refillPass(ctx, run.now(), mayLaunch, counts);
      // EC2 had no room: this run launches no more (the next one tries again), but still watches what it has.
      mayLaunch = mayLaunch && pass.launchedAll;
      if (pass.busy === 0 || run.now().getTime() + settings.pollMs > deadline) break;
      await run.sleep(settings.pollMs);
      // Renewed before each pass; a run that lost it (it expired, another took it) leaves the fleet to that one.
      if (!(await takeRefillLease(table, name, run.holder, run.now(), leaseSeconds))) return report({ skipped: 'the lease expired and another refill took it' });
    }
    return report();
  } catch (err) {
    run.logger?.error('refill failed', { fleet: name, error: err as Error });
    return report({ error: errorMessage(err) });
  } finally {
    await releaseRefillLease(table, name, run.holder);
  }
}

/**
 * Brings every fleet's pools (or the one `only` names) to their sizes now: each fleet under its own lease,
 * all fleets at once. A fleet whose lease another run holds is skipped; a fleet that fails is reported and
 * the others go on. Safe to run at any time, twice at once, or after a run that died midway.
 */
export async function refill(settings: RefillSettings, only: string | undefined, run: RefillRun): Promise<RefillReport> {
  if (only !== undefined && !Object.hasOwn(settings.fleets, only)) {
    throw new UnknownFleetError(`no fleet named ${JSON.stringify(only)}; the stack's fleets are ${Object.keys(settings.fleets).join(', ') || 'none'}`);
  }
  const names = only !== undefined ? [only] : Object.keys(settings.fleets);
  const full = { holder: run.holder, now: run.now ?? (() => new Date()), sleep: run.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))), logger: run.logger };
  const reports = await Promise.all(names.map((name) => refillFleet(settings, name, settings.fleets[name], full)));
  return { fleets: Object.fromEntries(names.map((name, i) => [name, reports[i]])) };
}
