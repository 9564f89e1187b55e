import type { AwsError } from './aws-error';

/**
 * Hooks through which injected faults reach the simulated services, one job at a time: every hook
 * names the job (from the instance's tags, the command, the execution name), so concurrent jobs
 * each meet only their own faults.
 */
export interface Chaos {
  /** An error for RunInstances of this type in this subnet and market. */
  runInstances?(jobId: string, subnetId: string, instanceType: string, market: 'on-demand' | 'spot'): AwsError | undefined;
  /** An error for StartInstances of a stopped instance (EC2 may lack capacity to start it). */
  startInstances?(jobId: string, instanceType: string, market: 'on-demand' | 'spot'): AwsError | undefined;
  /** The instance never leaves pending. */
  neverRuns?(jobId: string): boolean;
  /**
   * Someone terminates the instance this many real ms after a build registered for it (its readiness waiter is in the
   * table), if it is still pending then.
   */
  terminatedAfterRegisteredMs?(jobId: string): number | undefined;
  /**
   * The state DescribeInstances shows for the job's instances, whatever their real state: EC2's reads lag behind its
   * changes (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html); its state-change events do not.
   */
  readsLag?(jobId: string): 'pending' | undefined;
  /** An error for TerminateInstances. */
  terminate?(jobId: string): AwsError | undefined;
  /** Programs the instance's image lacks (its build step runs without them). */
  missingTools?(jobId: string): readonly string[] | undefined;
  /** The SSM agent never registers. */
  neverRegisters?(jobId: string): boolean;
  /** Something happening to a command once it runs. */
  commandRunning?(jobId: string, phase: string): { timeoutSeconds?: number; terminateInstance?: boolean; interruptSpot?: boolean; abortExecution?: boolean; timeOutExecution?: boolean; abandon?: boolean } | undefined;
  /** Whether CodePipeline offers the job again (a new nonce) just before its n-th AcknowledgeJob arrives: as if it came after the dispatch timeout. */
  offeredAgain?(jobId: string, call: number): boolean;
  /** Whether GetJobDetails (its n-th call for the job) returns credentials the artifact store refuses. */
  badCredentials?(jobId: string, call: number): boolean;
  /** An error for StartExecution (its n-th attempt for the job). */
  startExecution?(jobId: string, attempt: number): AwsError | undefined;
  /** An error for a Lambda invocation (the function's n-th call for the job). */
  invoke?(functionName: string, jobId: string, call: number): Error | undefined;
  /** How far the artifact store's clock runs ahead for this job's objects (its URLs look expired). */
  storeClockAheadMs?(jobId: string): number;
  /** Whether EventBridge loses this command status event. */
  dropEvent?(jobId: string, phase: string, status: string): boolean;
  /** Whether this CodePipeline action event (ABANDONED, ...) is never sent: whether "Stop and abandon" sends one is not documented. */
  dropActionEvent?(jobId: string, state: string): boolean;
  /** Whether EventBridge loses this "EC2 Instance State-change Notification" of the job's instance (AWS service events are delivered on a best-effort basis). */
  dropInstanceEvent?(jobId: string, state: string): boolean;
  /** Whether EventBridge loses this Step Functions execution status event (delivered on a best-effort basis). */
  dropExecutionEvent?(jobId: string, status: string): boolean;
  /** Whether this call is throttled. */
  throttle?(service: string, operation: string, jobId: string): boolean;
}
