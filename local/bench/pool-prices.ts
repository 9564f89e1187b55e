import type { Fleet } from '../../lambdas/shared/fleets';
import { COST_ASSUMPTIONS, PRICES } from './prices';

/**
 * What a fleet's idle pools cost per hour in US East (N. Virginia), us-east-1: each hot member at the hourly price of
 * the fleet's first instance type, plus its root volume; each stopped member its root volume only ("We don't charge
 * usage for a stopped instance ... you are charged for Amazon EBS volume usage":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html).
 *
 * Spot members are costed at the on-demand price: the Spot price changes with supply and demand, and a Spot
 * instance launched without a maximum price pays the current Spot price, which never exceeds the on-demand price
 * (the default maximum: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-instances.html#spot-pricing),
 * so the figure is a ceiling; Spot usually costs far less (https://aws.amazon.com/ec2/spot/pricing/).
 */

/**
 * On-demand hourly prices, us-east-1, as https://aws.amazon.com/ec2/pricing/on-demand/ lists them (Linux, and Windows
 * Server with its license included); the page could not be re-read when these were written (its tables are built by
 * script), so check them there before relying on them. c7i.large is half of prices.ts's c7i.xlarge, as the family's
 * sizes scale. Types not listed have no figure: the bench says so.
 */
export const HOURLY_USD: Readonly<Record<string, { linux: number; windows?: number }>> = {
  /** 2 vCPU, 4 GiB. */
  'c7i.large': { linux: 0.08925 },
  /** 8 vCPU, 16 GiB, Graviton3. */
  'c7g.2xlarge': { linux: 0.29 },
  /** 4 vCPU, 16 GiB; Windows adds $0.046 per vCPU-hour of license. */
  'm7i.xlarge': { linux: 0.2016, windows: 0.3856 },
};

/** A root volume for an hour (gp3, COST_ASSUMPTIONS.rootVolumeGb; 730 hours a month, as AWS's pricing examples count). */
const VOLUME_HOUR_USD = (COST_ASSUMPTIONS.rootVolumeGb * PRICES.ebsGp3PerGbMonth) / 730;

/** The largest pool sizes the fleet ever has (its own, or a schedule's): what its idle capacity costs at most. */
export function peakSizes(fleet: Fleet): { hotPool: number; stoppedPool: number } {
  const all = [{ hotPool: fleet.hotPool, stoppedPool: fleet.stoppedPool }, ...fleet.schedules.map((s) => ({ hotPool: s.hotPool, stoppedPool: s.stoppedPool }))];
  return all.reduce((a, b) => (b.hotPool * 1000 + b.stoppedPool > a.hotPool * 1000 + a.stoppedPool ? b : a));
}

export interface IdlePoolCost {
  readonly usdPerHour: number;
  readonly sizes: { hotPool: number; stoppedPool: number };
  readonly instanceType: string;
  readonly hourlyUsd: number;
  readonly note: string;
}

/** The fleet's idle pools at their peak sizes, per hour; null when its first type's price is not in the table. */
export function idlePoolUsdPerHour(fleet: Fleet, windows: boolean): IdlePoolCost | null {
  const type = fleet.instanceTypes[0];
  const price = HOURLY_USD[type];
  const hourly = windows ? price?.windows : price?.linux;
  if (hourly === undefined) return null;
  const sizes = peakSizes(fleet);
  const usdPerHour = sizes.hotPool * (hourly + VOLUME_HOUR_USD) + sizes.stoppedPool * VOLUME_HOUR_USD;
  const market = fleet.market === 'on-demand' ? 'on-demand' : 'on-demand price as the Spot ceiling';
  const note = `${sizes.hotPool} hot x ${type} ${windows ? 'Windows' : 'Linux'} $${hourly}/h (${market}) + ${sizes.hotPool + sizes.stoppedPool} x ${COST_ASSUMPTIONS.rootVolumeGb} GB gp3`;
  return { usdPerHour, sizes, instanceType: type, hourlyUsd: hourly, note };
}
