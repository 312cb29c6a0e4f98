/** Human renderings of run listings (`history`, `runs`) and of the operator changes (`history --changes`). */
import type { RunRecord, StateChange } from '../../shared/protocol.js';
import { colorStatus, durationBetween, formatCount, formatTime, renderTable, type Style } from './format.js';
import { anyCheckNotPassed, checksCell } from './render-checks.js';

/** `full refresh`, `backfill`, or `-` for a normal run. */
export function kindText(run: RunRecord): string {
  switch (run.kind) {
    case 'normal':
      return '-';
    case 'full_refresh':
      return 'full refresh';
    case 'backfill':
      return 'backfill';
  }
}

/** `backfill of [from, to) on shard s1`, for the detail of one run (null for a normal run). */
export function kindDetail(run: RunRecord): string | null {
  if (run.kind === 'full_refresh') return 'full refresh: everything read again, the destination replaced';
  if (run.kind !== 'backfill' || run.backfill === null) return null;
  const shard = run.backfill.shard === null ? '' : ` on shard ${run.backfill.shard}`;
  return `backfill of [${run.backfill.from}, ${run.backfill.to})${shard}`;
}

function runTable(runs: readonly RunRecord[], style: Style, now: Date, withPipeline: boolean): string {
  // These columns only earn their width when some listed run needs them.
  const withChecks = anyCheckNotPassed(runs);
  const withKind = runs.some((r) => r.kind !== 'normal');
  const rows = runs.map((r) => [
    r.id,
    ...(withPipeline ? [r.pipeline] : []),
    colorStatus(r.status, style),
    ...(withKind ? [kindText(r)] : []),
    r.trigger,
    String(r.attempt),
    formatTime(r.started_at),
    durationBetween(r.started_at, r.finished_at, now),
    `${formatCount(r.rows_extracted)}/${formatCount(r.rows_loaded)}`,
    ...(withChecks ? [checksCell(r, style)] : []),
    r.error ? style.red(`${r.error.code}: ${r.error.message}`) : '',
  ]);
  return renderTable(
    [
      'RUN',
      ...(withPipeline ? ['PIPELINE'] : []),
      'STATUS',
      ...(withKind ? ['KIND'] : []),
      'TRIGGER',
      'ATTEMPTS',
      'STARTED',
      'TOOK',
      'ROWS IN/OUT',
      ...(withChecks ? ['CHECKS'] : []),
      'ERROR',
    ],
    rows,
    style,
  );
}

export function renderHistory(runs: readonly RunRecord[], style: Style, now: Date): string {
  if (runs.length === 0) return 'no runs yet\n';
  return runTable(runs, style, now, false);
}

/** `etlctl runs`: runs of every pipeline, newest first. */
export function renderRuns(runs: readonly RunRecord[], style: Style, now: Date): string {
  if (runs.length === 0) return 'no runs match\n';
  return runTable(runs, style, now, true);
}

/** One line per shard a change touched: when, what, who, and the value before and after. */
export function renderChanges(changes: readonly StateChange[], style: Style): string {
  if (changes.length === 0) return 'no operator changes\n';
  const rows = changes.flatMap((c) => {
    const base = [formatTime(c.at), `watermark ${c.action}`, c.by ?? '-'];
    if (c.shards.length === 0) return [[...base, '-', c.detail]];
    return c.shards.map((s) => [...base, s.shard, `${s.old ?? '(none)'} → ${s.new ?? '(none)'}`]);
  });
  return renderTable(['CHANGED', 'ACTION', 'BY', 'SHARD', 'OLD → NEW'], rows, style);
}
