import { holdNote, regionOf } from '../shared/hold';
import type { CompletionInput, JobOutcome } from '../shared/types';
import { beforeLastLines, fitFailureMessage } from './outcome';

/**
 * "Report Failure And Hold": the build's failure, reported now, says how to reach the held instance and until when
 * (shared/hold.ts); the execution then waits until `holdUntil` ("Wait For The Hold To End") before it releases the
 * instance. The note goes before the build's last lines, so that the message still ends with the end of the log.
 */
export function holdOutcome(input: CompletionInput, outcome: JobOutcome, now: Date, minuteSeconds: number): { outcome: JobOutcome; holdUntil: string } {
  const minutes = input.state.job?.holdMinutes ?? 0;
  // toISOString: RFC 3339 with an uppercase T and Z, as a Wait state's TimestampPath wants; Step Functions truncates
  // its milliseconds (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html): the Wait ends at most a
  // second before the tag's end, never after it.
  const until = new Date(now.getTime() + minutes * minuteSeconds * 1000);
  const instanceId = input.state.instance?.instanceId;
  if (outcome.status !== 'Failed' || !instanceId || minutes <= 0) return { outcome, holdUntil: now.toISOString() };
  const note = holdNote(instanceId, regionOf(input.executionArn), minutes, until);
  return { outcome: { ...outcome, message: fitFailureMessage(beforeLastLines(outcome.message, note)) }, holdUntil: until.toISOString() };
}
