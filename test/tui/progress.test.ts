import { describe, expect, it } from 'vitest';
import {
  MAX_UNFINISHED,
  partEstimate,
  percentText,
  progressFraction,
  runProgress,
} from '../../tui/console/format/progress.js';
import { part } from './fixtures.js';

describe('progress against the best estimate', () => {
  it('a part follows its rows against its estimate, and at least what it read once past it', () => {
    expect(partEstimate(part({ rows: 200, estimated_rows: 1000 }))).toBe(1000);
    expect(partEstimate(part({ rows: 1500, estimated_rows: 1000 }))).toBe(1500);
    expect(partEstimate(part({ rows: 1200, estimated_rows: 1000, status: 'done' }))).toBe(1200);
    expect(partEstimate(part({ rows: 800, estimated_rows: 1000, status: 'done' }))).toBe(800);
    expect(partEstimate(part({ rows: 10, estimated_rows: null }))).toBeNull();
  });

  it('never reaches 1 before the end, however the rows compare with the estimate', () => {
    expect(progressFraction(500, 1000, false)).toBe(0.5);
    for (const [rows, estimate] of [
      [999, 1000],
      [1000, 1000],
      [1001, 1000],
      [50_000, 10],
      [999_999, 1_000_000],
    ] as const) {
      const fraction = progressFraction(rows, estimate, false);
      expect(fraction).toBeLessThanOrEqual(MAX_UNFINISHED);
      expect(percentText(fraction)).not.toBe('100%');
    }
    expect(progressFraction(10, 1000, true)).toBe(1);
    expect(progressFraction(10, null, false)).toBeNull();
    expect(progressFraction(10, 0, false)).toBeNull();
  });

  it('a run sums the best estimates of its parts and stays below 100 % until it has ended', () => {
    const parts = [
      part({ id: 'a', rows: 1000, estimated_rows: 1000, status: 'done' }),
      part({ id: 'b', rows: 1500, estimated_rows: 1000 }),
      part({ id: 'c', rows: 0, estimated_rows: 500, status: 'pending' }),
    ];
    const live = runProgress(parts, false);
    expect(live).toEqual({ rows: 2500, estimated: 3000, fraction: 2500 / 3000 });
    // Every part read, the commit not yet done: 99 %, not 100 %.
    const read = runProgress(
      parts.map((p) => ({ ...p, rows: p.estimated_rows ?? 0, status: 'done' as const })),
      false,
    );
    expect(read.fraction).toBe(MAX_UNFINISHED);
    expect(percentText(read.fraction)).toBe('99%');
    expect(runProgress(parts, true).fraction).toBe(1);
    // An unfinished part without an estimate leaves the whole without one.
    expect(runProgress([...parts, part({ id: 'd', estimated_rows: null })], false).fraction).toBeNull();
    expect(runProgress([], false).fraction).toBeNull();
  });

  it('percentages round down, so 99.6 % reads 99 %', () => {
    expect(percentText(0.996)).toBe('99%');
    expect(percentText(1)).toBe('100%');
    expect(percentText(null)).toBe('—');
  });
});
