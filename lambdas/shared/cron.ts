/**
 * EventBridge Scheduler's cron-based schedules, checked before a schedule is ever created: six fields
 * `minutes hours day-of-month month day-of-week year`, the values and wildcards of each
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based, whose table is the one in
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html), evaluated in an IANA time zone
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#time-zones). Where the docs are silent
 * (a range written backwards such as FRI-MON, lower-case names) this refuses: the same schedule can always be written
 * the documented way, so either answer of Scheduler's works.
 */

/** One of the six fields: its bounds and names (the tables lambdas/shared/cron-fires.ts evaluates with). */
export interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Whether the field takes the / (increments) wildcard: every field but day-of-week does. */
  readonly steps: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const FIELDS: readonly Field[] = [
  { name: 'minutes', min: 0, max: 59, steps: true },
  { name: 'hours', min: 0, max: 23, steps: true },
  { name: 'day-of-month', min: 1, max: 31, steps: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, steps: true },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, steps: false },
  { name: 'year', min: 1970, max: 2199, steps: true },
];
const [, , DAY_OF_MONTH, , DAY_OF_WEEK] = FIELDS;

/** A number or a name of the field (JAN = 1, SUN = 1), or undefined when it is neither. */
export function valueOf(token: string, field: Field): number | undefined {
  const named = field.names?.indexOf(token) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d{1,4}$/.test(token)) return undefined;
  const n = Number(token);
  return n >= field.min && n <= field.max ? n : undefined;
}

/** One item of a comma-separated list: `*`, a value, a range `a-b`, each optionally with a step `/n`. */
function itemOk(item: string, field: Field): boolean {
  const [base, step, extra] = item.split('/');
  if (extra !== undefined || (step !== undefined && !field.steps)) return false;
  if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1 && Number(step) <= field.max)) return false;
  if (base === '*') return true;
  const [from, to, more] = base.split('-');
  if (more !== undefined) return false;
  const start = valueOf(from, field);
  if (start === undefined) return false;
  if (to === undefined) return true;
  const end = valueOf(to, field);
  return end !== undefined && start <= end;
}

/** Day-of-month's own forms: L (last day), LW (last weekday), nW (the weekday nearest day n). */
function dayOfMonthSpecial(value: string): boolean {
  const weekday = /^(\d{1,2})W$/.exec(value);
  return value === 'L' || value === 'LW' || (weekday !== null && valueOf(weekday[1], DAY_OF_MONTH) !== undefined);
}

/** Day-of-week's own forms: L (last day of the week), nL (the month's last day n), n#k (its k-th day n, k 1 to 5). */
function dayOfWeekSpecial(value: string): boolean {
  if (value === 'L') return true;
  const last = /^([A-Z]{3}|\d)L$/.exec(value);
  if (last) return valueOf(last[1], DAY_OF_WEEK) !== undefined;
  const nth = /^([A-Z]{3}|\d)#([1-5])$/.exec(value);
  return nth !== null && valueOf(nth[1], DAY_OF_WEEK) !== undefined;
}

function fieldOk(value: string, field: Field): boolean {
  if (field === DAY_OF_MONTH && dayOfMonthSpecial(value)) return true;
  if (field === DAY_OF_WEEK && dayOfWeekSpecial(value)) return true;
  return value.split(',').every((item) => itemOk(item, field));
}

/** Why `fields` (what goes inside `cron(...)`) is not a cron expression EventBridge Scheduler takes, or null. */
export function cronProblem(fields: string): string | null {
  const parts = fields.split(' ');
  if (parts.length !== 6 || parts.some((p) => p === '') || /[()]/.test(fields)) {
    return 'six cron fields separated by single spaces: minutes hours day-of-month month day-of-week year (without cron( ))';
  }
  const [, , dayOfMonth, , dayOfWeek] = parts;
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you specify a value
  // or a * (asterisk) in one of the fields, you must use a ? (question mark) in the other."
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) return 'an EventBridge Scheduler cron with ? in exactly one of day-of-month and day-of-week';
  for (const [i, field] of FIELDS.entries()) {
    if (parts[i] === '?' && (field === DAY_OF_MONTH || field === DAY_OF_WEEK)) continue;
    if (!fieldOk(parts[i], field)) {
      const names = field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
      return `an EventBridge Scheduler cron whose ${field.name} field is valid (${field.min}-${field.max}${names}), not ${JSON.stringify(parts[i])}`;
    }
  }
  return null;
}

/**
 * Scheduler's ScheduleExpressionTimezone is 1 to 50 characters
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html) naming a zone of the IANA time
 * zone database. Node's Intl carries that database (ICU), so a name it refuses is no zone; it matches names without
 * regard to case, so the case is checked too: each part of a zone name starts with a capital letter.
 */
export function timeZoneProblem(zone: string): string | null {
  const problem = 'an IANA time zone name such as Europe/Berlin, America/New_York or UTC';
  if (zone.length > 50 || !/^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*){0,2}$/.test(zone)) return problem;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    // Same zone, other spelling (Europe/BERLIN): only the database's own spelling is a name.
    if (resolved.toLowerCase() === zone.toLowerCase() && resolved !== zone) return problem;
  } catch {
    return problem;
  }
  return null;
}
