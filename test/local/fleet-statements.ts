/**
 * Statements only fleets use, which the faults' cloud (no fleets) never needs (test/local/faults.test.ts): the fleet faults' cloud checks the launcher's,
 * the slot function's and the refill's (test/local/fleet-faults.test.ts), the fleets' safety nets check the
 * watchdog's and the sweeper's (test/local/safety-nets-fleets.test.ts).
 */
export const FLEET_STATEMENTS = /^(FleetsSlotsRole\w+ |FleetsRefillRole\w+ |TasksLaunchRole\w+ \w+\/(ClaimPoolInstances|TakeOverPoolInstances|CheckPoolMembers|TagClaimedForJob)$|SafetyNets(ExecutionEvents|Sweeper)Role\w+ \w+\/(GiveBackFleetSlots|ResumeWaitingJobs|PoolMembersAndFleetSlots)$)/;
export const FLEET_SAFETY_NET_STATEMENTS = /^SafetyNets(ExecutionEvents|Sweeper)Role\w+ /;
