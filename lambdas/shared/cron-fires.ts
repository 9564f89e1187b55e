import { cronProblem, FIELDS, valueOf, type Field } from './cron';

/**
 * When an EventBridge Scheduler cron schedule last fired: the refill function asks every minute, for each of up to
 * 20 fleets x 10 schedules, which schedule fired most recently, so the answer is found by walking backwards through
 * the calendar (a month or a year that cannot match is skipped whole; a day that matches is searched hour by hour,
 * then minute by minute), never minute by minute over a year.
 *
 * The fields mean what https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based says
 * (the forms lambdas/shared/cron.ts accepts), read in the schedule's IANA time zone. Daylight saving time
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time, and AWS's
 * https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst): "When the time shifts forward in Spring, your
 * schedule invocation gets skipped if the cron expression falls on a non-existent date and time. When the time
 * shifts back in the Fall, your schedule runs only once and doesn't repeat its invocation." So a local time that does
 * not exist never fires, and one that occurs twice fires once. Which of the two instants it fires at, the docs do not
 * say: this takes the first (the earlier instant). That choice also keeps local time -> instant increasing, which the
 * search below relies on; the other answer would move one firing a year by one hour.
 *
 * Where the docs are silent on nW for a day the month does not have (31W in April), it fires on no day of that
 * month (the weekday nearest a day that does not exist is undefined); on nW near the month's edges, the nearest
 * weekday stays in the month (1W on a Saturday is Monday the 3rd), as in Quartz, the scheduler these cron forms
 * come from.
 */

/** Candidate points the search looked at (days, hours, minutes), across all calls: tests bound the work with it. */
export const searchWork = { points: 0 };

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/**
 * How far a local clock can be behind the instant's first reading after it was set back: one hour in nearly every
 * zone, two in Antarctica/Troll. Local times up to this much after `now`'s may still have happened before `now`.
 */
const SET_BACK_MS = 2 * 3_600_000;

type DayRule = (year: number, month: number, day: number) => boolean;

interface Parsed {
  readonly minutes: readonly number[]; // descending
  readonly hours: readonly number[]; // descending
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  readonly day: DayRule;
}

const [MINUTES, HOURS, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR] = FIELDS;

/** The values a comma-separated list of `*`, `a`, `a-b`, each optionally `/step`, stands for. */
function values(text: string, field: Field): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [base, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, to] = base.split('-');
    const start = base === '*' ? field.min : (valueOf(from, field) as number);
    // `a/n` runs from a to the field's end, as `*/n` runs from its start.
    const end = base === '*' || (to === undefined && stepText !== undefined) ? field.max : to === undefined ? start : (valueOf(to, field) as number);
    for (let v = start; v <= end; v += step) out.add(v);
  }
  return out;
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1 = SUN … 7 = SAT, as the day-of-week field counts. */
const weekday = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

/** The weekday (MON-FRI) nearest day `n` of the month, without leaving the month; null when the month has no day n. */
function nearestWeekday(year: number, month: number, n: number): number | null {
  const last = daysIn(year, month);
  if (n > last) return null;
  const wd = weekday(year, month, n);
  if (wd === 7) return n === 1 ? n + 2 : n - 1; // Saturday: Friday, or Monday when Friday is last month's
  if (wd === 1) return n === last ? n - 2 : n + 1; // Sunday: Monday, or Friday when Monday is next month's
  return n;
}

function dayOfMonthRule(text: string): DayRule {
  if (text === 'L') return (y, m, d) => d === daysIn(y, m);
  if (text === 'LW') return (y, m, d) => d === nearestWeekday(y, m, daysIn(y, m));
  const w = /^(\d{1,2})W$/.exec(text);
  if (w) return (y, m, d) => d === nearestWeekday(y, m, Number(w[1]));
  const days = values(text, DAY_OF_MONTH);
  return (_y, _m, d) => days.has(d);
}

function dayOfWeekRule(text: string): DayRule {
  // "The L wildcard in the Day-of-month or Day-of-week fields specifies the last day of the month or week": SAT (7).
  if (text === 'L') return (y, m, d) => weekday(y, m, d) === 7;
  const last = /^([A-Z]{3}|\d)L$/.exec(text);
  if (last) return (y, m, d) => weekday(y, m, d) === valueOf(last[1], DAY_OF_WEEK) && d + 7 > daysIn(y, m);
  const nth = /^([A-Z]{3}|\d)#([1-5])$/.exec(text);
  if (nth) return (y, m, d) => weekday(y, m, d) === valueOf(nth[1], DAY_OF_WEEK) && Math.ceil(d / 7) === Number(nth[2]);
  const days = values(text, DAY_OF_WEEK);
  return (y, m, d) => days.has(weekday(y, m, d));
}

const parsedCache = new Map<string, Parsed>();

