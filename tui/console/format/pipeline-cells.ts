/** What each table cell says about a pipeline, as text plus the colour of its meaning. */
import { LAST_GOOD_MARK } from '../../../shared/file-status-words.js';
import type { PipelineSummary } from '../../../shared/protocol.js';
import type { PipelineState } from '../../../shared/types.js';
import type { Progress } from '../state/view-state.js';
import { pipelineStateColor, runStatusColor, runStatusWord, type ColorName } from './colors.js';
import { formatCount, formatRate } from './numbers.js';
import { describeNextRun, describeSchedule } from './schedule-words.js';
import { durationSeconds, formatElapsed, formatRelative, formatRelativeShort } from './time.js';

export interface CellText {
  readonly text: string;
  readonly color?: ColorName;
}

/** `paused` reads better than `idle` for a paused pipeline; problems stay visible while paused. */
export function displayState(pipeline: PipelineSummary): PipelineState | 'paused' {
  if (pipeline.paused && (pipeline.state === 'idle' || pipeline.state === 'waiting')) return 'paused';
  return pipeline.state;
}

/**
 * An idle pipeline whose data is older than its freshness reads `stale` (red); busier states win.
 * A pipeline running the last good version of a file that is invalid now is flagged `idle*`, in
 * the colour of invalid files, whatever its state (the detail view says why).
 */
export function stateCell(pipeline: PipelineSummary): CellText {
  const state = displayState(pipeline);
  const text = state === 'idle' && pipeline.freshness?.stale === true ? 'stale' : state;
  if (pipeline.file_status === 'last_good')
    return { text: `${text}${LAST_GOOD_MARK}`, color: pipelineStateColor('invalid') };
  if (text === 'stale') return { text, color: 'red' };
  return { text, color: pipelineStateColor(state) };
}

/** The detail view's freshness line; null without a freshness check. */
export function freshnessLine(pipeline: PipelineSummary, nowMs: number): CellText | null {
  const f = pipeline.freshness;
  if (!f) return null;
  const threshold = formatElapsed(f.threshold_s);
  if (!f.stale) return { text: `freshness: fresh (last success within ${threshold})`, color: 'green' };
  const since = f.stale_since === null ? '' : ` since ${formatRelative(f.stale_since, nowMs)}`;
  return { text: `freshness: STALE${since}: no successful run for more than ${threshold}`, color: 'red' };
}

/**
 * The daemon's words for the schedule (they name the timezone), or the console's shorter ones
 * for narrow cells; an expression neither can put into words is shown as written.
 */
export function scheduleWords(pipeline: PipelineSummary, compact = false): string {
  const own = describeSchedule(pipeline.schedule);
  const ownIsWords = own !== (pipeline.schedule ?? '').trim();
  // `min` keeps "every 30 min, in 12m" inside an 80-column table.
  if (compact && ownIsWords) return own.replace(/ minutes?\b/, ' min');
  return pipeline.schedule_human ?? own;
}

export function nextRunCell(pipeline: PipelineSummary, nowMs: number): CellText {
  return { text: pipeline.next_run_at === null ? '—' : formatRelative(pipeline.next_run_at, nowMs) };
}

export function scheduleAndNextCell(pipeline: PipelineSummary, nowMs: number, compact = false): CellText {
  return {
    text: describeNextRun(
      scheduleWords(pipeline, true),
      pipeline.next_run_at,
      nowMs,
      pipeline.paused,
      compact,
    ),
  };
}

export function lastRunCell(pipeline: PipelineSummary, nowMs: number): CellText {
  const run = pipeline.last_run;
  if (run === null) return { text: 'never' };
  const at = run.finished_at ?? run.started_at;
  return {
    text: `${runStatusWord(run.status)} ${formatRelativeShort(at, nowMs)}`,
    color: runStatusColor(run.status),
  };
}

export function durationCell(pipeline: PipelineSummary, nowMs: number): CellText {
  const run = pipeline.last_run;
  const seconds = run === null ? null : durationSeconds(run.started_at, run.finished_at, nowMs);
  return { text: seconds === null ? '—' : formatElapsed(seconds) };
}

/** Live rows while a run is active, else the last run's loaded rows. */
export function rowsCell(pipeline: PipelineSummary, progress: Progress | undefined): CellText {
  if (progress !== undefined) return { text: formatCount(progress.rows), color: 'cyan' };
  const run = pipeline.last_run;
  return { text: run === null ? '—' : formatCount(run.rows_loaded) };
}

/** Live rows/s while a run is active, else the last run's average. */
export function throughputCell(
  pipeline: PipelineSummary,
  progress: Progress | undefined,
  nowMs: number,
): CellText {
  if (progress !== undefined) return { text: formatRate(progress.rows_per_s), color: 'cyan' };
  const run = pipeline.last_run;
  if (run === null || run.finished_at === null) return { text: '—' };
  const seconds = durationSeconds(run.started_at, run.finished_at, nowMs);
  return { text: seconds === null || seconds <= 0 ? '—' : formatRate(run.rows_loaded / seconds) };
}
