import type { LocalCloud } from './cloud';

/** What CodePipeline would show for a job nobody picked up: nothing; the runner says why instead. */
export interface NotPickedUp {
  readonly message: string;
}

const LOOK_MS = 100;
/** How much longer a job that was polled may wait for its next offer to be taken. */
const POLLED_FACTOR = 6;
/**
 * How many of its offers pollers may take and fail to start before the runner gives up on the job (a poller that
 * fails every time): the poller-dies-before-start fault fails StartExecution 12 times, that is 4 offers with the SDK's
 * 3 attempts each, and 12 if the SDK's retry quota ran out; each offer lasts CodePipeline's dispatch timeout (5 s or more).
 */
const MAX_FAILED_TAKES = 15;

/**
 * Resolves when no build execution has started for the job within `boundMs` while no poll took it
 * (a poll refused by IAM, no poller); once polls take it, when six times that passes without a poll taking it
 * again, or when pollers took it MAX_FAILED_TAKES times without starting it (a poller that fails
 * every time), with what the local cloud saw go wrong; never resolves once an execution exists. A job whose
 * start keeps failing but is offered again and taken is not given up on for the time that takes: a loaded machine
 * (the 500-job soak on 2 cores) spaces the offers further apart. On AWS such a job would wait in CodePipeline until
 * its action timed out: the runner ends in bounded time and says why.
 */
export function whenNeverPickedUp(cloud: LocalCloud, jobId: string, boundMs: number): { promise: Promise<NotPickedUp>; cancel: () => void } {
  const deniedBefore = cloud.authorizer.denials.length;
  const failedBefore = cloud.functionErrors.length;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<NotPickedUp>((resolve) => {
    const startedAt = Date.now();
    let takes = 0;
    let deadline = startedAt + boundMs;
    const look = () => {
      if ([...cloud.sfn.executions.values()].some((e) => e.name.startsWith(jobId))) return;
      // A job some poller took but never started (a poller that died) is offered again: each take gives it longer.
      const taken = cloud.codepipeline.takesOf(jobId);
      if (taken > takes) {
        takes = taken;
        deadline = Date.now() + POLLED_FACTOR * boundMs;
      }
      // The 15th take failed when the job is offered again, or when a 16th take came before a look saw it offered (a
      // poll that follows at once, as the safety-net poll's next page does).
      const failedEveryTake = takes > MAX_FAILED_TAKES || (takes === MAX_FAILED_TAKES && cloud.codepipeline.statusOf(jobId) === 'Queued');
      if (Date.now() < deadline && !failedEveryTake) {
        timer = setTimeout(look, LOOK_MS);
        return;
      }
      const denials = cloud.authorizer.denials.slice(deniedBefore).map((d) => `the role ${d.role} was refused ${d.action} on ${d.resource}`);
      const failures = cloud.functionErrors.slice(failedBefore).map((f) => `${f.functionName} failed: ${f.errorType}: ${f.errorMessage}`);
      const why = [...new Set([...denials, ...failures])];
      resolve({
        message: `The job was never picked up: no build execution started for it within ${Math.round((Date.now() - startedAt) / 1000)} s${takes ? `, though polls took it ${takes} time${takes === 1 ? '' : 's'}` : ' and no poll ever took it'}.${why.length ? ` ${why.join('; ')}.` : ' Nothing was refused and no function failed: is the poller polling this action type?'}`,
      });
    };
    timer = setTimeout(look, LOOK_MS);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
