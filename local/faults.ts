import { AwsError } from './services/aws-error';
import type { Chaos } from './services/chaos';
import type { Fleet } from '../lambdas/shared/fleets';
import type { JobTimeouts } from './cloud';
import { FLEET_FAULTS, type FaultContext, type ScenarioOutcome } from './faults-fleet';
import { SPOT_FAULTS } from './faults-spot';
import { SCALE_FAULTS } from './faults-scale';
import { HOLD_FAULTS } from './faults-hold';
import type { JobOptions } from './job';

/** What a job under a fault must end with (besides the invariants every job keeps). */
export interface FaultExpectation {
  readonly status: 'Succeeded' | 'Failed';
  readonly failureType?: string;
  /** Words the user-facing message must hold, so that it says what to do. */
  readonly message?: RegExp;
  /** Words the summary of a succeeded job must hold. */
  readonly summary?: RegExp;
  /** Instances the sweeper (not the state machine) had to terminate: a number, or the least and the most. */
  readonly swept?: number | readonly [number, number];
  /** Where the build's instance came from (JobSummary.capacitySource). */
  readonly capacitySource?: 'hot-pool' | 'stopped-pool' | 'launched';
  /** Instances launched for the job (a job that never got past its fleet's line: 0). */
  readonly launched?: number;
}

export interface Fault {
  readonly name: string;
  readonly description: string;
  /** What happens, for the fault table. */
  readonly handling: string;
  readonly expect: FaultExpectation;
  /** Changes to the job itself (its command, paths). */
  readonly job?: Partial<JobOptions>;
  /** How the STARTED event is delivered. */
  readonly delivery?: 'twice' | 'concurrently';
  /** Deletes the input artifact before the build. */
  readonly deleteInput?: boolean;
  /** The hooks it installs, for its job only. */
  readonly chaos?: () => Chaos;
  /**
   * Runs only in a local cloud started with these job renewals and timeouts (CloudOptions.jobs): they are the
   * whole cloud's, so such a fault gets a cloud of its own (test/local/job-renewal.test.ts, npm run fault-table).
   */
  readonly jobs?: JobTimeouts;
  /** The least number of job renewals its job goes through. */
  readonly continuations?: number;
  /**
   * Runs on these fleets (its job names one with the Fleet property, through `job.properties`): only in a local cloud
   * started with them (LocalCloud.start(timing, { fleets })), one per distinct value (local/faults-fleet.ts cloudKey).
   */
  readonly fleets?: Readonly<Record<string, Fleet>>;
  /** Runs its job (or jobs) itself: prepares the fleet, breaks it, checks what the summary cannot show (local/fault-run.ts). */
  readonly scenario?: (context: FaultContext) => Promise<ScenarioOutcome>;
  /**
   * Breaks or sweeps the whole account for a while (account-busy spends most of its EC2 describe budget;
   * hold-on-failure's scenario runs the sweeper during its hold): every job that runs then meets it and slows down or
   * falls back to its safety nets, so the other faults' expectations would not hold beside it. Never drawn in a shared
   * soak; their own tests run them (test/local/account-busy-fault.test.ts, test/local/hold-fault.test.ts).
   */
  readonly accountWide?: boolean;
  /** Jobs one run of it makes. @default 1 */
  readonly jobCount?: number;
}

const lambdaError = () => Object.assign(new Error('Lambda service error (injected)'), { name: 'Lambda.ServiceException' });
const capacity = () => new AwsError('InsufficientInstanceCapacity', 'We currently do not have sufficient capacity in the Availability Zone you requested.');

/** Counts calls per key, for faults that strike only the first time. */
function firstTimeOnly(): (key: string) => boolean {
  const seen = new Set<string>();
  return (key) => (seen.has(key) ? false : (seen.add(key), true));
}

