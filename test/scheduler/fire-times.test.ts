import { describe, expect, it } from 'vitest';
import { parseSchedule, type Schedule } from '../../shared/config/schedule.js';
import { fireTimesBetween, nextFireTime } from '../../daemon/scheduler/fire-times.js';
import { formatLocal, resolveLocal } from '../../daemon/scheduler/zoned-time.js';

function schedule(text: string | undefined): Schedule {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.schedule;
}

/** The next `count` fire times after `from`, as ISO strings. */
function fires(text: string, zone: string, from: string, count: number): string[] {
  const out: string[] = [];
  let cursor = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextFireTime(schedule(text), zone, cursor);
    if (next === null) break;
    out.push(next.toISOString());
    cursor = next;
  }
  return out;
}

// DST dates (IANA tzdata): Warsaw jumps 02:00 CET→03:00 CEST on 2026-03-29 (01:00Z) and falls
// back 03:00 CEST→02:00 CET on 2026-10-25 (01:00Z); New York jumps 02:00 EST→03:00 EDT on
// 2026-03-08 (07:00Z) and falls back 02:00 EDT→01:00 EST on 2026-11-01 (06:00Z).
describe('fire times across DST', () => {
  it('Warsaw spring-forward: 02:30 that does not exist fires once at 03:00 CEST', () => {
    expect(fires('30 2 * * *', 'Europe/Warsaw', '2026-03-27T12:00:00Z', 4)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // gap → 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('Warsaw fall-back: 02:30 that occurs twice fires once, at its first occurrence', () => {
    expect(fires('30 2 * * *', 'Europe/Warsaw', '2026-10-23T12:00:00Z', 4)).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // first 02:30 (CEST); the CET repeat at 01:30Z does not fire
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('Warsaw hourly across the fall-back repeats no local hour', () => {
    expect(fires('@hourly', 'Europe/Warsaw', '2026-10-24T22:30:00Z', 4)).toEqual([
      '2026-10-24T23:00:00.000Z', // 01:00 CEST
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T02:00:00.000Z', // 03:00 CET (02:00 CET is the repeat)
      '2026-10-25T03:00:00.000Z',
    ]);
  });

  it('New York spring-forward: 02:30 fires at 03:00 EDT, midnight runs unaffected', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // gap → 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    expect(fires('@daily', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual([
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
  });

  it('New York fall-back: 01:30 fires once', () => {
    expect(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 3)).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; the 01:30 EST repeat (06:30Z) does not fire
      '2026-11-02T06:30:00.000Z',
      '2026-11-03T06:30:00.000Z',
    ]);
  });

  it('a fire exactly at the gap does not fire again for the later gap times', () => {
    // */15 between 02:00 and 02:45 all fall into the gap: one run at 03:00 CEST, then 03:15.
    expect(fires('*/15 * * * *', 'Europe/Warsaw', '2026-03-29T00:40:00Z', 3)).toEqual([
      '2026-03-29T00:45:00.000Z', // 01:45 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T01:15:00.000Z',
    ]);
  });
});

