import type { FailureType } from './types';

/**
 * Typed errors. Their `name` is what Step Functions matches in Retry and Catch,
 * and the class decides the CodePipeline failure type.
 */
export abstract class BuildActionError extends Error {
  abstract readonly failureType: FailureType;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The action's properties or the pipeline's artifacts are wrong; the user must change them. */
export class JobConfigurationError extends BuildActionError {
  readonly failureType = 'ConfigurationError' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobConfigurationError';
  }
}

/** EC2 has no capacity for the request right now; retrying later may work. */
export class CapacityError extends BuildActionError {
  readonly failureType = 'SystemUnavailable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CapacityError';
  }
}

/** The instance is still booting (retryable by the state machine). */
export class InstanceNotReadyError extends BuildActionError {
  readonly failureType = 'SystemUnavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InstanceNotReady';
  }
}

/** The instance is running but its SSM agent is not online yet (retryable by the state machine). */
export class AgentNotOnlineError extends BuildActionError {
  readonly failureType = 'SystemUnavailable' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AgentNotOnline';
  }
}

/** The instance stopped or terminated before the build could run on it. */
export class InstanceLostError extends BuildActionError {
  readonly failureType = 'JobFailed' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InstanceLost';
  }
}

/** The build ran and failed. */
export class BuildFailedError extends BuildActionError {
  readonly failureType = 'JobFailed' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildFailedError';
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

/**
 * The build's whole wait (TimeoutMinutes plus SSM's delivery and event margins) is over and its
 * command is still not finished: the execution stops waiting, releases the instance and reports.
 */
export class BuildWaitExceededError extends BuildActionError {
  readonly failureType = 'JobFailed' as const;
  constructor(waitTimeoutSeconds: number) {
    super(`no status came back from Systems Manager within the build's time (TimeoutMinutes plus its delivery and reporting margins: ${Math.round(waitTimeoutSeconds / 60)} minutes in all)`);
    this.name = 'BuildWaitExceeded';
  }
}
