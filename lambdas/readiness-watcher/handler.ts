import { randomUUID } from 'node:crypto';
import type { Handler } from 'aws-lambda';
import { loadWatchTiming } from '../shared/config';
import { watchedInstanceStates } from '../shared/ec2';
import { invokeAsync } from '../shared/lambda';
import { countingErrors } from '../shared/error-metrics';
import { createLogger } from '../shared/logger';
import { createMetrics } from '../shared/metrics';
import { poolTableFromEnv } from '../shared/pool-store';
import { leaseMs, type WatcherEvent } from '../shared/readiness';
import { handOverLease, listWaiterHeads, releaseLease, takeLease } from '../shared/readiness-table';
import { failTask, resumeTask } from '../shared/sfn';
import { onlineAgents } from '../shared/ssm';
import { REQUEST_TIMEOUT_MS, runWatcher, type WatchSummary } from './watch';

// Each attempt of a request to the table given up after the watcher's request timeout (the SDK retries it: 3 attempts at
// most), so that a hung read no longer holds the watcher until Lambda ends it.
const table = poolTableFromEnv(process.env, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
const timing = loadWatchTiming();
const logger = createLogger('readiness-watcher');
const metrics = createMetrics('readiness-watcher');
const calls = { onlineAgents, instanceStates: watchedInstanceStates, resume: resumeTask, fail: failTask };

/**
 * The one readiness watcher (watch.ts), started by "Is Instance Ready?" with a lease it took, by itself when its time
 * is up and builds still wait (hand-over, same lease), and every minute by its schedule (a watcher that died): the
 * schedule's run takes a lease of its own, and stops at once when nothing waits or another watcher holds it.
 */
export const handler: Handler<WatcherEvent, WatchSummary | { readonly stopped: 'nothing-waits' | 'lease-held' }> = countingErrors(metrics, async (event, context) => {
  logger.addContext(context);
  // The invocation's own owner: a hand-over or a registration passes its lease on to it, so a duplicate delivery of
  // the same event finds the lease taken and stops.
  const owner = randomUUID();
  if (event?.owner) {
    if (!(await handOverLease(table, event.owner, owner, new Date(), leaseMs(timing)))) return { stopped: 'lease-held' };
  } else {
    if ((await listWaiterHeads(table)).length === 0) return { stopped: 'nothing-waits' };
    if (!(await takeLease(table, owner, new Date(), leaseMs(timing)))) return { stopped: 'lease-held' };
  }
  const summary = await runWatcher(owner, {
    table,
    timing,
    calls,
    remainingMs: () => context.getRemainingTimeInMillis(),
    ...(typeof event?.agentsAskedAt === 'number' ? { agentsAskedAt: event.agentsAskedAt } : {}),
    log: (message, details) => logger.warn(message, details),
  });
  if (summary.stopped === 'hand-over') {
    try {
      await invokeAsync(context.invokedFunctionArn, { owner, ...(summary.agentsAskedAt !== undefined ? { agentsAskedAt: summary.agentsAskedAt } : {}) } satisfies WatcherEvent);
    } catch (err) {
      // The schedule starts the next watcher within a minute, once this lease is back.
      logger.error('could not hand over to the next watcher', { error: (err as Error).message });
      await releaseLease(table, owner);
    }
  }
  logger.info('watcher stopped', { ...summary });
  return summary;
});