describe('schedule kinds', () => {
  it('every 15m is anchored at local midnight and keeps elapsed spacing across the DST jump', () => {
    expect(fires('every 15m', 'Europe/Warsaw', '2026-06-01T08:07:00Z', 2)).toEqual([
      '2026-06-01T08:15:00.000Z',
      '2026-06-01T08:30:00.000Z',
    ]);
    expect(fires('every 15m', 'Europe/Warsaw', '2026-03-29T00:50:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T01:15:00.000Z',
      '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('every 7h re-anchors at each local midnight', () => {
    expect(fires('every 7h', 'UTC', '2026-06-01T20:00:00Z', 3)).toEqual([
      '2026-06-01T21:00:00.000Z',
      '2026-06-02T00:00:00.000Z',
      '2026-06-02T07:00:00.000Z',
    ]);
  });

  it('at … fires once in the pipeline zone, then never', () => {
    const at = schedule('at 2026-12-01T02:00');
    expect(nextFireTime(at, 'Europe/Warsaw', new Date('2026-11-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-12-01T01:00:00.000Z',
    );
    expect(nextFireTime(at, 'Europe/Warsaw', new Date('2026-12-01T01:00:00Z'))).toBeNull();
    expect(nextFireTime(at, 'America/New_York', new Date('2026-11-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-12-01T07:00:00.000Z',
    );
  });

  it('manual-only pipelines have no fire time', () => {
    expect(nextFireTime(schedule(undefined), 'UTC', new Date())).toBeNull();
    expect(nextFireTime(schedule('manual'), 'UTC', new Date())).toBeNull();
  });

  it('presets and 6-field expressions', () => {
    expect(fires('@weekly', 'UTC', '2026-06-03T00:00:00Z', 2)).toEqual([
      '2026-06-07T00:00:00.000Z',
      '2026-06-14T00:00:00.000Z',
    ]);
    expect(fires('@monthly', 'UTC', '2026-06-03T00:00:00Z', 2)).toEqual([
      '2026-07-01T00:00:00.000Z',
      '2026-08-01T00:00:00.000Z',
    ]);
    expect(fires('*/20 * * * * *', 'UTC', '2026-06-03T00:00:05Z', 3)).toEqual([
      '2026-06-03T00:00:20.000Z',
      '2026-06-03T00:00:40.000Z',
      '2026-06-03T00:01:00.000Z',
    ]);
    expect(fires('0 */2 * * *', 'Europe/Warsaw', '2026-06-03T00:10:00Z', 2)).toEqual([
      '2026-06-03T02:00:00.000Z', // 04:00 CEST
      '2026-06-03T04:00:00.000Z',
    ]);
  });

  it('day-of-month and day-of-week both restricted match either (crontab(5))', () => {
    // 13th of the month or any Friday: June 2026 has Fridays 5, 12, 19.
    expect(fires('0 0 13 * 5', 'UTC', '2026-06-04T00:00:00Z', 4)).toEqual([
      '2026-06-05T00:00:00.000Z',
      '2026-06-12T00:00:00.000Z',
      '2026-06-13T00:00:00.000Z',
      '2026-06-19T00:00:00.000Z',
    ]);
    // */2 for day-of-month starts with * and so is not a restriction: both must match.
    expect(fires('0 0 */10 * MON', 'UTC', '2026-06-01T01:00:00Z', 1)).toEqual(['2026-08-31T00:00:00.000Z']);
  });

  it('node-cron extensions: last day, nth weekday, nearest weekday', () => {
    expect(fires('0 0 L * *', 'UTC', '2028-02-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T00:00:00.000Z',
      '2028-03-31T00:00:00.000Z',
    ]);
    expect(fires('0 0 * * 1#2', 'UTC', '2026-06-01T00:00:00Z', 1)).toEqual(['2026-06-08T00:00:00.000Z']);
    expect(fires('0 0 * * 5L', 'UTC', '2026-06-01T00:00:00Z', 1)).toEqual(['2026-06-26T00:00:00.000Z']);
    // 1 Aug 2026 is a Saturday: 1W is Monday the 3rd.
    expect(fires('0 0 1W * *', 'UTC', '2026-07-02T00:00:00Z', 1)).toEqual(['2026-08-03T00:00:00.000Z']);
  });

  it('counts fire times in a window with a limit', () => {
    const hourly = schedule('@hourly');
    const within = fireTimesBetween(
      hourly,
      'UTC',
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-06-01T05:30:00Z'),
      100,
    );
    expect(within.map((d) => d.toISOString())).toEqual([
      '2026-06-01T01:00:00.000Z',
      '2026-06-01T02:00:00.000Z',
      '2026-06-01T03:00:00.000Z',
      '2026-06-01T04:00:00.000Z',
      '2026-06-01T05:00:00.000Z',
    ]);
    expect(
      fireTimesBetween(hourly, 'UTC', new Date('2026-06-01T00:00:00Z'), new Date('2026-06-09T00:00:00Z'), 3),
    ).toHaveLength(3);
  });
});

describe('zoned time', () => {
  it('resolves gap and repeated wall times', () => {
    expect(new Date(resolveLocal(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Warsaw')).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
    expect(new Date(resolveLocal(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Warsaw')).toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    expect(new Date(resolveLocal(Date.UTC(2026, 5, 1, 12, 0), 'Asia/Kolkata')).toISOString()).toBe(
      '2026-06-01T06:30:00.000Z',
    );
    expect(formatLocal(Date.parse('2026-10-25T01:30:00Z'), 'Europe/Warsaw')).toBe(
      '2026-10-25 02:30 Europe/Warsaw (UTC+01:00)',
    );
  });
});
