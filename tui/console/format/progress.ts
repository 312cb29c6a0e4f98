/**
 * How far a run is, for its progress bars. The sources' row estimates are planner statistics:
 * often low, sometimes stale by the time a part is read. So a bar follows the rows read against the
 * best estimate known now (a part that read more than its estimate has at least what it read; a
 * finished part has exactly what it read), and stays below 100 % until the part or run has ended:
 * a full bar would say "done" while the data is still being read or committed.
 */
import type { RunPart } from '../../../shared/protocol.js';

/** The most a bar shows before its end: 99 %, whatever the rows say. */
export const MAX_UNFINISHED = 0.99;

/** The best estimate of a part's rows: what it read once done, else at least what it read so far. */
export function partEstimate(part: Pick<RunPart, 'rows' | 'estimated_rows' | 'status'>): number | null {
  if (part.status === 'done') return part.rows;
  if (part.estimated_rows === null) return null;
  return Math.max(part.estimated_rows, part.rows);
}

/** One bar's fraction: 1 only once what it measures has ended; null without an estimate. */
export function progressFraction(rows: number, estimated: number | null, ended: boolean): number | null {
  if (ended) return 1;
  if (estimated === null || estimated <= 0) return null;
  return Math.min(rows / Math.max(estimated, rows), MAX_UNFINISHED);
}

export interface RunProgress {
  readonly rows: number;
  /** The sum of the parts' best estimates; null while any unfinished part has none. */
  readonly estimated: number | null;
  readonly fraction: number | null;
}

/**
 * The whole run: rows read by every part against the sum of their best estimates. `runEnded` is
 * true only once the run itself has finished (committed), not when its last part was read.
 */
export function runProgress(parts: readonly RunPart[], runEnded: boolean): RunProgress {
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  const estimates = parts.map(partEstimate);
  const known = parts.length > 0 && estimates.every((e) => e !== null);
  const estimated = known ? estimates.reduce<number>((sum, e) => sum + (e ?? 0), 0) : null;
  if (runEnded) return { rows, estimated, fraction: 1 };
  if (estimated === null || estimated <= 0) return { rows, estimated, fraction: null };
  return { rows, estimated, fraction: Math.min(rows / Math.max(estimated, rows), MAX_UNFINISHED) };
}

/** Whole percent, rounded down so 99.6 % never reads 100 %. */
export function percentText(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '—';
  return `${Math.floor(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
}
