import { duration } from './duration';
import type { CompletionInput } from './types';

/**
 * Phase timings of a job: queued, instance ready, input staged, build, output staged, released (then reported).
 * Measured from what the execution already records, with no state of its own (no extra state transitions):
 * - the job's poll (renewBy less the renewal interval, as the start latency), the instance's launch or claim
 *   ($.instance.launchedAt) and its readiness ($.ready.readyAt);
 * - the build and upload commands' start and end, as GetCommandInvocation gives them (command-events and
 *   wait-for-build record them in the command's result), and the durations the SSM document measures on the
 *   instance and writes to standard error as `<PHASE_MARKER> <name> <ms>` lines (test/lambdas/document-markers.test.ts
 *   keeps both sides in step): stagingIn (input artifact and environment), build (the Command), stagingOut (packaging);
 * - the time "Release Instance" was entered ($$.State.EnteredTime, kept at $.release.enteredAt), to the report.
 */
export const PHASE_MARKER = 'ec2-build-action-phase';

/** What the document measures on the instance, by the name its marker lines use. */
export type MeasuredPhase = 'stagingIn' | 'build' | 'stagingOut';
export type DocumentMarks = Partial<Record<MeasuredPhase, number>>;
const MEASURED: readonly MeasuredPhase[] = ['stagingIn', 'build', 'stagingOut'];

/** The phases, each in milliseconds, or null when the job never got there (or it could not be measured). */
export interface JobPhases {
  readonly queuedMs: number | null;
  readonly readyMs: number | null;
  readonly stagingInMs: number | null;
  readonly buildMs: number | null;
  readonly stagingOutMs: number | null;
  readonly releaseMs: number | null;
}

/** The document's marker lines in a command's standard error; the last of each name counts. */
export function documentMarks(stderr: string): DocumentMarks {
  const marks: DocumentMarks = {};
  const pattern = new RegExp(`^${PHASE_MARKER} ([A-Za-z]+) ([0-9]{1,15})\\r?$`, 'gm');
  for (const m of stderr.matchAll(pattern)) {
    if ((MEASURED as readonly string[]).includes(m[1])) marks[m[1] as MeasuredPhase] = Number(m[2]);
  }
  return marks;
}

/** Whether a line of standard error is one of the document's phase markers (kept out of failure messages). */
export function isPhaseMarker(line: string): boolean {
  return line.startsWith(`${PHASE_MARKER} `);
}

/**
 * A time from GetCommandInvocation's ExecutionStartDateTime / ExecutionEndDateTime: "ISO 8601", empty when the plugin
 * has not run (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html). The
 * page's own example is a bare date ("2017-06-7"): only a full date and time is taken, anything else reads as
 * unknown and the phases that need it fall back to what the instance measured.
 */
export function commandTime(value: string | undefined): string | null {
  if (!value || !/T\d{2}:\d{2}/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}

const at = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
};
/**
 * From one mark to the next. The marks come from different clocks (Lambda's, Systems Manager's, the instance's): a
 * step back of up to a second is read as 0, a larger one as unknown rather than as a made-up figure.
 */
const SKEW_MS = 1000;
const between = (from: number | null, to: number | null): number | null => {
  if (from === null || to === null || to - from < -SKEW_MS) return null;
  return Math.max(0, to - from);
};

/** The phases of the job the completion reports, `reportedAt` being its report. */
export function jobPhases(input: CompletionInput, reportedAt: Date): JobPhases {
  const { job, instance, ready, build, upload, release } = input.state;
  // The job's poll, as the start latency takes it (job-metrics.ts): the poller sets renewBy one renewal interval later.
  const polledAt = job ? (at(job.renewBy) ?? NaN) - job.renewalSeconds * 1000 : at(input.executionStartTime);
  const launchedAt = at(instance?.launchedAt);
  const readyAt = at(ready?.readyAt);
  const marks: DocumentMarks = build?.marks ?? {};
  // From readiness to the command running (SendCommand's delivery) belongs to staging in, when SSM says when it ran.
  const delivery = between(readyAt, at(build?.startedAt)) ?? 0;
  const stagingInMs = marks.stagingIn === undefined ? null : delivery + marks.stagingIn;
  // Output staged: the packaging on the instance, then (when there is an output or exports) the upload's URL and command.
  const uploadMs = upload ? between(at(build?.endedAt), at(upload.endedAt)) : 0;
  const measured = marks.stagingOut !== undefined || upload !== undefined;
  const stagingOutMs = build?.status === 'Success' && measured && uploadMs !== null ? (marks.stagingOut ?? 0) + uploadMs : null;
  return {
    queuedMs: between(Number.isFinite(polledAt) ? polledAt : null, launchedAt),
    readyMs: between(launchedAt, readyAt),
    stagingInMs,
    buildMs: marks.build ?? null,
    stagingOutMs,
    releaseMs: between(at(release?.enteredAt), reportedAt.getTime()),
  };
}

const LABELS: Record<keyof JobPhases, string> = {
  queuedMs: 'queued',
  readyMs: 'instance ready',
  stagingInMs: 'input staged',
  buildMs: 'build',
  stagingOutMs: 'output staged',
  releaseMs: 'released',
};

/** One short line for the summary: `queued 2s, instance ready 41s, …` (the phases it got to). */
export function formatPhases(phases: JobPhases): string {
  return (Object.keys(LABELS) as (keyof JobPhases)[])
    .filter((k) => phases[k] !== null)
    .map((k) => `${LABELS[k]} ${duration(phases[k]!)}`)
    .join(', ');
}
