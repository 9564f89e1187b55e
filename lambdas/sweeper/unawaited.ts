import type { Logger } from '@aws-lambda-powertools/logger';
import { executionNameOf } from '../shared/execution-names';
import type { ExecutionInput } from '../shared/types';
import { askedOnce, stillAwaited } from './awaited';
import { holdStillWanted } from './hold';

/** A running build CodePipeline no longer waits for. */
export interface UnawaitedBuild {
  readonly executionArn: string;
  readonly name: string;
  readonly why: string;
}

/** A running execution and its input (DescribeExecution: lambdas/sweeper/sweep.ts inputsOf). */
export interface RunningExecution {
  readonly executionArn: string;
  readonly input: string;
}

/**
 * The running build executions (`running`: those still waiting for an instance too) whose action CodePipeline
 * no longer waits for: abandoned, failed (its job timed out), superseded, or its pipeline gone; a held build (`holds`:
 * its execution's name to its instance's hold tag) when its hold no longer runs.
 * Neither "Stop and abandon"'s ABANDONED event (whether one is sent is not documented) nor any
 * other event is needed. A build whose pipeline cannot be asked now (throttled, denied) is kept
 * and asked again at the next sweep; the age limit still bounds it.
 */
export async function unawaitedBuilds(running: readonly RunningExecution[], now: Date, graceMs: number, logger: Logger, holds: ReadonlyMap<string, string> = new Map()): Promise<UnawaitedBuild[]> {
  const out: UnawaitedBuild[] = [];
  const ask = askedOnce();
  for (const e of running) {
    const name = executionNameOf(e.executionArn);
    let input: Partial<ExecutionInput> = {};
    try {
      input = JSON.parse(e.input) as Partial<ExecutionInput>;
    } catch {
      // an input that is not JSON names no pipeline: kept, like any build CodePipeline cannot be asked about
    }
    try {
      // A held build (its failure reported, its instance kept: hold.ts) is judged by its hold, not by its failed action.
      const holdUntil = holds.get(name);
      const verdict = holdUntil !== undefined ? await holdStillWanted(input.pipeline, holdUntil, now, ask.latest) : await stillAwaited(input.pipeline, now, graceMs, ask);
      if (!verdict.awaited) out.push({ executionArn: e.executionArn, name, why: verdict.why });
    } catch (err) {
      const { name: errorName, message } = err as Error;
      logger.warn('could not ask CodePipeline whether it still waits for a build; kept until the next sweep', { executionArn: e.executionArn, errorName, message });
    }
  }
  return out;
}