export const FAULTS: readonly Fault[] = [
  /**
   * CodePipeline times out a job after 1 hour (current quotas page) or 24 (older editions): a build longer than that
   * renews its job before the horizon. Here the job timeout is 12 s and the renewal interval 3 s, so a 40-second build
   * outlives three job timeouts.
   */
  {
    name: 'build-outlives-job-timeout',
    description: 'the build runs longer than several CodePipeline job timeouts (1 hour in the current quotas page, 24 in older ones)',
    handling: 'at each job\'s horizon the execution renews the job (PutJobSuccessResult with a continuation token), the poller hands the continuation job to the running build, and the last job gets the result; one instance throughout',
    expect: { status: 'Succeeded' },
    job: { command: 'sleep 50 && bash build.sh' },
    jobs: { renewalSeconds: 3, timeoutMs: 24_000 },
    continuations: 3,
  },
  {
    name: 'capacity-one-subnet',
    description: 'the first subnet has no capacity for the instance type',
    handling: 'Launch Instance tries the next configured subnet',
    expect: { status: 'Succeeded' },
    chaos: () => ({ runInstances: (_job, subnet) => (subnet.startsWith('subnet-0aaa') ? capacity() : undefined) }),
  },
  {
    name: 'capacity-fallback-type',
    description: 'the first instance type has no capacity in any subnet; InstanceType lists a fallback',
    handling: 'Launch Instance tries the fallback type in each subnet',
    expect: { status: 'Succeeded', summary: /\(t3\.large\)/ },
    job: { instanceType: 't3.medium,t3.large' },
    chaos: () => ({ runInstances: (_job, _subnet, type) => (type === 't3.medium' ? capacity() : undefined) }),
  },
  {
    name: 'capacity-exhausted',
    description: 'no configured subnet has capacity',
    handling: 'every subnet is tried, the state retries twice with backoff, then the job fails',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /no capacity.*Retry the stage later/ },
    chaos: () => ({ runInstances: () => capacity() }),
  },
  {
    name: 'throttling',
    description: 'the first call of every AWS operation the job makes is throttled',
    handling: 'the SDK retries with backoff (the state machine\'s Retry covers its own calls)',
    expect: { status: 'Succeeded' },
    chaos: () => {
      const first = firstTimeOnly();
      return { throttle: (service, op, job) => first(`${service}:${op}:${job}`) };
    },
  },
  {
    name: 'report-throttled',
    description: 'CodePipeline throttles the job\'s first 3 PutJobSuccessResult and PutJobFailureResult calls: all 3 of the SDK\'s attempts of the first Report Result',
    handling: 'the completion function fails with ThrottlingException, an unexpected error it counts (UnexpectedErrors, whose alarm tells the operator); Report Result retries it and the job gets its one result',
    expect: { status: 'Succeeded' },
    chaos: () => {
      // Only the execution that owns the job reports, one call at a time: the first 3 calls are one invocation's.
      let throttled = 0;
      return { throttle: (service, op) => service === 'codepipeline' && op === 'PutJobResult' && throttled++ < 3 };
    },
  },
  {
    name: 'readiness-checks-throttled',
    description: 'Systems Manager throttles every DescribeInstanceInformation call about the job\'s instance for 3 seconds from the first',
    handling: 'the readiness watcher (its SDK client does not retry: its next round is the retry) counts a throttled look as no answer, backs off (doubling, up to 2 s between looks) and keeps watching',
    expect: { status: 'Succeeded' },
    chaos: () => {
      // A window of time, as AWS's token buckets throttle (by rate over time), not a count of calls: a count ran out only
      // after that many of the watcher's rounds, and a machine running 100 jobs at once (the shared soak's) ran so few
      // rounds within the build's readiness bound that the count outlasted it. 3 real seconds: 150 simulated at the local
      // clock's 20 ms a second, from the build's registration look on.
      let until: number | undefined;
      return {
        throttle: (service, op) => {
          if (service !== 'ssm' || op !== 'DescribeInstanceInformation') return false;
          until ??= Date.now() + 3000;
          return Date.now() < until;
        },
      };
    },
  },
  {
    name: 'never-running',
    description: 'the instance never leaves pending',
    handling: 'the readiness watcher gives up on it after about 22 minutes (InstanceNotReady); the instance is released',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /did not reach "running"/ },
    chaos: () => ({ neverRuns: () => true }),
  },
  {
    name: 'instance-lost-while-starting',
    description: 'the instance is terminated while it boots, before its agent is online (by a person, a policy or EC2)',
    handling: "EC2's state-change event fails the waiting build at once (InstanceLost), with no wait for the readiness bound; the instance is released",
    expect: { status: 'Failed', failureType: 'JobFailed', message: /is (shutting-down|terminated).* before the build finished starting\. It was stopped or terminated from outside/ },
    // Pending for good, and terminated half a second after the build registered for it (its waiter is in the table by
    // then, however slow the machine). EC2's reads lag behind and say pending for 30 s (as they may), so the
    // watcher's safety net, which would fail it too through another path, does not race the event; then they catch up.
    chaos: () => {
      const lagUntil = Date.now() + 30_000;
      return { neverRuns: () => true, terminatedAfterRegisteredMs: () => 500, readsLag: () => (Date.now() < lagUntil ? ('pending' as const) : undefined) };
    },
  },
  {
    name: 'agent-never-registers',
    description: 'the SSM agent never comes online',
    handling: 'the readiness watcher gives up on it after about 22 minutes (AgentNotOnline); the instance is released',
    expect: { status: 'Failed', failureType: 'ConfigurationError', message: /SSM agent.*instance profile.*ssm, ssmmessages and ec2messages/ },
    chaos: () => ({ neverRegisters: () => true }),
  },
  {
    name: 'terminated-mid-build',
    description: 'the instance is terminated while the build runs (Spot interruption or by hand)',
    handling: 'the command never reports back: it ends TimedOut with StatusDetails DeliveryTimedOut; the event resumes the execution, which releases and reports the lost instance',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /lost the instance or its SSM agent.*DeliveryTimedOut/ },
    job: { command: 'sleep 20' },
    chaos: () => ({ commandRunning: (_job, phase) => (phase === 'build' ? { terminateInstance: true } : undefined) }),
  },
  {
    name: 'command-timeout',
    description: 'the build outlives its timeout',
    handling: 'SSM stops the command (TimedOut); the instance is released',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /ran longer than TimeoutMinutes/ },
    job: { command: 'sleep 20' },
    chaos: () => ({ commandRunning: (_job, phase) => (phase === 'build' ? { timeoutSeconds: 1 } : undefined) }),
  },
  {
    name: 'command-event-lost',
    description: 'EventBridge loses the build command\'s final status event',
    handling: 'the scheduled sweeper finds the finished command of a running build and resumes it with the command\'s own task token',
    expect: { status: 'Succeeded' },
    chaos: () => ({ dropEvent: (_job, phase, status) => phase === 'build' && status !== 'InProgress' && status !== 'Pending' }),
  },
  {
    name: 'command-fails',
    description: 'the build command exits non-zero',
    handling: 'the exit code and the last lines of output go into the failure message',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /exited with code 7.*boom/s },
    job: { command: 'echo working; echo boom >&2; exit 7' },
  },
  {
    name: 'no-zip-tools',
    description: 'the AMI has neither zip nor unzip (as Ubuntu\'s cloud images), and the build has an output artifact',
    handling: 'the build step unzips the input and zips the output with python3\'s zipfile, keeping file modes (the build\'s script stays executable)',
    expect: { status: 'Succeeded' },
    job: { command: 'test -x build.sh && ./build.sh', outputPath: 'dist' },
    chaos: () => ({ missingTools: () => ['zip', 'unzip'] }),
  },
  {
    name: 'output-missing',
    description: 'OutputArtifactPath matches nothing after the build',
    handling: 'the document says so; the job fails as a ConfigurationError',
    expect: { status: 'Failed', failureType: 'ConfigurationError', message: /OutputArtifactPath 'missing-dir' matched nothing/ },
    job: { outputPath: 'missing-dir' },
  },
  {
    name: 'input-download-denied',
    description: 'the artifact store refuses the input download (HTTP 403: expired or revoked credentials)',
    handling: 'the document reports the HTTP status and S3 error code, never the URL',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /refused the input download \(HTTP 403/ },
    chaos: () => ({ badCredentials: (_job, call) => call === 1 }),
  },
  {
    name: 'input-url-expired',
    description: 'the input URL has expired when the instance uses it (the store\'s clock is 31 minutes ahead)',
    handling: 'S3 answers 403 AccessDenied "Request has expired"; the document reports it, never the URL',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /refused the input download \(HTTP 403, AccessDenied\): the URL expired/ },
    chaos: () => ({ storeClockAheadMs: () => 31 * 60 * 1000 }),
  },
  {
    name: 'input-missing',
    description: 'the input artifact does not exist',
    handling: 'HTTP 404 becomes a ConfigurationError naming the artifact',
    expect: { status: 'Failed', failureType: 'ConfigurationError', message: /input artifact does not exist/ },
    deleteInput: true,
  },
  {
    name: 'upload-denied',
    description: 'the artifact store refuses the output upload',
    handling: 'the upload phase reports the HTTP status; the instance is released',
    expect: { status: 'Failed', failureType: 'JobFailed', message: /refused the upload \(HTTP 403/ },
    job: { outputPath: 'dist' },
    chaos: () => ({ badCredentials: (_job, call) => call === 2 }),
  },
  {
    name: 'release-fails-once',
    description: 'TerminateInstances fails once',
    handling: 'Release Instance retries with backoff',
    expect: { status: 'Succeeded' },
    chaos: () => {
      const first = firstTimeOnly();
      return { terminate: (job) => (first(job) ? new AwsError('InternalError', 'An internal error has occurred', 500) : undefined) };
    },
  },
  {
    name: 'release-fails-always',
    description: 'TerminateInstances keeps failing for this instance',
    handling: 'the result is reported anyway, saying so; the scheduled sweeper terminates the instance',
    expect: { status: 'Succeeded', swept: 1, summary: /could not be terminated .*UnauthorizedOperation.*sweeper will terminate it/ },
    chaos: () => {
      // Release Instance tries 6 times (1 + 5 retries); the sweeper's later call goes through.
      let calls = 0;
      return { terminate: () => (++calls <= 6 ? new AwsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403) : undefined) };
    },
  },
  {
    name: 'duplicate-events',
    description: 'the STARTED event arrives twice',
    handling: 'PollForJobs hands the job out once; the same dispatch maps to one execution name',
    expect: { status: 'Succeeded' },
    delivery: 'twice',
  },
  {
    name: 'racing-pollers',
    description: 'two pollers run at the same time for one job',
    handling: 'one gets the job; the other polls nothing',
    expect: { status: 'Succeeded' },
    delivery: 'concurrently',
  },
  {
    name: 'acknowledged-too-late',
    description: 'CodePipeline offers the job again (a new nonce) before the first execution acknowledges it',
    handling: 'the first execution is told its nonce is stale (NotOurs) and ends, launching nothing; the safety-net poll starts the new offer, which builds',
    expect: { status: 'Succeeded', launched: 1 },
    chaos: () => ({ offeredAgain: (_job, call) => call === 1 }),
  },
  {
    name: 'poller-dies-before-start',
    description: 'the poller dies after polling, before its execution starts (StartExecution keeps failing)',
    handling: 'nothing was acknowledged; CodePipeline offers the job again and the safety-net poll starts it',
    expect: { status: 'Succeeded' },
    chaos: () => ({ startExecution: (_job, attempt) => (attempt <= 12 ? new AwsError('ServiceUnavailable', 'Service unavailable', 503) : undefined) }),
  },
  {
    name: 'execution-aborted',
    description: 'someone stops the execution during the build',
    handling: 'the execution-events handler terminates its instance and fails the job',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /ended ABORTED.*instance was terminated/ },
    job: { command: 'sleep 20' },
    chaos: () => ({ commandRunning: (_job, phase) => (phase === 'build' ? { abortExecution: true } : undefined) }),
  },
  {
    name: 'execution-timeout',
    description: 'the execution times out outside its own Catch',
    handling: 'the execution-events handler terminates its instance and fails the job',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /ended TIMED_OUT/ },
    job: { command: 'sleep 20' },
    chaos: () => ({ commandRunning: (_job, phase) => (phase === 'build' ? { timeOutExecution: true } : undefined) }),
  },
  {
    name: 'execution-fails',
    description: 'the completion Lambda fails every time, so the execution fails',
    handling: 'the execution-events handler fails the job (the instance was already released)',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /ended FAILED/ },
    chaos: () => ({ invoke: (fn) => (fn.endsWith('completion') ? lambdaError() : undefined) }),
  },
  {
    name: 'completion-fails-once',
    description: 'the completion Lambda fails once',
    handling: 'Report Result retries; exactly one result',
    expect: { status: 'Succeeded' },
    chaos: () => ({ invoke: (fn, _job, call) => (fn.endsWith('completion') && call === 1 ? lambdaError() : undefined) }),
  },
  {
    name: 'stop-and-abandon',
    description: 'the pipeline is stopped with "Stop and abandon" during the build',
    handling: 'the abandon handler stops the execution; the execution-events handler terminates the instance',
    expect: { status: 'Failed', failureType: 'Abandoned' },
    job: { command: 'sleep 20' },
    chaos: () => ({ commandRunning: (_job, phase) => (phase === 'build' ? { abandon: true } : undefined) }),
  },
  {
    name: 'abandoned-without-event',
    description: 'the pipeline is stopped with "Stop and abandon" during the build and no ABANDONED event arrives (whether one is sent is not documented)',
    handling: 'the scheduled sweeper asks CodePipeline (ListActionExecutions), sees the action Abandoned, stops the execution, then terminates the instance',
    // The execution first (lambdas/sweeper/sweep.ts): its end event reaches the execution-events handler, which may
    // terminate the instance a moment before the sweeper does. Either way it is released.
    expect: { status: 'Failed', failureType: 'Abandoned', swept: [0, 1] },
    // Longer than a sweep: only the sweeper ends it.
    job: { command: 'sleep 120' },
    chaos: () => ({
      commandRunning: (_job, phase) => (phase === 'build' ? { abandon: true } : undefined),
      dropActionEvent: (_job, state) => state === 'ABANDONED',
    }),
  },
  {
    name: 'execution-status-event-lost',
    description: 'someone stops the execution during the build and EventBridge loses its status event (Step Functions sends them on a best-effort basis)',
    handling: 'the scheduled sweeper lists the executions that ended ABORTED, FAILED or TIMED_OUT in the last hour, terminates the instance and fails the job the execution owned',
    expect: { status: 'Failed', failureType: 'SystemUnavailable', message: /ended ABORTED.*instance was terminated/, swept: 1 },
    job: { command: 'sleep 120' },
    chaos: () => ({
      commandRunning: (_job, phase) => (phase === 'build' ? { abortExecution: true } : undefined),
      dropExecutionEvent: () => true,
    }),
  },
  {
    name: 'instance-running-event-lost',
    description: 'EventBridge loses the "running" state-change event of the build\'s instance (AWS service events are delivered on a best-effort basis)',
    handling: "the readiness watcher's look at EC2 (at its next read for a build just registered, within its safety-net period for any; by instance ID, which works while another zone is disrupted) finds the instance running; the build goes on",
    expect: { status: 'Succeeded' },
    chaos: () => ({ dropInstanceEvent: (_job, state) => state === 'running' }),
  },
  ...FLEET_FAULTS,
  ...SPOT_FAULTS,
  ...SCALE_FAULTS,
  ...HOLD_FAULTS,
];

export function faultNamed(name: string): Fault | undefined {
  return FAULTS.find((f) => f.name === name);
}

/** Whether a job's count of instances the sweeper terminated is what its fault expects (none when it expects nothing). */
export function sweptAsExpected(actual: number, expected: FaultExpectation['swept']): boolean {
  if (expected === undefined) return actual === 0;
  return typeof expected === 'number' ? actual === expected : actual >= expected[0] && actual <= expected[1];
}
