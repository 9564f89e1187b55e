import type { LocalCloud } from './cloud';

/** What CodePipeline would show for a job nobody picked up: nothing; the runner says why instead. */
export interface NotPickedUp {
  readonly message: string;
}

const LOOK_MS = 100;

/**
 * Resolves when no build execution has started for the job within `boundMs` (a job never polled, a
 * poll refused by IAM, a poller that fails every time), with what the local cloud saw go wrong;
 * never resolves once an execution exists. On AWS such a job would wait in CodePipeline until its
 * action timed out: the runner ends in bounded time and says why.
 */
export function whenNeverPickedUp(cloud: LocalCloud, jobId: string, boundMs: number): { promise: Promise<NotPickedUp>; cancel: () => void } {
  const deniedBefore = cloud.authorizer.denials.length;
  const failedBefore = cloud.functionErrors.length;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<NotPickedUp>((resolve) => {
    const deadline = Date.now() + boundMs;
    const look = () => {
      if ([...cloud.sfn.executions.values()].some((e) => e.name.startsWith(jobId))) return;
      if (Date.now() < deadline) {
        timer = setTimeout(look, LOOK_MS);
        return;
      }
      const denials = cloud.authorizer.denials.slice(deniedBefore).map((d) => `the role ${d.role} was refused ${d.action} on ${d.resource}`);
      const failures = cloud.functionErrors.slice(failedBefore).map((f) => `${f.functionName} failed: ${f.errorType}: ${f.errorMessage}`);
      const why = [...new Set([...denials, ...failures])];
      resolve({
        message: `The job was never picked up: no build execution started for it within ${Math.round(boundMs / 1000)} s.${why.length ? ` ${why.join('; ')}.` : ' Nothing was refused and no function failed: is the poller polling this action type?'}`,
      });
    };
    timer = setTimeout(look, LOOK_MS);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
