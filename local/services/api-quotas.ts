import type { BucketLimit } from './ec2-throttle';
import { EC2_THROTTLING } from './ec2-throttle';
import type { OperationQuota, ServiceThrottling } from './api-throttle';

/**
 * The account's default API quotas for the operations the local Systems Manager, Step Functions and CodePipeline
 * answer, each with its source (./api-throttle.ts enforces them), and one table of every quota the system's calls
 * meet, EC2's included, for the README's budget and the bench.
 *
 * Where AWS publishes no rate the figures are an ASSUMPTION, marked `published: false`: a bucket no larger than
 * EC2's smaller non-mutating one (50, refill 10/s) for a read and smaller than EC2's mutating one for a write
 * (20, refill 5/s; https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). Such an operation's
 * rate must stay flat in the number of builds: then any real quota above one build's needs serves a thousand.
 */

const EC2_THROTTLING_URL = 'https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html';
const ASSUMED_READ: BucketLimit = { capacity: 50, refillPerSecond: 10 };
const ASSUMED_WRITE: BucketLimit = { capacity: 20, refillPerSecond: 5 };

// --- Systems Manager --------------------------------------------------------------------------------------------
const SSM_QUOTAS_URL = 'https://docs.aws.amazon.com/general/latest/gr/ssm.html';
const SSM_UNPUBLISHED = `${SSM_QUOTAS_URL} (searched: no Run Command or node API rate is published; aws/amazon-ssm-agent#151 notes the same for the agent's calls)`;
const ssmAssumed = (limit: BucketLimit, kind: string): OperationQuota => ({
  ...limit,
  source: SSM_UNPUBLISHED,
  published: false,
  note: `ASSUMPTION: not published; ${kind}`,
});

/**
 * Systems Manager. Parameter Store's "Max throughput (transactions per second)" is published: 40 by default, shared by
 * GetParameter, GetParameters and GetParametersByPath (higher throughput, paid, raises it: SSM_QUOTAS_URL and
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html). A rate is not a
 * bucket: the bucket here holds one second's worth (40), the burst a rate of 40 a second allows at most.
 */
export const SSM_THROTTLING: ServiceThrottling = {
  service: 'SSM',
  // "ThrottlingException ... Rate exceeded", HTTP 400 (https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html).
  error: { code: 'ThrottlingException', status: 400, source: 'https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html' },
  quotas: {
    DescribeInstanceInformation: ssmAssumed(ASSUMED_READ, 'a read: as EC2\'s smaller non-mutating bucket'),
    ListCommands: ssmAssumed(ASSUMED_READ, 'a read: as EC2\'s smaller non-mutating bucket'),
    GetCommandInvocation: ssmAssumed(ASSUMED_READ, 'a read: as EC2\'s smaller non-mutating bucket'),
    SendCommand: ssmAssumed(ASSUMED_WRITE, 'a write: below EC2\'s mutating bucket'),
    CancelCommand: ssmAssumed(ASSUMED_WRITE, 'a write: below EC2\'s mutating bucket'),
    GetParameter: { capacity: 40, refillPerSecond: 40, bucket: 'ParameterStore', source: SSM_QUOTAS_URL, published: true, note: '40 TPS shared with GetParameters and GetParametersByPath; the bucket size (one second\'s worth) is an assumption' },
    GetParameters: { capacity: 40, refillPerSecond: 40, bucket: 'ParameterStore', source: SSM_QUOTAS_URL, published: true, note: '40 TPS shared with GetParameter and GetParametersByPath; the bucket size (one second\'s worth) is an assumption' },
  },
};

// --- Step Functions ---------------------------------------------------------------------------------------------
const SFN_QUOTAS_URL = 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-api-action-throttling-general';
const LARGER_REGIONS = 'US East (N. Virginia), US West (Oregon), Europe (Ireland)';
/** Standard workflows: "All other regions" (enforced) and the three larger Regions' figures, from SFN_QUOTAS_URL. */
const sfn = (capacity: number, refillPerSecond: number, larger: BucketLimit): OperationQuota => ({
  capacity,
  refillPerSecond,
  source: SFN_QUOTAS_URL,
  published: true,
  largerRegions: { ...larger, regions: LARGER_REGIONS },
});

/**
 * Step Functions, Standard workflows: "Quotas related to API action throttling" (SFN_QUOTAS_URL), per account and
 * Region. The stack may be deployed in any Region, so the local cloud enforces the smaller "All other regions"
 * figures. Only requests to the Step Functions endpoint take tokens: the executions' own state transitions (bucket
 * 800, refill 800/s; 5,000/5,000 in the larger Regions; "New AWS accounts have reduced state transition quotas",
 * not given) are not modelled, as the interpreter runs them in-process (SFN_STATE_TRANSITIONS below records them).
 */
export const SFN_THROTTLING: ServiceThrottling = {
  service: 'StepFunctions',
  // ThrottlingException, HTTP 400 (https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html).
  error: { code: 'ThrottlingException', status: 400, source: 'https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html' },
  quotas: {
    StartExecution: sfn(800, 150, { capacity: 1300, refillPerSecond: 300 }),
    StopExecution: sfn(500, 25, { capacity: 1000, refillPerSecond: 200 }),
    DescribeExecution: sfn(250, 10, { capacity: 300, refillPerSecond: 15 }),
    ListExecutions: sfn(100, 2, { capacity: 200, refillPerSecond: 5 }),
    GetExecutionHistory: sfn(400, 20, { capacity: 400, refillPerSecond: 20 }),
    SendTaskSuccess: sfn(1500, 300, { capacity: 3000, refillPerSecond: 500 }),
    SendTaskFailure: sfn(1500, 300, { capacity: 3000, refillPerSecond: 500 }),
    SendTaskHeartbeat: sfn(1500, 300, { capacity: 3000, refillPerSecond: 500 }),
  },
};

