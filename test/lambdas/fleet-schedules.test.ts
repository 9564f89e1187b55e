import { cronProblem, timeZoneProblem } from '../../lambdas/shared/cron';
import { parseFleets } from '../../lambdas/shared/fleets';

/** A fleet whose one schedule fires at `cron` in `timezone`. */
const withSchedule = (cron: unknown, timezone: unknown = 'Europe/Berlin') =>
  parseFleets(
    {
      linux: {
        imageId: 'ami-0123456789abcdef0',
        instanceTypes: ['c7i.large'],
        market: 'on-demand',
        hotPool: 0,
        stoppedPool: 0,
        maxConcurrent: 10,
        maxQueueMinutes: 10,
        schedules: [{ cron, timezone, hotPool: 4, stoppedPool: 2 }],
      },
    },
    'fleets',
  );

describe('fleet schedules: EventBridge Scheduler cron and time zones', () => {
  it.each([
    '0 8 ? * MON-FRI *',
    '0 19 ? * MON-FRI *',
    '*/15 7-18 ? * MON-FRI *',
    '0/10 * ? * * *',
    '0 0 L * ? *',
    '0 6 LW * ? *',
    '30 7 15W * ? *',
    '0 9 ? * 2#1 *',
    '0 9 ? * FRI#3 *',
    '0 17 ? * 6L 2026-2030',
    '0 12 1,15 JAN-MAR,OCT ? *',
    '5,35 8,12,16 * * ? 2027',
    '0 8-18/2 1/7 1-12/3 ? 2026/2',
  ])('takes the cron %s', (cron) => {
    expect(cronProblem(cron)).toBeNull();
    expect(withSchedule(cron).linux.schedules[0].cron).toBe(cron);
  });

  it.each<[string, string]>([
    ['cron(0 8 ? * MON-FRI *)', 'six cron fields separated by single spaces: minutes hours day-of-month month day-of-week year (without cron( ))'],
    ['0 8 ? * MON-FRI', 'six cron fields separated by single spaces: minutes hours day-of-month month day-of-week year (without cron( ))'],
    ['0  8 ? * MON-FRI *', 'six cron fields separated by single spaces: minutes hours day-of-month month day-of-week year (without cron( ))'],
    ['0 8 * * MON-FRI *', 'an EventBridge Scheduler cron with ? in exactly one of day-of-month and day-of-week'],
    ['0 8 ? * ? *', 'an EventBridge Scheduler cron with ? in exactly one of day-of-month and day-of-week'],
    ['60 8 ? * * *', 'an EventBridge Scheduler cron whose minutes field is valid (0-59), not "60"'],
    ['0 24 ? * * *', 'an EventBridge Scheduler cron whose hours field is valid (0-23), not "24"'],
    ['0 8 0 * ? *', 'an EventBridge Scheduler cron whose day-of-month field is valid (1-31), not "0"'],
    ['0 8 32W * ? *', 'an EventBridge Scheduler cron whose day-of-month field is valid (1-31), not "32W"'],
    ['0 8 1 13 ? *', 'an EventBridge Scheduler cron whose month field is valid (1-12 or JAN-DEC), not "13"'],
    ['0 8 ? * 8 *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "8"'],
    ['0 8 ? * mon-fri *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "mon-fri"'],
    ['0 8 ? * FRI-MON *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "FRI-MON"'],
    ['0 8 ? * 2#6 *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "2#6"'],
    ['0 8 ? * 2#1,6#3 *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "2#1,6#3"'],
    ['0 8 ? * * 1969', 'an EventBridge Scheduler cron whose year field is valid (1970-2199), not "1969"'],
    ['0 8 ? * * 2200', 'an EventBridge Scheduler cron whose year field is valid (1970-2199), not "2200"'],
    ['0/0 8 ? * * *', 'an EventBridge Scheduler cron whose minutes field is valid (0-59), not "0/0"'],
    ['0 8-12-14 ? * * *', 'an EventBridge Scheduler cron whose hours field is valid (0-23), not "8-12-14"'],
    ['0 8 ? * MON-FRI/2 *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "MON-FRI/2"'],
    ['0 8 ? * L# *', 'an EventBridge Scheduler cron whose day-of-week field is valid (1-7 or SUN-SAT), not "L#"'],
  ])('refuses the cron %s, naming the path and echoing it', (cron, expected) => {
    expect(() => withSchedule(cron)).toThrow(`fleets.linux.schedules[0].cron must be ${expected}, got ${JSON.stringify(cron)}`);
  });

  it('refuses a cron that is not text', () => {
    expect(() => withSchedule(8)).toThrow('fleets.linux.schedules[0].cron must be six cron fields such as "0 8 ? * MON-FRI *", got 8');
  });

  it.each(['Europe/Berlin', 'UTC', 'America/New_York', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'Etc/GMT+9'])('takes the time zone %s', (zone) => {
    expect(timeZoneProblem(zone)).toBeNull();
    expect(withSchedule('0 8 ? * MON-FRI *', zone).linux.schedules[0].timezone).toBe(zone);
  });

  it.each(['europe/berlin', 'Europe/BERLIN', 'Mars/Olympus_Mons', '+01:00', 'UTC ', '', `America/${'X'.repeat(50)}`, 7])('refuses the time zone %j', (zone) => {
    expect(() => withSchedule('0 8 ? * MON-FRI *', zone)).toThrow(
      `fleets.linux.schedules[0].timezone must be an IANA time zone name such as Europe/Berlin${typeof zone === 'string' ? ', America/New_York or UTC' : ''}, got ${JSON.stringify(zone)}`,
    );
  });
});
