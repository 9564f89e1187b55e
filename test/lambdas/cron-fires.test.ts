import { lastFireAt, searchWork } from '../../lambdas/shared/cron-fires';
import { poolSizesAt } from '../../lambdas/shared/fleet-sizes';
import { parseFleets } from '../../lambdas/shared/fleets';

const at = (iso: string) => new Date(iso);
const last = (cron: string, zone: string, now: string, lookbackDays?: number) => lastFireAt(cron, zone, at(now), lookbackDays)?.toISOString() ?? null;

describe('lastFireAt: when an EventBridge Scheduler cron last fired', () => {
  describe('weekday office hours in Europe/Berlin across a DST change (clocks forward 2026-03-29 02:00 CET)', () => {
    const office = '0 8 ? * MON-FRI *';
    it('a Monday before 08:00 CEST gives Friday 08:00 CET (07:00Z)', () => {
      expect(last(office, 'Europe/Berlin', '2026-03-30T05:59:00Z')).toBe('2026-03-27T07:00:00.000Z');
    });
    it('Monday 08:00 CEST is 06:00Z, and fires at that very minute', () => {
      expect(last(office, 'Europe/Berlin', '2026-03-30T06:00:00Z')).toBe('2026-03-30T06:00:00.000Z');
      expect(last(office, 'Europe/Berlin', '2026-03-30T06:00:59Z')).toBe('2026-03-30T06:00:00.000Z');
    });
    it('the weekend gives Friday', () => {
      expect(last(office, 'Europe/Berlin', '2026-03-29T12:00:00Z')).toBe('2026-03-27T07:00:00.000Z');
    });
    it('after clocks go back (2026-10-25) 08:00 CET is 07:00Z again', () => {
      expect(last(office, 'Europe/Berlin', '2026-10-26T07:30:00Z')).toBe('2026-10-26T07:00:00.000Z');
      expect(last(office, 'Europe/Berlin', '2026-10-26T06:59:00Z')).toBe('2026-10-23T06:00:00.000Z');
    });
  });

  describe('local times that do not exist or occur twice', () => {
    it('skips a local time the clock jumps over (02:30 on 2026-03-29 in Berlin): the day before fires', () => {
      expect(last('30 2 * * ? *', 'Europe/Berlin', '2026-03-29T10:00:00Z')).toBe('2026-03-28T01:30:00.000Z');
    });
    it('fires once, at the first of the two instants, for a local time that occurs twice (02:30 on 2026-10-25)', () => {
      expect(last('30 2 * * ? *', 'Europe/Berlin', '2026-10-25T00:40:00Z')).toBe('2026-10-25T00:30:00.000Z');
      expect(last('30 2 * * ? *', 'Europe/Berlin', '2026-10-25T01:45:00Z')).toBe('2026-10-25T00:30:00.000Z');
      expect(last('30 2 * * ? *', 'Europe/Berlin', '2026-10-25T00:20:00Z')).toBe('2026-10-24T00:30:00.000Z');
    });
    it('finds a firing whose local time is later than now reads, after the clock was set back', () => {
      // now is 02:15 CET (the second 02:15); 02:45 CEST (00:45Z) already happened.
      expect(last('45 2 * * ? *', 'Europe/Berlin', '2026-10-25T01:15:00Z')).toBe('2026-10-25T00:45:00.000Z');
    });
    it('looks at local hours after now\'s when the clock went back two hours (Antarctica/Troll, 03:00 +02 -> 01:00 +00)', () => {
      // now reads 01:40 (+00); 02:30 (+02) was 00:30Z, before it.
      expect(last('30 2 * * ? *', 'Antarctica/Troll', '2026-10-25T01:40:00Z')).toBe('2026-10-25T00:30:00.000Z');
    });
    it('reads the cron in the zone: America/New_York 09:00 is 13:00Z in summer and 14:00Z in winter', () => {
      expect(last('0 9 * * ? *', 'America/New_York', '2026-07-01T20:00:00Z')).toBe('2026-07-01T13:00:00.000Z');
      expect(last('0 9 * * ? *', 'America/New_York', '2026-12-01T20:00:00Z')).toBe('2026-12-01T14:00:00.000Z');
    });
  });

  describe('day-of-month and day-of-week forms', () => {
    it('L is the last day of the month, leap years included', () => {
      expect(last('0 0 L * ? *', 'UTC', '2026-03-15T00:00:00Z')).toBe('2026-02-28T00:00:00.000Z');
      expect(last('0 0 L * ? *', 'UTC', '2028-03-10T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    });
    it('LW is the last weekday (May 2026 ends on a Sunday: Friday the 29th)', () => {
      expect(last('0 6 LW * ? *', 'UTC', '2026-06-10T00:00:00Z')).toBe('2026-05-29T06:00:00.000Z');
    });
    it('nW is the weekday nearest day n, without leaving the month', () => {
      // 2026-08-15 is a Saturday: Friday the 14th.
      expect(last('0 9 15W * ? *', 'UTC', '2026-08-20T00:00:00Z')).toBe('2026-08-14T09:00:00.000Z');
      // 2026-08-01 is a Saturday: not Friday July 31 but Monday the 3rd.
      expect(last('0 9 1W * ? *', 'UTC', '2026-08-10T00:00:00Z')).toBe('2026-08-03T09:00:00.000Z');
      // 2026-05-31 is a Sunday: not Monday June 1 but Friday the 29th.
      expect(last('0 9 31W * ? *', 'UTC', '2026-06-10T00:00:00Z')).toBe('2026-05-29T09:00:00.000Z');
      // April has no day 31: 31W fires in no day of it.
      expect(last('0 9 31W 4 ? *', 'UTC', '2026-12-01T00:00:00Z')).toBeNull();
    });
    it('n#k is the k-th day n of the month; nL its last; L the last day of the week (SAT)', () => {
      expect(last('0 9 ? * MON#1 *', 'UTC', '2026-06-20T00:00:00Z')).toBe('2026-06-01T09:00:00.000Z');
      expect(last('0 9 ? * 2#5 *', 'UTC', '2026-07-10T00:00:00Z')).toBe('2026-06-29T09:00:00.000Z');
      expect(last('0 17 ? * 6L *', 'UTC', '2026-07-10T00:00:00Z')).toBe('2026-06-26T17:00:00.000Z');
      expect(last('0 10 ? * L *', 'UTC', '2026-06-03T00:00:00Z')).toBe('2026-05-30T10:00:00.000Z');
    });
  });

  describe('lists, ranges and steps', () => {
    it('*/15 within 7-18 on weekdays', () => {
      expect(last('*/15 7-18 ? * MON-FRI *', 'UTC', '2026-06-03T12:07:00Z')).toBe('2026-06-03T12:00:00.000Z');
      expect(last('*/15 7-18 ? * MON-FRI *', 'UTC', '2026-06-03T19:30:00Z')).toBe('2026-06-03T18:45:00.000Z');
      expect(last('*/15 7-18 ? * MON-FRI *', 'UTC', '2026-06-03T06:59:00Z')).toBe('2026-06-02T18:45:00.000Z');
    });
    it('a/n runs from a to the field end; a-b/n within the range', () => {
      expect(last('5/20 8-18/2 * * ? *', 'UTC', '2026-06-03T11:30:00Z')).toBe('2026-06-03T10:45:00.000Z');
      expect(last('0 0 1/10 * ? *', 'UTC', '2026-06-30T12:00:00Z')).toBe('2026-06-21T00:00:00.000Z');
      expect(last('0 0 1 1-12/5 ? *', 'UTC', '2026-10-15T00:00:00Z')).toBe('2026-06-01T00:00:00.000Z');
    });
    it('lists and names', () => {
      expect(last('5,35 8,16 1,15 JAN-MAR,OCT ? *', 'UTC', '2026-06-01T00:00:00Z')).toBe('2026-03-15T16:35:00.000Z');
    });
  });

  describe('the year field and the lookback', () => {
    it('a year in the past fires only within the lookback', () => {
      expect(last('0 0 1 1 ? 2024', 'UTC', '2026-06-01T00:00:00Z')).toBeNull();
      expect(last('0 0 1 1 ? 2024', 'UTC', '2026-06-01T00:00:00Z', 1000)).toBe('2024-01-01T00:00:00.000Z');
    });
    it('a year still to come has not fired', () => {
      expect(last('0 0 1 1 ? 2199', 'UTC', '2026-06-01T00:00:00Z')).toBeNull();
    });
    it('year steps: 2020/3 fires in 2026, not 2025', () => {
      expect(last('0 0 1 1 ? 2020/3', 'UTC', '2026-06-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000Z');
      expect(last('0 0 1 1 ? 2020/3', 'UTC', '2025-12-31T00:00:00Z', 1100)).toBe('2023-01-01T00:00:00.000Z');
    });
    it('null when nothing fires within the lookback (29 February, last in 2024)', () => {
      expect(last('0 0 29 2 ? *', 'UTC', '2026-06-01T00:00:00Z')).toBeNull();
      expect(last('0 0 29 2 ? *', 'UTC', '2026-06-01T00:00:00Z', 900)).toBe('2024-02-29T00:00:00.000Z');
    });
    it('a day exactly lookbackDays before now is searched; the one before is not', () => {
      expect(last('0 12 1 6 ? *', 'UTC', '2026-06-03T00:00:00Z', 2)).toBe('2026-06-01T12:00:00.000Z');
      expect(last('0 12 1 6 ? *', 'UTC', '2026-06-03T00:00:00Z', 1)).toBeNull();
    });
  });

  describe('work, counted in candidate points (days, hours, minutes looked at), not time', () => {
    const work = (cron: string, zone: string, now: string) => {
      const before = searchWork.points;
      lastFireAt(cron, zone, at(now));
      return searchWork.points - before;
    };
    it('a yearly cron skips the months that cannot match', () => {
      expect(work('0 0 1 JAN ? *', 'Europe/Berlin', '2026-12-31T22:00:00Z')).toBeLessThan(60);
    });
    it('a cron that never fires in the lookback costs some hundreds of points, not a year of minutes', () => {
      expect(work('0 0 ? * MON#5 2025', 'UTC', '2026-06-30T00:00:00Z')).toBeLessThan(400);
      expect(work('0 0 29 2 ? *', 'UTC', '2026-06-01T00:00:00Z')).toBeLessThan(100);
    });
    it('an every-minute cron and office hours in the evening find their answer in a few points', () => {
      expect(work('* * * * ? *', 'Europe/Berlin', '2026-06-03T12:34:00Z')).toBeLessThan(15);
      expect(work('*/15 7-18 ? * MON-FRI *', 'Europe/Berlin', '2026-06-05T21:00:00Z')).toBeLessThan(40);
    });
  });
});

describe('poolSizesAt: the schedule that fired most recently decides', () => {
  const fleet = parseFleets(
    {
      linux: {
        imageId: 'ami-0123456789abcdef0',
        instanceTypes: ['c7i.large'],
        market: 'on-demand',
        hotPool: 1,
        stoppedPool: 1,
        maxConcurrent: 20,
        maxQueueMinutes: 10,
        schedules: [
          { cron: '0 8 ? * MON-FRI *', timezone: 'Europe/Berlin', hotPool: 6, stoppedPool: 3 },
          { cron: '0 19 ? * MON-FRI *', timezone: 'Europe/Berlin', hotPool: 0, stoppedPool: 2 },
        ],
      },
    },
    'fleets',
  ).linux;

  it('office-hours sizes at 10:00 on a weekday, with no firing seen since deployment', () => {
    expect(poolSizesAt(fleet, at('2026-06-03T08:00:00Z'))).toEqual({ hotPool: 6, stoppedPool: 3, schedule: 0 });
  });
  it('evening sizes from 19:00 until 08:00, over the weekend too', () => {
    expect(poolSizesAt(fleet, at('2026-06-03T17:00:00Z'))).toEqual({ hotPool: 0, stoppedPool: 2, schedule: 1 });
    expect(poolSizesAt(fleet, at('2026-06-06T12:00:00Z'))).toEqual({ hotPool: 0, stoppedPool: 2, schedule: 1 });
    expect(poolSizesAt(fleet, at('2026-06-08T05:59:00Z'))).toEqual({ hotPool: 0, stoppedPool: 2, schedule: 1 });
  });
  it("the fleet's own sizes when no schedule fired within the lookback", () => {
    const future = { ...fleet, schedules: [{ ...fleet.schedules[0], cron: '0 8 ? * MON-FRI 2199' }] };
    expect(poolSizesAt(future, at('2026-06-03T08:00:00Z'))).toEqual({ hotPool: 1, stoppedPool: 1, schedule: null });
    expect(poolSizesAt({ ...fleet, schedules: [] }, at('2026-06-03T08:00:00Z'))).toEqual({ hotPool: 1, stoppedPool: 1, schedule: null });
  });
  it('two schedules firing at the same instant: the one listed later wins', () => {
    const tie = { ...fleet, schedules: [fleet.schedules[0], { ...fleet.schedules[1], cron: '0 7 ? * MON-FRI *', timezone: 'Europe/London' }] };
    expect(poolSizesAt(tie, at('2026-06-03T08:00:00Z')).schedule).toBe(1);
  });
});
