import type { LocalCloud } from './cloud';

/** What CodePipeline would show for a job nobody picked up: nothing; the runner says why instead. */
export interface NotPickedUp {
  readonly message: string;
}

const LOOK_MS = 100;
/** How much longer a job that was polled at least once may take to start. */
const POLLED_FACTOR = 6;

/**
 * Resolves when no build execution has started for the job within `boundMs` while no poll took it
 * (a poll refused by IAM, no poller), or within six times that when one did (a poller that fails
 * every time), with what the local cloud saw go wrong;
 * never resolves once an execution exists. On AWS such a job would wait in CodePipeline until its
 * action timed out: the runner ends in bounded time and says why.
 */
export function whenNeverPickedUp(cloud: LocalCloud, jobId: string, boundMs: number): { promise: Promise<NotPickedUp>; cancel: () => void } {
  const deniedBefore = cloud.authorizer.denials.length;
  const failedBefore = cloud.functionErrors.length;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<NotPickedUp>((resolve) => {
    const startedAt = Date.now();
    let polled = false;
    const look = () => {
      if ([...cloud.sfn.executions.values()].some((e) => e.name.startsWith(jobId))) return;
      // A job some poller took but never started (a poller that died) is offered again: give it longer.
      polled ||= cloud.codepipeline.statusOf(jobId) !== 'Queued';
      if (Date.now() < startedAt + (polled ? POLLED_FACTOR * boundMs : boundMs)) {
        timer = setTimeout(look, LOOK_MS);
        return;
      }
      const denials = cloud.authorizer.denials.slice(deniedBefore).map((d) => `the role ${d.role} was refused ${d.action} on ${d.resource}`);
      const failures = cloud.functionErrors.slice(failedBefore).map((f) => `${f.functionName} failed: ${f.errorType}: ${f.errorMessage}`);
      const why = [...new Set([...denials, ...failures])];
      resolve({
        message: `The job was never picked up: no build execution started for it within ${Math.round((Date.now() - startedAt) / 1000)} s${polled ? '' : ' and no poll ever took it'}.${why.length ? ` ${why.join('; ')}.` : ' Nothing was refused and no function failed: is the poller polling this action type?'}`,
      });
    };
    timer = setTimeout(look, LOOK_MS);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
