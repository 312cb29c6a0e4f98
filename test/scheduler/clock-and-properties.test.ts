import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../daemon/scheduler/clock.js';
import { nextFireTime } from '../../daemon/scheduler/fire-times.js';
import { localFields, resolveLocal } from '../../daemon/scheduler/zoned-time.js';
import { waitFor } from '../helpers/process.js';

describe('SystemClock', () => {
  it('fires timers and honours clearTimer', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    clock.setTimer(1, () => fired.push('a'));
    const cancelled = clock.setTimer(1, () => fired.push('cancelled'));
    clock.clearTimer(cancelled);
    clock.setTimer(-5, () => fired.push('b'));
    await waitFor(() => (fired.length >= 2 ? true : undefined), { what: 'two timers' });
    // Equal delays fire in creation order, so the cleared timer would have fired before 'b'.
    expect(fired).toEqual(['a', 'b']);
  });
});

// 2026 DST changes of these zones (IANA tzdata), so that most samples straddle one.
const TRANSITION_DAYS = [
  '2026-03-29',
  '2026-10-25', // Europe/Warsaw
  '2026-03-08',
  '2026-11-01', // America/New_York
  '2026-04-05',
  '2026-10-04', // Australia/Lord_Howe (30-minute shift)
  '2026-09-06', // America/Santiago
  '2026-09-27', // Pacific/Chatham
].map((day) => Date.parse(`${day}T00:00:00Z`));

const ZONES = [
  'UTC',
  'Europe/Warsaw',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
  'Pacific/Chatham',
];

describe('daily cron fire times (property)', () => {
  it('each day fires exactly once, at the local time or the end of a DST gap that swallowed it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.oneof(
          fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
          fc
            .tuple(
              fc.constantFrom(...TRANSITION_DAYS),
              fc.integer({ min: -60 * 3_600_000, max: 36 * 3_600_000 }),
            )
            .map(([day, offset]) => day + offset),
        ),
        (zone, hour, minute, start) => {
          const schedule = { kind: 'cron' as const, expression: `${minute} ${hour} * * *`, text: '' };
          const first = nextFireTime(schedule, zone, new Date(start));
          const second = first && nextFireTime(schedule, zone, first);
          if (!first || !second) return false;
          // Strictly later, and no day is skipped or doubled (a local day lasts 23 to 25 hours,
          // Lord Howe's half-hour shift and gap resolution included).
          const gap = second.getTime() - first.getTime();
          if (!(first.getTime() > start && gap >= 22 * 3_600_000 && gap <= 26 * 3_600_000)) return false;
          for (const fire of [first, second]) {
            const f = localFields(fire.getTime(), zone);
            if (f.hour === hour && f.minute === minute) continue;
            // Otherwise the wanted time did not exist that day and the fire is the gap's end.
            const wanted = Date.UTC(f.year, f.month - 1, f.day, hour, minute);
            if (resolveLocal(wanted, zone) !== fire.getTime()) return false;
          }
          return true;
        },
      ),
      { numRuns: 600 },
    );
  });
});
