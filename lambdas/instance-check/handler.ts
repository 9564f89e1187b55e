import type { Handler } from 'aws-lambda';
import { loadCheckWatchMs } from '../shared/config';
import { createLogger } from '../shared/logger';
import { buildDeadline, roundSeconds } from '../shared/renewal';
import { watchInstance, type Readiness } from './check';

export interface CheckEvent {
  readonly instanceId: string;
  /** From "Launch Instance" (ISO 8601). */
  readonly launchedAt?: string;
  /** The job's horizon and the build's wait (from the poller): Run Build's first wait is computed from them. */
  readonly renewBy: string;
  readonly renewalSeconds: number;
  readonly waitTimeoutSeconds: number;
}

/** Ready, and how long Run Build may wait before the job is renewed (its TimeoutSecondsPath). */
export type ReadyForBuild = Readiness & { readonly buildWaitSeconds: number };

const watchMs = loadCheckWatchMs();
/** Looks while EC2 says pending: EC2 only, 2 a second (the agent cannot be online yet). */
const PENDING_INTERVAL_MS = 500;
/** Looks once it runs: Systems Manager, 10 a second, for the few seconds its agent takes to register. */
const RUNNING_INTERVAL_MS = 100;
/** ...in the first 3 minutes after launch; an agent later than that is looked for once a second. */
const FAST_WINDOW_MS = 3 * 60 * 1000;
const LATE_INTERVAL_MS = 1000;
/** While running, EC2 is asked as well every 20 looks, to stop at once on a lost instance. */
const EC2_EVERY = 20;
const logger = createLogger('instance-check');

/** "Is Instance Ready?": watches the instance until its SSM agent is online, for a while, then hands back. */
export const handler: Handler<CheckEvent, ReadyForBuild> = async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ instanceId: event.instanceId });
  const readiness = await watchInstance(event.instanceId, {
    watchMs,
    pendingIntervalMs: Math.min(PENDING_INTERVAL_MS, watchMs),
    runningIntervalMs: Math.min(RUNNING_INTERVAL_MS, watchMs),
    fastWindowMs: FAST_WINDOW_MS,
    lateIntervalMs: Math.min(LATE_INTERVAL_MS, watchMs),
    launchedAt: event.launchedAt ? Date.parse(event.launchedAt) : undefined,
    ec2Every: EC2_EVERY,
  });
  // Measured from the poll, not from the build's start: the launch and the boot count against the job's timeout too.
  const deadline = buildDeadline(readiness.readyAt, event.waitTimeoutSeconds);
  const buildWaitSeconds = roundSeconds(Date.parse(readiness.readyAt), Date.parse(event.renewBy), deadline, event.renewalSeconds);
  return { ...readiness, buildWaitSeconds };
};