/** The cron's fields as sets (cached: the same few expressions are asked about every minute). */
function parse(cron: string): Parsed {
  const cached = parsedCache.get(cron);
  if (cached) return cached;
  const problem = cronProblem(cron);
  if (problem !== null) throw new Error(`cron ${JSON.stringify(cron)} must be ${problem}`);
  const [min, hour, dom, month, dow, year] = cron.split(' ');
  const parsed: Parsed = {
    minutes: [...values(min, MINUTES)].sort((a, b) => b - a),
    hours: [...values(hour, HOURS)].sort((a, b) => b - a),
    months: values(month, MONTH),
    years: values(year, YEAR),
    day: dom === '?' ? dayOfWeekRule(dow) : dayOfMonthRule(dom),
  };
  parsedCache.set(cron, parsed);
  return parsed;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall clock at `t` in `zone`, as milliseconds of a UTC calendar (Date.UTC of the local fields). */
function wallAt(t: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/**
 * The instant local time `wall` happens in `zone`: null when the clock skips it (spring forward), the first of the
 * two when it happens twice (fall back). Offsets are read a day either side, as a zone changes its offset at most
 * once in that span.
 */
function instantOf(wall: number, zone: string): number | null {
  const offsets = new Set([wall - DAY_MS, wall, wall + DAY_MS].map((t) => wallAt(t, zone) - t));
  const instants = [...offsets].map((o) => wall - o).filter((t) => wallAt(t, zone) === wall);
  return instants.length === 0 ? null : Math.min(...instants);
}

/**
 * The latest instant at or before `now` when `cron` (six fields, without `cron( )`) fires in `timezone`, or null
 * when it fires on none of the `lookbackDays` local days before `now`'s (nor earlier on `now`'s own day).
 */
export function lastFireAt(cron: string, timezone: string, now: Date, lookbackDays = 366): Date | null {
  const rule = parse(cron);
  const nowMs = now.getTime();
  // Local times after this one cannot have happened yet; those up to SET_BACK_MS after now's wall clock may have.
  const bound = wallAt(nowMs, timezone) + SET_BACK_MS;
  const start = new Date(bound);
  let y = start.getUTCFullYear();
  let m = start.getUTCMonth() + 1;
  let d = start.getUTCDate();
  const nowWall = bound - SET_BACK_MS;
  const oldest = nowWall - (nowWall % DAY_MS) - lookbackDays * DAY_MS;
  while (Date.UTC(y, m - 1, d) >= oldest) {
    searchWork.points++;
    if (!rule.years.has(y)) {
      [y, m, d] = [y - 1, 12, 31]; // the whole year cannot match
    } else if (!rule.months.has(m)) {
      [y, m] = m === 1 ? [y - 1, 12] : [y, m - 1]; // the whole month cannot match: its last day next
      d = daysIn(y, m);
    } else {
      if (rule.day(y, m, d)) {
        const fired = latestOnDay(rule, timezone, Date.UTC(y, m - 1, d), bound, nowMs);
        if (fired !== null) return new Date(fired);
      }
      const prev = new Date(Date.UTC(y, m - 1, d) - DAY_MS);
      [y, m, d] = [prev.getUTCFullYear(), prev.getUTCMonth() + 1, prev.getUTCDate()];
    }
  }
  return null;
}

/** The latest firing on one local day at or before `nowMs`, hours first, then minutes, both descending. */
function latestOnDay(rule: Parsed, zone: string, dayWall: number, bound: number, nowMs: number): number | null {
  const earliest = rule.minutes[rule.minutes.length - 1];
  const latest = rule.minutes[0];
  for (const hour of rule.hours) {
    const hourWall = dayWall + hour * 3_600_000;
    searchWork.points++;
    if (hourWall > bound) continue;
    const first = instantOf(hourWall + earliest * MINUTE_MS, zone);
    // The hour's first firing has not happened yet: none of its later ones has (local time -> instant increases).
    if (first !== null && first > nowMs) continue;
    const last = instantOf(hourWall + latest * MINUTE_MS, zone);
    const offset = hourWall + earliest * MINUTE_MS - (first ?? NaN);
    if (last !== null && hourWall + latest * MINUTE_MS - last === offset) {
      // One offset over the whole hour (the usual case): the latest minute is found without asking Intl again.
      searchWork.points++;
      const minute = rule.minutes.find((mi) => hourWall + mi * MINUTE_MS - offset <= nowMs) as number;
      return hourWall + minute * MINUTE_MS - offset;
    }
    // The clock changes within this hour: minute by minute.
    for (const minute of rule.minutes) {
      searchWork.points++;
      const at = instantOf(hourWall + minute * MINUTE_MS, zone);
      if (at !== null && at <= nowMs) return at;
    }
  }
  return null;
}
