import type { ActionExecutionDetail } from '@aws-sdk/client-codepipeline';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { Clients } from './clients';

/**
 * Each phase of the build, from the action execution (when CodePipeline started and ended it) and
 * the Step Functions execution whose ARN is the action's externalExecutionId: the times its states
 * were left, from GetExecutionHistory
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html).
 * Only *StateExited events are used: a state retried many times (Is Instance Ready?) exits once.
 */
export interface Phase {
  readonly name: 'queued' | 'instance ready' | 'build' | 'upload' | 'result';
  /** Seconds, or null when the run never got there. */
  readonly seconds: number | null;
}

/** The state whose exit ends each phase (state-machines/build-job.asl.json). */
const ENDS = {
  queued: ['Acknowledge Job'],
  'instance ready': ['Is Instance Ready?'],
  build: ['Run Build'],
  upload: ['Upload Output Artifact', 'Has Output Artifact?'],
} as const;

async function stateExits(c: Clients, executionArn: string): Promise<Map<string, number>> {
  const exits = new Map<string, number>();
  let nextToken: string | undefined;
  do {
    const page = await c.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    for (const e of page.events ?? ([] as HistoryEvent[])) {
      // The last exit counts: a state passed twice (an input URL signed again) ends its phase the second time.
      if (e.type?.endsWith('StateExited') && e.stateExitedEventDetails?.name && e.timestamp) exits.set(e.stateExitedEventDetails.name, e.timestamp.getTime());
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return exits;
}

export async function phasesOf(c: Clients, action: ActionExecutionDetail): Promise<Phase[]> {
  const arn = action.output?.executionResult?.externalExecutionId;
  const exits = arn?.startsWith('arn:') ? await stateExits(c, arn) : new Map<string, number>();
  const at = (states: readonly string[]) => states.map((s) => exits.get(s)).find((t) => t !== undefined) ?? null;
  const marks: (number | null)[] = [
    action.startTime?.getTime() ?? null,
    at(ENDS.queued),
    at(ENDS['instance ready']),
    at(ENDS.build),
    at(ENDS.upload),
    action.status === 'InProgress' ? null : (action.lastUpdateTime?.getTime() ?? null),
  ];
  const names: Phase['name'][] = ['queued', 'instance ready', 'build', 'upload', 'result'];
  return names.map((name, i) => {
    const from = marks[i];
    const to = marks[i + 1];
    return { name, seconds: from !== null && to !== null ? Math.max(0, (to - from) / 1000) : null };
  });
}

export function formatPhases(phases: readonly Phase[]): string[] {
  return phases.map((p) => `  ${`${p.name}:`.padEnd(16)}${p.seconds === null ? '-' : `${p.seconds.toFixed(1)} s`}`);
}
