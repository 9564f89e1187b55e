import { terminateInstances } from '../shared/ec2';

/**
 * How many leftovers one sweep terminates, and how many one TerminateInstances call names. Each instance a call names
 * takes a token from TerminateInstances' resource bucket (1,000, refilled 20 a second) and each call one from its
 * request bucket (100, refilled 5 a second), per account and Region ("Resource token bucket sizes and refill rates":
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html); a call asking for more instances than the
 * bucket holds is refused whole. 500 a sweep in calls of 100 keep the sweep under half of both buckets; a larger leak
 * is terminated over the next sweeps, the oldest decisions first.
 */
export const TERMINATIONS_PER_SWEEP = 500;
export const INSTANCES_PER_TERMINATE_CALL = 100;

/**
 * Terminates up to TERMINATIONS_PER_SWEEP of `instanceIds`, INSTANCES_PER_TERMINATE_CALL a call. Returns those a call
 * stopped (not those EC2 says were already shutting down) and those left for the next sweep.
 */
export async function terminateBounded(instanceIds: readonly string[]): Promise<{ stopped: string[]; deferred: string[] }> {
  const now = instanceIds.slice(0, TERMINATIONS_PER_SWEEP);
  const stopped: string[] = [];
  for (let i = 0; i < now.length; i += INSTANCES_PER_TERMINATE_CALL) stopped.push(...(await terminateInstances(now.slice(i, i + INSTANCES_PER_TERMINATE_CALL))));
  return { stopped, deferred: instanceIds.slice(TERMINATIONS_PER_SWEEP) };
}
