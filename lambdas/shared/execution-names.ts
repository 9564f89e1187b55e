import { createHash } from 'node:crypto';
import type { PipelineRef } from './types';

/**
 * Build executions' names: `<job id>-<12 hex of the nonce's hash>-<8 hex of the action's hash>`. The job id and nonce make
 * one execution per dispatch of a job (a duplicate event maps to the same name, a job offered again with a new nonce
 * to a new one); the action's hash (pipeline, pipeline execution, stage, action) lets "Stop and abandon" find the
 * builds of an action from the names ListExecutions gives, a page per 1,000 running builds, instead of describing
 * every running execution for its input (lambdas/abandon/stop.ts). Names are at most 80 characters
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html): 36 + 1 + 12 + 1 + 8 = 58.
 */
const hex = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** The action's part of its builds' names. */
export function actionKey(p: Pick<PipelineRef, 'name' | 'executionId' | 'stage' | 'action'>): string {
  return hex([p.name, p.executionId, p.stage, p.action].join('\n'), 8);
}

export function buildExecutionName(jobId: string, nonce: string, pipeline?: Pick<PipelineRef, 'name' | 'executionId' | 'stage' | 'action'>): string {
  return `${jobId}-${hex(nonce, 12)}${pipeline ? `-${actionKey(pipeline)}` : ''}`;
}

/** The action key a name carries, or null for a name without one (an execution started before names carried it). */
export function actionKeyOf(name: string): string | null {
  return /^.{36}-[0-9a-f]{12}-([0-9a-f]{8})$/.exec(name)?.[1] ?? null;
}

/** An execution's name: the last part of its ARN (arn:…:execution:<state machine>:<name>). */
export function executionNameOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}
