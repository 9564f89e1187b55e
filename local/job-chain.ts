import type { JobResult, LocalCodePipeline } from './services/codepipeline';

/** Continuation job of each job that was renewed, per local CodePipeline. */
const chains = new WeakMap<LocalCodePipeline, Map<string, string>>();

/**
 * Starts recording which job continues which (the local CodePipeline tells its onJobEnd listener; the pipeline
 * service listens there too, so the listener is wrapped, not replaced). Call before the job can be renewed.
 */
export function followContinuations(codepipeline: LocalCodePipeline): void {
  if (chains.has(codepipeline)) return;
  const next = new Map<string, string>();
  chains.set(codepipeline, next);
  const listener = codepipeline.onJobEnd;
  codepipeline.onJobEnd = (jobId, actionExecutionId, end) => {
    if (end.kind === 'continued') next.set(jobId, end.nextJobId);
    listener?.(jobId, actionExecutionId, end);
  };
}

/**
 * The action's outcome for a job and its continuations: waits for each job's result and follows a success with a
 * continuation token to the next job, until a final result. Returns every job of the action, first to last.
 */
export async function finalResult(codepipeline: LocalCodePipeline, jobId: string): Promise<{ jobIds: string[]; result: JobResult }> {
  const next = chains.get(codepipeline);
  if (!next) throw new Error('followContinuations(codepipeline) must be called before the job starts');
  const jobIds = [jobId];
  for (;;) {
    const current = jobIds[jobIds.length - 1];
    const result = await codepipeline.waitForResult(current);
    // The continuation is recorded when the renewing result is accepted, before its waiters run.
    const continued = result.status === 'Succeeded' && result.continuationToken !== undefined ? next.get(current) : undefined;
    if (!continued) return { jobIds, result };
    jobIds.push(continued);
  }
}
