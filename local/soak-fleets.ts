import type { Fleet } from '../lambdas/shared/fleets';
import type { Fault } from './faults';
import { PUBLIC_AMI_PARAMETERS } from './services/ssm-parameters';
import { LOCAL_IMAGES } from './services/ec2-images';

/**
 * The soak on fleets (`npm run soak -- --fleets FILE`): which fleets its jobs can run on, which faults can strike a
 * job on a fleet, and one fleet fault at a time per fleet.
 */

/**
 * Whether a fleet's image is Windows: the local agent runs the document's Linux step only, so the soak builds on the
 * Linux fleets and leaves Windows ones to their pools (their refill still runs: launch, register, stop, hibernate).
 */
export function isWindowsFleet(fleet: Fleet): boolean {
  const parameter = /^resolve:ssm:(.*)$/.exec(fleet.imageId)?.[1];
  const imageId = parameter ? PUBLIC_AMI_PARAMETERS[parameter] : fleet.imageId;
  return LOCAL_IMAGES[imageId ?? '']?.platform === 'Windows';
}

/** Chaos hooks that act on how the instance is obtained, which a claimed pool member skips (it is already running, its agent online). */
const LAUNCH_HOOKS = ['runInstances', 'startInstances', 'neverRuns', 'neverRegisters'] as const;

/**
 * Whether a fault's expectation holds for a job on any fleet as for a cold one. Not: faults that choose the image
 * or type (a fleet does), faults on the launch (a pool member is not launched), and a terminated instance mid-build
 * (on a Spot fleet the lost build is started again on on-demand, which a cold job never does).
 */
export function fitsFleets(fault: Fault): boolean {
  if (fault.fleets || fault.scenario || fault.job?.imageId || fault.job?.instanceType) return false;
  const chaos = fault.chaos?.() ?? {};
  if (LAUNCH_HOOKS.some((hook) => hook in chaos)) return false;
  return !chaos.commandRunning?.('', 'build')?.terminateInstance;
}

/**
 * Where each drawn job runs: a fleet fault on its own fleet (null here: its job names it), a job that fits fleets on
 * one of `fleets` or cold (null), drawn with `random` (seeded, so a run repeats).
 */
export function drawTargets(faults: readonly (Fault | null)[], fleets: readonly string[], random: () => number): (string | null)[] {
  return faults.map((f) => {
    const choice = Math.floor(random() * (fleets.length + 1));
    if (fleets.length === 0 || (f && !fitsFleets(f))) return null;
    return choice < fleets.length ? fleets[choice] : null;
  });
}

/** Runs one task at a time per key: a fleet fault breaks its fleet's pools and counts what it finds there. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.tails.set(key, next.catch(() => undefined));
    return next;
  }
}
