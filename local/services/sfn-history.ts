import type { EventLog, ScheduledTask } from './sfn';

/** What GetExecutionHistory reads of an execution. */
export interface HistorySource {
  readonly events: readonly EventLog[];
  readonly tasks?: readonly ScheduledTask[];
}

/** "The default is 100 and the maximum allowed page size is 1000. A value of 0 uses the default." */
const DEFAULT_PAGE = 100;

type Entry = { readonly timestamp: number; readonly order: number; readonly build: (id: number, data: boolean) => Record<string, unknown>[] };

/**
 * GetExecutionHistory, locally (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html):
 * the states' exits with their outputs, and each task as Step Functions records it, a TaskStateEntered naming the state
 * then a TaskScheduled whose previousEventId is that event and whose taskScheduledEventDetails carry the parameters as
 * sent, the task token included (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html,
 * API_TaskScheduledEventDetails.html). Oldest first, or newest first with reverseOrder; pages of maxResults with a
 * nextToken. Without includeExecutionData, inputs, outputs and parameters are left out (the reference says execution
 * data is "input or output of a history event"; whether parameters count is not said: left out, the stricter reading).
 * Not recorded: the task's start, success and failure events, which nothing here reads.
 */
export function executionHistory(e: HistorySource, stateTypes: Record<string, { Type: string }>, body: Record<string, unknown>, region: string) {
  const entries: Entry[] = [];
  for (const ev of e.events) {
    if (ev.type !== 'StateExited' || !ev.state) continue;
    const name = ev.state.name;
    const output = JSON.stringify((ev.state as { output?: unknown }).output ?? null);
    // A state's exit comes before the next state's entry logged in the same millisecond.
    entries.push({
      timestamp: ev.timestamp,
      order: 0,
      build: (id, data) => [{ id, previousEventId: id - 1, timestamp: ev.timestamp / 1000, type: `${stateTypes[name]?.Type ?? 'Task'}StateExited`, stateExitedEventDetails: { name, ...(data ? { output } : {}) } }],
    });
  }
  for (const t of e.tasks ?? []) {
    const [, resourceType, resource] = t.resource.match(/^arn:aws:states:::([a-z-]+(?::[a-z0-9-]+)?):(.+)$/) ?? [];
    entries.push({
      timestamp: t.timestamp,
      order: 1,
      build: (id, data) => [
        { id, previousEventId: id - 1, timestamp: t.timestamp / 1000, type: 'TaskStateEntered', stateEnteredEventDetails: { name: t.state, ...(data ? { input: '{}' } : {}) } },
        {
          id: id + 1,
          previousEventId: id,
          timestamp: t.timestamp / 1000,
          type: 'TaskScheduled',
          taskScheduledEventDetails: { resourceType: resourceType ?? 'unknown', resource: resource ?? t.resource, region, parameters: data ? t.parameters : '' },
        },
      ],
    });
  }
  entries.sort((a, b) => a.timestamp - b.timestamp || a.order - b.order);
  const data = body.includeExecutionData !== false;
  const all: Record<string, unknown>[] = [];
  for (const entry of entries) all.push(...entry.build(all.length + 1, data));
  if (body.reverseOrder === true) all.reverse();
  const size = Number(body.maxResults ?? 0) || DEFAULT_PAGE;
  const start = body.nextToken ? Number(body.nextToken) : 0;
  const events = all.slice(start, start + size);
  return { events, ...(start + size < all.length ? { nextToken: String(start + size) } : {}) };
}