/** Step Functions' StateTransition bucket (Standard), recorded for the budget; not enforced locally (see above). */
export const SFN_STATE_TRANSITIONS: OperationQuota = {
  ...sfn(800, 800, { capacity: 5000, refillPerSecond: 5000 }),
  source: 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-api-state-throttling',
  note: 'not enforced locally (the interpreter runs transitions in-process); new accounts have reduced, unpublished figures',
};

// --- CodePipeline -----------------------------------------------------------------------------------------------
const CODEPIPELINE_UNPUBLISHED = 'https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html (searched: it lists pipelines, actions, webhooks and timeouts; no API rate is published)';
const pipelineAssumed = (limit: BucketLimit, kind: string): OperationQuota => ({
  ...limit,
  source: CODEPIPELINE_UNPUBLISHED,
  published: false,
  note: `ASSUMPTION: not published; ${kind}`,
});
const PIPELINE_READ = pipelineAssumed(ASSUMED_READ, 'a read: as EC2\'s smaller non-mutating bucket');
// Users report StartPipelineExecution throttled at about 20 concurrent calls (aws-ia/terraform-aws-control_tower_account_factory#487).
const PIPELINE_WRITE = pipelineAssumed(ASSUMED_WRITE, 'a write: below EC2\'s mutating bucket; StartPipelineExecution is reported throttled at ~20 concurrent calls');

/** CodePipeline: the job-worker API and the pipeline API the local endpoint answers. No rate is published. */
export const CODEPIPELINE_THROTTLING: ServiceThrottling = {
  service: 'CodePipeline',
  // ThrottlingException, HTTP 400 (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html).
  error: { code: 'ThrottlingException', status: 400, source: 'https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html' },
  quotas: {
    PollForJobs: PIPELINE_READ,
    GetJobDetails: PIPELINE_READ,
    GetPipeline: PIPELINE_READ,
    GetPipelineExecution: PIPELINE_READ,
    GetPipelineState: PIPELINE_READ,
    ListActionExecutions: PIPELINE_READ,
    AcknowledgeJob: PIPELINE_WRITE,
    PutJobSuccessResult: PIPELINE_WRITE,
    PutJobFailureResult: PIPELINE_WRITE,
    CreatePipeline: PIPELINE_WRITE,
    DeletePipeline: PIPELINE_WRITE,
    StartPipelineExecution: PIPELINE_WRITE,
    StopPipelineExecution: PIPELINE_WRITE,
  },
};

// --- One table ----------------------------------------------------------------------------------------------------
/** One row of the budget table: an operation's default quota and its source. */
export interface QuotaRow {
  readonly service: string;
  readonly operation: string;
  /** The bucket's size and refill rate (requests a second); a concurrency quota has no refill. */
  readonly capacity: number;
  readonly refillPerSecond: number | null;
  readonly source: string;
  readonly published: boolean;
  /** Whether the local cloud enforces it. */
  readonly enforced: boolean;
  readonly note?: string;
}

const rowsOf = (t: ServiceThrottling): QuotaRow[] =>
  Object.entries(t.quotas).map(([operation, q]) => ({
    service: t.service,
    operation,
    capacity: q.capacity,
    refillPerSecond: q.refillPerSecond,
    source: q.source,
    published: q.published,
    enforced: true,
    ...(q.note || q.largerRegions ? { note: [q.note, q.largerRegions && `${q.largerRegions.regions}: ${q.largerRegions.capacity}, refill ${q.largerRegions.refillPerSecond}/s`].filter(Boolean).join('; ') } : {}),
  }));

/** An EC2 action's other buckets: the smaller unfiltered one, and the resource bucket. */
function ec2Note(t: (typeof EC2_THROTTLING)[string]): { note?: string } {
  const parts = [
    t.unfiltered && `unfiltered and unpaginated: ${t.unfiltered.capacity}, refill ${t.unfiltered.refillPerSecond}/s`,
    t.resource && `resource bucket (one token an instance): ${t.resource.capacity}, refill ${t.resource.refillPerSecond}/s`,
  ].filter(Boolean);
  return parts.length ? { note: parts.join('; ') } : {};
}

const LAMBDA_QUOTAS_URL = 'https://docs.aws.amazon.com/lambda/latest/dg/limits.html';

/** Every quota the system's calls meet, for the README's "Scale" table and the bench. */
export const API_QUOTAS: readonly QuotaRow[] = [
  ...Object.entries(EC2_THROTTLING).map(([operation, t]) => ({
    service: 'EC2',
    operation,
    capacity: t.request.capacity,
    refillPerSecond: t.request.refillPerSecond,
    source: EC2_THROTTLING_URL,
    published: true,
    enforced: true,
    ...ec2Note(t),
  })),
  ...rowsOf(SSM_THROTTLING),
  ...rowsOf(SFN_THROTTLING),
  { ...rowsOf({ ...SFN_THROTTLING, quotas: { StateTransition: SFN_STATE_TRANSITIONS } })[0], enforced: false },
  ...rowsOf(CODEPIPELINE_THROTTLING),
  // Lambda: concurrency, and invocations a second "10 x concurrent executions quota" (synchronous, all sources). Not
  // enforced here (local/lambda/ meters concurrency).
  { service: 'Lambda', operation: 'ConcurrentExecutions', capacity: 1000, refillPerSecond: null, source: LAMBDA_QUOTAS_URL, published: true, enforced: false },
  { service: 'Lambda', operation: 'Invoke', capacity: 10_000, refillPerSecond: 10_000, source: LAMBDA_QUOTAS_URL, published: true, enforced: false, note: 'requests a second per Region: 10 x the concurrency quota; no bucket size is given' },
];
