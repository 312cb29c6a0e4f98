import { describe, expect, it } from 'vitest';
import { configSummary } from '../../tui/console/format/config-summary.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { formatCount, formatPercent, formatRate } from '../../tui/console/format/numbers.js';
import { describeNextRun, describeSchedule } from '../../tui/console/format/schedule-words.js';
import { clip, fit, wrapItems } from '../../tui/console/format/text.js';
import {
  durationSeconds,
  etaSeconds,
  formatElapsed,
  formatRelative,
  formatRelativeShort,
} from '../../tui/console/format/time.js';
import { NOW, iso } from './fixtures.js';

describe('numbers', () => {
  it('compacts counts to at most six characters', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(1000)).toBe('1k');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(999_999)).toBe('1M');
    expect(formatCount(99_960)).toBe('100k');
    expect(formatCount(4_500_000)).toBe('4.5M');
    expect(formatCount(123_456_789_012)).toBe('123G');
    expect(formatCount(-2500)).toBe('-2.5k');
    expect(formatCount(Number.NaN)).toBe('—');
  });

  it('formats rates, bytes and percentages, with a dash for the unknown', () => {
    expect(formatRate(null)).toBe('—');
    expect(formatRate(-1)).toBe('—');
    expect(formatRate(0)).toBe('0 r/s');
    expect(formatRate(2.345)).toBe('2.3 r/s');
    expect(formatRate(12_300)).toBe('12.3k r/s');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(120 * 1024 ** 3)).toBe('120 GiB');
    expect(formatBytes(-5)).toBe('—');
    expect(formatPercent(0.756)).toBe('76%');
    expect(formatPercent(1.7)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('time', () => {
  it('says elapsed time in the two largest units', () => {
    expect(formatElapsed(37)).toBe('37s');
    expect(formatElapsed(245)).toBe('4m 05s');
    expect(formatElapsed(7380)).toBe('2h 03m');
    expect(formatElapsed(3 * 86_400 + 4 * 3600 + 5)).toBe('3d 4h');
    expect(formatElapsed(-1)).toBe('—');
  });

  it('says relative times in the future and the past', () => {
    expect(formatRelative(iso(37 * 60), NOW)).toBe('in 37 min');
    expect(formatRelative(iso(-5 * 60), NOW)).toBe('5 min ago');
    expect(formatRelative(iso(-3 * 3600), NOW)).toBe('3 h ago');
    expect(formatRelative(iso(5 * 86_400), NOW)).toBe('in 5 d');
    expect(formatRelative(iso(0), NOW)).toBe('now');
    expect(formatRelative(null, NOW)).toBe('—');
    expect(formatRelative('not a time', NOW)).toBe('—');
    expect(formatRelativeShort(iso(37 * 60), NOW)).toBe('in 37m');
    expect(formatRelativeShort(iso(-45), NOW)).toBe('45s ago');
  });

  it('computes durations and ETAs only when they are knowable', () => {
    expect(durationSeconds(iso(-90), iso(-30), NOW)).toBe(60);
    expect(durationSeconds(iso(-90), null, NOW)).toBe(90);
    expect(durationSeconds(null, iso(0), NOW)).toBeNull();
    expect(durationSeconds(iso(0), iso(-10), NOW)).toBeNull();
    expect(etaSeconds(1000, 100)).toBe(10);
    expect(etaSeconds(1000, 0)).toBeNull();
    expect(etaSeconds(null, 100)).toBeNull();
    expect(etaSeconds(-5, 100)).toBeNull();
  });
});

describe('schedule words', () => {
  it.each([
    ['0 */2 * * *', 'every 2 hours'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['*/1 * * * *', 'every minute'],
    ['* * * * *', 'every minute'],
    ['0 * * * *', 'hourly'],
    ['30 * * * *', 'hourly at :30'],
    ['30 2 * * *', 'daily at 02:30'],
    ['0 6 * * 1', 'weekly on Monday at 06:00'],
    ['0 6 * * 1-5', 'weekdays at 06:00'],
    ['0 3 1 * *', 'monthly on day 1 at 03:00'],
    ['0 30 2 * * *', 'daily at 02:30'],
    ['@daily', 'daily at 00:00'],
    ['@hourly', 'hourly'],
    ['every 15m', 'every 15 minutes'],
    ['every 1h', 'every hour'],
    ['every 2d', 'every 2 days'],
    ['at 2026-12-01T02:00', 'once at 2026-12-01 02:00'],
    ['manual', 'manual'],
  ])('%s → %s', (schedule, words) => {
    expect(describeSchedule(schedule)).toBe(words);
  });

  it('shows unusual expressions verbatim instead of guessing', () => {
    expect(describeSchedule('0 9-17 * * *')).toBe('0 9-17 * * *');
    expect(describeSchedule('0 0 1 1 *')).toBe('0 0 1 1 *');
    expect(describeSchedule('15 30 2 * * *')).toBe('15 30 2 * * *');
    expect(describeSchedule('every soon')).toBe('every soon');
    expect(describeSchedule(null)).toBe('manual');
  });

  it('joins the schedule with the next run', () => {
    expect(describeNextRun('every 2 hours', iso(37 * 60), NOW, false)).toBe('every 2 hours, in 37 min');
    expect(describeNextRun('every 2 hours', iso(37 * 60), NOW, false, true)).toBe('every 2 hours, in 37m');
    expect(describeNextRun('every 2 hours', iso(37 * 60), NOW, true)).toBe('every 2 hours, paused');
    expect(describeNextRun('manual', null, NOW, false)).toBe('manual');
  });
});

describe('text', () => {
  it('fits text to a width, marking cuts', () => {
    expect(fit('orders', 8)).toBe('orders  ');
    expect(fit('orders', 8, 'right')).toBe('  orders');
    expect(fit('customers_eu', 8)).toBe('custome…');
    expect(fit('abc', 1)).toBe('…');
    expect(fit('abc', 0)).toBe('');
    expect(clip('abc', 5)).toBe('abc');
    expect(clip('abcdef', 4)).toBe('abc…');
  });

  it('wraps key hints without splitting one', () => {
    expect(wrapItems(['s start', 'x stop', 'q quit'], 16)).toEqual([['s start', 'x stop'], ['q quit']]);
    expect(wrapItems(['a very long hint'], 5)).toEqual([['a very long hint']]);
    expect(wrapItems([], 80)).toEqual([]);
  });
});

describe('config summary', () => {
  it('picks structural fields and ignores everything else', () => {
    const summary = configSummary({
      source: {
        table: 'dbo.orders',
        key: ['id'],
        chunk_rows: 1_000_000,
        parallelism: 4,
        shards: [{ name: 's1' }, { name: 's2' }],
        connection: { password_env: 'SHOP_DB_PASSWORD', host: 'db1' },
      },
      load: { cursor: 'updated_at' },
      destination: { table: 'orders' },
    });
    expect(summary).toEqual([
      'table dbo.orders',
      '2 shards',
      'key id',
      'cursor updated_at',
      'chunk_rows 1,000,000',
      'parallelism 4',
      '→ table orders',
    ]);
    expect(summary.join(' ')).not.toContain('SHOP_DB_PASSWORD');
  });

  it('copes with odd shapes', () => {
    expect(configSummary(null)).toEqual([]);
    expect(configSummary({ source: 'oops', load: [1, 2] })).toEqual([]);
    expect(configSummary({ source: { query: 'SELECT 1', key: [1, 2] } })).toEqual(['custom query']);
  });
});
