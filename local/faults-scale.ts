import type { LocalCloud } from './cloud';
import type { Fault } from './faults';
import type { JobSummary } from './job';

/**
 * Faults of scale (#16): the account the builds run in is shared, and its API budgets with it. EC2 throttles each
 * account's requests per action with token buckets ("Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html: DescribeInstances, filtered or paginated,
 * 100 tokens refilled 20 a second); the local EC2 applies them (local/services/ec2-throttle.ts), and
 * `cloud.ec2.throttle.consume` spends them as another client of the account would.
 */

/** Share of DescribeInstances' budget the other client uses: of its refill and of its burst. */
export const BUSY_SHARE = 0.85;
/** Concurrent builds under the busy account. */
export const BUSY_BUILDS = 5;
/**
 * What "slows down gracefully" allows: the slowest build's dispatch (STARTED event to its first command) in the busy
 * account at most twice the slowest of the same builds in a quiet account (run just before, in the same cloud) plus
 * this many simulated seconds. A refused DescribeInstances is retried (the SDK's backoff, then the caller's own: the
 * readiness check waits up to 2 real seconds, 100 simulated ones, between looks) once tokens come back, at 3 a second:
 * a couple of backoffs, not a failed build nor a wait for a timeout.
 */
export const GRACEFUL_EXTRA_SECONDS = 120;

/** Whether a busy dispatch is within the graceful bound of the quiet one (seconds, simulated). */
export const graceful = (quiet: number, busy: number) => busy <= 2 * quiet + GRACEFUL_EXTRA_SECONDS;

/** What one run of account-busy measured (the last runs, for the test and the report). */
export interface AccountBusyFigures {
  /** Share of DescribeInstances' refill (per simulated second) the other client had while the builds ran. */
  readonly otherClientShare: number;
  /** DescribeInstances tokens the stack's functions got, per real second, while the builds ran (at most 15% of 20). */
  readonly ownTokensPerSecond: number;
  /** The builds' own DescribeInstances requests EC2 refused (RequestLimitExceeded) while they ran. */
  readonly refusedOwnRequests: number;
  /** Slowest dispatch (STARTED to first command), simulated seconds: in a quiet account, then in the busy one. */
  readonly quietDispatchSeconds: number;
  readonly busyDispatchSeconds: number;
}
export const accountBusyFigures: AccountBusyFigures[] = [];

/**
 * Another client of the account, using DescribeInstances so that the stack's functions are left (1 - BUSY_SHARE) of
 * its refill: 3 tokens a second and no burst (the bucket stays near empty: at most one second's share, 3 tokens, at
 * once), where the account has 20 a second and 100 at once. "A second" is a real one: the local cloud refills its
 * buckets per simulated second (20 real ms by default) while the functions pause between calls in real milliseconds,
 * so a client that took 85% of each simulated second's refill would leave them 150 tokens a real second and never be
 * felt (docs/local-cloud.md). This one spends everything else: before each request that reaches the bucket it takes
 * all but what the functions' share has gathered (a real-time bucket of 3 a second, 3 at most), as a client calling
 * all the time would have. In a real-time cloud (1000 ms a second) that is 85% of the refill and all of the burst.
 */
function busyClient(cloud: LocalCloud, bucketName = 'DescribeInstances'): { stop: () => { share: number; ownPerSecond: number } } {
  const throttle = cloud.ec2.throttle;
  if (!throttle) throw new Error('account-busy needs the local EC2 with its token buckets');
  const bucket = throttle.bucket(bucketName);
  const { refillPerSecond } = bucket.limit;
  const ownRate = (1 - BUSY_SHARE) * refillPerSecond;
  // A bucket kept near empty holds no burst for anyone: the functions find at most one second's share at once.
  const ownBurst = ownRate;
  const started = { sim: performance.now() / cloud.timing.msPerSecond, real: performance.now() };
  let own = ownBurst;
  let lastReal = started.real;
  let ownUsed = 0;
  /** The other client takes everything but the functions' share, gathered in real time since the last look. */
  const spend = () => {
    const now = performance.now();
    own = Math.min(ownBurst, own + ((now - lastReal) / 1000) * ownRate);
    lastReal = now;
    bucket.drain(Math.floor(bucket.available() - Math.floor(own)));
  };
  const take = bucket.take.bind(bucket);
  bucket.take = (n = 1) => {
    spend();
    const ok = take(n);
    if (ok) {
      own -= n;
      ownUsed += n;
    }
    return ok;
  };
  spend();
  return {
    stop: () => {
      bucket.take = take;
      const real = (performance.now() - started.real) / 1000;
      const sim = real * (1000 / cloud.timing.msPerSecond);
      // What the account refilled and the functions did not get, the other client had.
      return { share: 1 - ownUsed / Math.max(1e-9, sim * refillPerSecond), ownPerSecond: Math.max(0, ownUsed - ownBurst) / Math.max(1e-9, real) }; // its burst (taken once, at the start) aside
    },
  };
}

