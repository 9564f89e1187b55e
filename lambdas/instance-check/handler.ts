import type { Handler } from 'aws-lambda';
import { loadCheckWatchMs, loadFirstRegistrationMs, loadReadinessWatcher, loadReadyWithinMs, loadWatchTiming } from '../shared/config';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-store';
import { readyOutput, type ReadyForBuild } from '../shared/readiness';
import { watchInstance } from './check';
import { register, type RegisterEvent, type Registration } from './register';

/** What an execution started before readiness became event driven sends: no task token; it waits for the answer. */
export interface CheckEvent {
  readonly instanceId: string;
  /** From "Launch Instance" (ISO 8601). */
  readonly launchedAt?: string;
  readonly renewBy: string;
  readonly renewalSeconds: number;
  readonly waitTimeoutSeconds: number;
}

export type { ReadyForBuild } from '../shared/readiness';

const watchMs = loadCheckWatchMs();
const registration = {
  table: poolTableFromEnv(),
  watcherFunction: loadReadinessWatcher(),
  readyWithinMs: loadReadyWithinMs(),
  firstRegistrationMs: loadFirstRegistrationMs(),
  timing: loadWatchTiming(),
};
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
const metrics = createMetrics('instance-check');

/**
 * "Is Instance Ready?". With a task token (lambda:invoke.waitForTaskToken), it registers the build with the readiness
 * watcher and returns: EC2's state-change events and the one watcher settle the task (register.ts). Without one, the
 * execution began under the earlier definition, which waits for this call's answer: it watches the instance itself for
 * a while, as that definition expects, so that executions running across a deployment finish.
 */
export const handler: Handler<RegisterEvent | CheckEvent, Registration | ReadyForBuild> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  logger.appendKeys({ instanceId: event.instanceId });
  if ('taskToken' in event && typeof event.taskToken === 'string') {
    const outcome = await register(event, registration);
    logger.info('registered with the readiness watcher', { outcome });
    return outcome;
  }
  const readiness = await watchInstance(event.instanceId, {
    watchMs,
    pendingIntervalMs: Math.min(PENDING_INTERVAL_MS, watchMs),
    runningIntervalMs: Math.min(RUNNING_INTERVAL_MS, watchMs),
    fastWindowMs: FAST_WINDOW_MS,
    lateIntervalMs: Math.min(LATE_INTERVAL_MS, watchMs),
    launchedAt: 'launchedAt' in event && event.launchedAt ? Date.parse(event.launchedAt) : undefined,
    ec2Every: EC2_EVERY,
  });
  return readyOutput(event, new Date(readiness.readyAt));
});
