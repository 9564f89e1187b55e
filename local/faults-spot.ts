import { PROPERTY } from '../lambdas/shared/properties';
import type { Fault } from './faults';
import { FAULT_FLEETS } from './faults-fleet';
import { closeBreaker } from './fleet-checks';
import { AwsError } from './services/aws-error';

/**
 * Faults of Spot fleets (#12): EC2 takes a build's Spot instance back, or has no Spot capacity. Each runs on a fleet of
 * its own among the fleet faults' (FAULT_FLEETS, one cloud for all), whose pools are empty so the job launches cold in
 * the fleet's market.
 */
const onFleet = (name: string) => ({ properties: { [PROPERTY.fleet]: name } });

export const SPOT_FAULTS: readonly Fault[] = [
  {
    name: 'spot-interruption',
    description: 'EC2 interrupts the build\'s Spot instance while the build runs (the two-minute warning, then termination)',
    handling: 'the interruption warning event reaches the stack\'s handler, which counts it against the fleet\'s circuit breaker and fails the waiting build task (SpotInterrupted); the state machine releases the instance and runs the build again once, on on-demand, within the same job, and the summary says so',
    expect: { status: 'Succeeded', summary: /Ran again on on-demand after Spot instance i-[0-9a-f]+ was interrupted/, capacitySource: 'launched', launched: 2 },
    fleets: FAULT_FLEETS,
    job: { ...onFleet('fault-spot'), command: 'sleep 3 && bash build.sh' },
    // Earlier runs of this fault in the same cloud (a soak) count against the fleet's breaker: start it closed.
    scenario: async ({ cloud, run }) => {
      await closeBreaker(cloud, 'fault-spot');
      const s = await run();
      return { summaries: [s], primary: s, violations: [] };
    },
    chaos: () => {
      let struck = false;
      return {
        commandRunning: (_job, phase) => {
          if (phase !== 'build' || struck) return undefined;
          struck = true;
          return { interruptSpot: true };
        },
      };
    },
  },
  {
    name: 'spot-no-capacity',
    description: 'EC2 has no Spot capacity for any of the fleet\'s instance types in any subnet',
    handling: 'the launch walks the instance types and subnets in the Spot market, then the same in the on-demand market (spot-then-on-demand), and builds on an on-demand instance',
    expect: { status: 'Succeeded', capacitySource: 'launched', launched: 1 },
    fleets: FAULT_FLEETS,
    job: onFleet('fault-spot-fallback'),
    chaos: () => ({
      runInstances: (_job, _subnet, _type, market) => (market === 'spot' ? new AwsError('InsufficientInstanceCapacity', 'There is no Spot capacity available that matches your request.') : undefined),
    }),
  },
];
