/**
 * Statements only fleets use, which the faults' cloud (no fleets) never needs (test/local/faults.test.ts): the fleet faults' cloud checks the launcher's,
 * the instance check's SettleOwnTask (a claimed hot member is ready when its build registers, and is resumed at once)
 * and ReadInstanceState (a build's registration looks at a pool member; a just-launched instance is not looked at),
 * the slot function's and the refill's (test/local/fleet-faults.test.ts), the fleets' safety nets check the
 * watchdog's and the sweeper's (test/local/safety-nets-fleets.test.ts).
 */
export const FLEET_STATEMENTS = /^(TasksInstanceCheckRole\w+ \w+\/(SettleOwnTask|ReadInstanceState)$|TasksRenewRole\w+ \w+\/ReadPlaceInLine$|FleetsSlotsRole\w+ |FleetsRefillRole\w+ |TasksLaunchRole\w+ \w+\/(ClaimPoolInstances|TakeOverPoolInstances|CheckPoolMembers|TagClaimedForJob)$|SafetyNets(ExecutionEvents|Sweeper)Role\w+ \w+\/(GiveBackFleetSlots|ResumeWaitingJobs|PoolMembersAndFleetSlots)$)/;
export const FLEET_SAFETY_NET_STATEMENTS = /^SafetyNets(ExecutionEvents|Sweeper)Role\w+ /;
/**
 * The line's: the slot function resumes waiting jobs (checked by test/local/fleets.test.ts, whose capped fleet runs
 * its jobs one at a time) and asks whether an execution still runs (test/local/safety-nets-fleets.test.ts); the renew
 * function reads a job's place in line (test/local/fleet-queue-fault.test.ts, whose waiting job reports it).
 */
export const FLEET_LINE_STATEMENTS = /^(FleetsSlotsRole\w+ \w+\/(ResumeWaitingTasks|IsWaitingExecutionRunning)|TasksRenewRole\w+ \w+\/ReadPlaceInLine)$/;
/**
 * The launcher's StartInstances and TerminateInstances on a pool member it takes over: a stopped member it starts for
 * its job (checked by test/local/fleets.test.ts, whose stopped fleet's job always takes one). The fleet faults' jobs
 * take hot members; whether pool-instance-dead's launcher claims a dead member (and terminates it) or its refill drops
 * the member first is a race, so their cloud does not check it.
 */
export const FLEET_TAKE_OVER_STATEMENT = /^TasksLaunchRole\w+ \w+\/TakeOverPoolInstances$/;