/** One busy client at a time per cloud (a soak may draw the fault twice at once): the next waits for the last. */
const busyTurns = new WeakMap<LocalCloud, Promise<unknown>>();
function oneAtATime<T>(cloud: LocalCloud, work: () => Promise<T>): Promise<T> {
  const turn = (busyTurns.get(cloud) ?? Promise.resolve()).catch(() => undefined).then(work);
  busyTurns.set(cloud, turn);
  return turn;
}

/** The slowest dispatch of these builds, in simulated seconds (a build that never ran counts as Infinity). */
function slowestDispatch(cloud: LocalCloud, summaries: readonly JobSummary[]): number {
  return Math.max(...summaries.map((s) => (s.startLatencyMs === null ? Infinity : s.startLatencyMs / cloud.timing.msPerSecond)));
}

export const SCALE_FAULTS: readonly Fault[] = [
  {
    name: 'account-busy',
    description: `another client of the account uses most of EC2's DescribeInstances budget (${BUSY_SHARE * 100}% of each second's refill, and the bucket's burst) while ${BUSY_BUILDS} builds start at once (after the same ${BUSY_BUILDS} in a quiet account)`,
    handling: `EC2 refuses some of the stack's DescribeInstances calls (RequestLimitExceeded); the SDK retries with backoff and readiness counts a refused look as "not yet": every build succeeds, the slowest started within 2× a quiet account's time + ${GRACEFUL_EXTRA_SECONDS} simulated s`,
    expect: { status: 'Succeeded' },
    accountWide: true,
    jobCount: 2 * BUSY_BUILDS,
    scenario: ({ cloud, run }) => oneAtATime(cloud, async () => {
      const violations: string[] = [];
      // The same builds in a quiet account first, then with the busy client.
      const quiet = await Promise.all(Array.from({ length: BUSY_BUILDS }, () => run({}, true)));
      const throttle = cloud.ec2.throttle!;
      const refusedBefore = throttle.refused.get('DescribeInstances') ?? 0;
      const client = busyClient(cloud);
      let measured = { share: 0, ownPerSecond: 0 };
      const busy = await Promise.all(Array.from({ length: BUSY_BUILDS }, () => run())).finally(() => (measured = client.stop()));
      const { share } = measured;
      const figures: AccountBusyFigures = {
        otherClientShare: share,
        ownTokensPerSecond: measured.ownPerSecond,
        refusedOwnRequests: (throttle.refused.get('DescribeInstances') ?? 0) - refusedBefore,
        quietDispatchSeconds: slowestDispatch(cloud, quiet),
        busyDispatchSeconds: slowestDispatch(cloud, busy),
      };
      accountBusyFigures.push(figures);
      if (share < BUSY_SHARE) violations.push(`the other client took ${share.toFixed(2)} of DescribeInstances' refill, less than ${BUSY_SHARE}: the account was not busy`);
      for (const s of [...quiet, ...busy].filter((x) => x.status !== 'Succeeded')) violations.push(`${s.jobId}: ${s.status}: ${s.failureMessage ?? ''}`);
      if (!graceful(figures.quietDispatchSeconds, figures.busyDispatchSeconds)) {
        violations.push(`a build in the busy account took ${figures.busyDispatchSeconds.toFixed(0)} s to start, more than twice the quiet account's ${figures.quietDispatchSeconds.toFixed(0)} s plus ${GRACEFUL_EXTRA_SECONDS} s`);
      }
      return { summaries: [...busy, ...quiet], primary: busy[0], violations };
    }),
  },
];
