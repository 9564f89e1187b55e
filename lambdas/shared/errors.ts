import type { FailureType } from './types';

/**
 * The one mapping from a typed error to the CodePipeline failure type the user is told
 * (FailureDetails.type: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_FailureDetails.html).
 * Keyed by the error's `name`: Lambda reports it as the errorType, Step Functions matches it in Retry
 * and Catch ("the name property of the Error object must match the ErrorEquals value":
 * https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-handling-error-conditions.html), and
 * completion/outcome.ts reads it back from the caught error's `Error`. A test keeps these names and
 * the ASL's ErrorEquals in step (test/lambdas/failure-types.test.ts).
 */
export const FAILURE_TYPES = {
  JobConfigurationError: 'ConfigurationError',
  CapacityError: 'SystemUnavailable',
  InstanceNotReady: 'SystemUnavailable',
  // ConfigurationError, not SystemUnavailable: "Is Instance Ready?" retries AgentNotOnline for many
  // minutes before it gives up, so an agent still offline then is almost always the AMI (no SSM agent),
  // the instance profile (no AmazonSSMManagedInstanceCore) or the subnet (no route to the SSM
  // endpoints). Those are the user's to change, as the message says; retrying the stage would fail alike.
  AgentNotOnline: 'ConfigurationError',
  InstanceLost: 'JobFailed',
  // The readiness watcher could not be told about the build (its table or Lambda kept failing): AWS's side, retried.
  ReadinessRegistrationFailed: 'SystemUnavailable',
  BuildWaitExceeded: 'JobFailed',
  // The fleet runs maxConcurrent builds and its maxQueueMinutes is 0: nobody waits. Capacity, as CapacityError is.
  FleetFull: 'SystemUnavailable',
  // The job waited its fleet's maxQueueMinutes in line and got no slot: capacity again.
  LineWaitExceeded: 'SystemUnavailable',
  // The account's EC2 (or another service's) request rate is spent: "Launch Instance" retries it with backoff, and a
  // job still throttled after that is worth retrying later.
  Throttled: 'SystemUnavailable',
  // Every slot of the job's fleet is taken when Launch Instance looks: the state machine puts the job in line (Take
  // Fleet Slot); never reported as it is, and capacity if it ever were.
  NoFreeFleetSlot: 'SystemUnavailable',
  // EC2 took the Spot instance back; reached only when the build cannot run again (it already did, on on-demand).
  SpotInterrupted: 'SystemUnavailable',
} as const satisfies Record<string, FailureType>;

export type BuildActionErrorName = keyof typeof FAILURE_TYPES;

/** The failure type of a typed error's name; undefined for any other name (an SDK's, or Step Functions' own). */
export function failureTypeOf(name: string): FailureType | undefined {
  return Object.hasOwn(FAILURE_TYPES, name) ? FAILURE_TYPES[name as BuildActionErrorName] : undefined;
}

/**
 * Typed errors. Each `name` is a string literal, not the class's name at run time: bundles are
 * minified, and the name is what the state machine matches.
 */
export abstract class BuildActionError extends Error {
  abstract override readonly name: BuildActionErrorName;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The action's properties or the pipeline's artifacts are wrong; the user must change them. */
export class JobConfigurationError extends BuildActionError {
  override readonly name = 'JobConfigurationError' as const;
}

/** EC2 has no capacity for the request right now ("Launch Instance" retries it). */
export class CapacityError extends BuildActionError {
  override readonly name = 'CapacityError' as const;
}

/** Every slot of the job's fleet is taken and the fleet keeps no line (maxQueueMinutes 0). */
export class FleetFullError extends BuildActionError {
  override readonly name = 'FleetFull' as const;
}

/**
 * AWS refused a call for the account's request rate, past the SDK's own retries ("Launch Instance" retries it with
 * backoff and jitter: EC2's RunInstances bucket holds 5 requests and refills 2 a second,
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html, so a burst of launches outruns it).
 */
export class ThrottledError extends BuildActionError {
  override readonly name = 'Throttled' as const;
}

/**
 * Throttling codes: EC2's RequestLimitExceeded (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
 * ThrottlingException and Throttling of the JSON and query services, TooManyRequestsException of Lambda, and
 * DynamoDB's ProvisionedThroughputExceededException and RequestLimitExceeded
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html).
 */
export const THROTTLING_CODES: ReadonlySet<string> = new Set(['RequestLimitExceeded', 'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ProvisionedThroughputExceededException']);

/** Launch Instance found every slot of the job's fleet taken: the job goes to the fleet's line. */
export class NoFreeFleetSlotError extends BuildActionError {
  override readonly name = 'NoFreeFleetSlot' as const;
}

/** The job waited in its fleet's line for the fleet's maxQueueMinutes and no slot came free. */
export class LineWaitExceededError extends BuildActionError {
  override readonly name = 'LineWaitExceeded' as const;
}

/** EC2 is taking the build's Spot instance back (its interruption warning): the build runs again on on-demand. */
export class SpotInterruptedError extends BuildActionError {
  override readonly name = 'SpotInterrupted' as const;
}

/** The instance is still booting ("Is Instance Ready?" retries it). */
export class InstanceNotReadyError extends BuildActionError {
  override readonly name = 'InstanceNotReady' as const;
}

/** The instance is running but its SSM agent is not online yet ("Is Instance Ready?" retries it). */
export class AgentNotOnlineError extends BuildActionError {
  override readonly name = 'AgentNotOnline' as const;
}

/**
 * "Is Instance Ready?" could not register the build with the readiness watcher (a table or Lambda call failed after
 * the SDK's own retries): the state machine registers it again.
 */
export class ReadinessRegistrationFailedError extends BuildActionError {
  override readonly name = 'ReadinessRegistrationFailed' as const;
}

/** The instance stopped or terminated before the build could run on it. */
export class InstanceLostError extends BuildActionError {
  override readonly name = 'InstanceLost' as const;
}

/**
 * The build's whole wait (TimeoutMinutes plus SSM's delivery and event margins) is over and its
 * command is still not finished: the execution stops waiting, releases the instance and reports.
 */
export class BuildWaitExceededError extends BuildActionError {
  override readonly name = 'BuildWaitExceeded' as const;
  constructor(waitTimeoutSeconds: number, options?: ErrorOptions) {
    super(
      `no status came back from Systems Manager within the build's time (TimeoutMinutes plus its delivery and reporting margins: ${Math.round(waitTimeoutSeconds / 60)} minutes in all)`,
      options,
    );
  }
}

/** An AWS error's code, whichever SDK shape it has. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    for (const v of [e.Code, e.code, e.name]) if (typeof v === 'string' && v) return v;
  }
  return 'Error';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
