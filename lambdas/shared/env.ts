/**
 * Names of the environment variables the stack sets and the Lambdas read.
 * lib/ imports these so the two sides cannot drift apart.
 */
export const ENV = {
  stateMachineArn: 'STATE_MACHINE_ARN',
  actionCategory: 'ACTION_CATEGORY',
  actionProvider: 'ACTION_PROVIDER',
  actionVersion: 'ACTION_VERSION',
  launchTemplateId: 'LAUNCH_TEMPLATE_ID',
  subnetIds: 'SUBNET_IDS',
  stackTagValue: 'STACK_TAG_VALUE',
  rootVolumeGiB: 'ROOT_VOLUME_GIB',
  maxJobMinutes: 'MAX_JOB_MINUTES',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  checkWatchMs: 'CHECK_WATCH_MS',
  buildDocumentName: 'BUILD_DOCUMENT_NAME',
  eventGraceMs: 'EVENT_GRACE_MS',
  jobRenewalSeconds: 'JOB_RENEWAL_SECONDS',
  /** The stack's fleets, as parsed JSON (lambdas/shared/fleets.ts); '{}' when it has none. */
  fleets: 'FLEETS',
  /** The fleets' pool table (lambdas/shared/pool-table.ts). */
  poolTableName: 'POOL_TABLE_NAME',
  /** How long one refill run keeps watching warming and stopping pool instances. */
  refillWatchMs: 'REFILL_WATCH_MS',
  /** The readiness watcher function, which "Is Instance Ready?" starts (lambdas/shared/readiness.ts). */
  readinessWatcher: 'READINESS_WATCHER',
  /** How long a build waits for its instance's agent to come online before it gives up. */
  readyWithinMs: 'READY_WITHIN_MS',
  /** How long after its launch a registration is the build's first, which leaves the instance to its events and the watcher. */
  firstRegistrationMs: 'FIRST_REGISTRATION_MS',
  /** The readiness watcher's pause between looks at the running waiters. */
  watchTickMs: 'WATCH_TICK_MS',
  /** How long one readiness watcher invocation runs before it hands over. */
  watchRunMs: 'WATCH_RUN_MS',
  /** Parameter name prefixes builds may read (comma-separated; empty: none), lambdas/shared/build-environment.ts. */
  parameterPrefixes: 'PARAMETER_PREFIXES',
  /** Secret name prefixes builds may read (comma-separated; empty: none). */
  secretPrefixes: 'SECRET_PREFIXES',
  /** The stack's bucket for per-job build environments and exported variables (lambdas/shared/job-objects.ts). */
  jobBucketName: 'JOB_BUCKET_NAME',
  /** Minutes the instance of a failed build is kept by default (0: none), lambdas/shared/hold.ts. */
  holdOnFailureMinutes: 'HOLD_ON_FAILURE_MINUTES',
  /** The stack's build log group, where the SSM agent writes every build's output (lambdas/shared/log-link.ts). */
  buildLogGroupName: 'BUILD_LOG_GROUP_NAME',
} as const;

/**
 * A value for every variable above: what a run outside the stack (local runner, benchmark) must
 * give the handlers, typed so that a new variable cannot be forgotten there.
 */
export type FunctionConfig = Record<(typeof ENV)[keyof typeof ENV], string>;

/** Tags every build instance carries; IAM conditions and the sweeper rely on them. */
export const TAGS = {
  stack: 'ec2-build-action:stack',
  jobId: 'ec2-build-action:job-id',
  execution: 'ec2-build-action:execution',
  /**
   * When a failed build's hold ends (ISO 8601): set by the state machine ("Hold The Instance", ec2:CreateTags allowed
   * for this key only, on the stack's instances), read by the sweeper, which keeps a held instance until then.
   */
  holdUntil: 'ec2-build-action:hold-until',
} as const;

/** Tags a pool instance carries beside the stack's: its fleet and the pool it was launched for. */
export const POOL_TAGS = {
  fleet: 'ec2-build-action:fleet',
  pool: 'ec2-build-action:pool',
} as const;
