import type {
  DaemonInfo,
  MethodResult,
  PipelineStatus,
  PipelineSummary,
  Plan,
  RunDetail,
  RunRecord,
} from '../../shared/protocol.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { watermarkText } from '../../shared/format-watermarks.js';
import {
  colorStatus,
  durationBetween,
  formatCount,
  formatRelative,
  formatSpan,
  formatTime,
  renderFields,
  renderTable,
  type Style,
} from './format.js';
import { renderChecks } from './render-checks.js';
import { renderPlanCost, renderPlanFiles } from './render-plan-files.js';
import { planTablesTally, renderPlanTables } from './render-tables.js';
import { LAST_GOOD_MARK, lastGoodNote } from '../../shared/file-status-words.js';
import { configFields, listNotes } from './render-config.js';
import { kindDetail, renderChanges } from './render-runs.js';

/** Human renderings of the daemon's answers; `--json` prints the answers themselves. */

function lastRunText(run: RunRecord | null, style: Style, now: Date): string {
  if (run === null) return '-';
  return `${colorStatus(run.status, style)} ${formatRelative(run.finished_at ?? run.started_at, now)}`;
}

/** `hostColumn`: a HOST column, the host running each pipeline's current run (in a fleet). */
export function renderList(
  pipelines: readonly PipelineSummary[],
  style: Style,
  now: Date,
  options: { readonly hostColumn: boolean } = { hostColumn: false },
): string {
  if (pipelines.length === 0)
    return 'no pipelines (put *.yaml files in the pipelines directory, then: etlctl reload)\n';
  const rows = pipelines.map((p) => [
    p.name,
    `${colorStatus(p.paused && p.state !== 'paused' ? `${p.state} (paused)` : p.state, style)}${
      p.file_status === 'last_good' ? style.red(LAST_GOOD_MARK) : ''
    }${p.freshness?.stale ? `, ${style.red('stale')}` : ''}`,
    ...(options.hostColumn ? [p.host ?? '-'] : []),
    p.schedule ?? 'manual',
    p.paused ? '-' : formatRelative(p.next_run_at, now),
    lastRunText(p.last_run, style, now),
    p.last_run ? formatCount(p.last_run.rows_loaded) : '-',
  ]);
  const headers = [
    'NAME',
    'STATE',
    ...(options.hostColumn ? ['HOST'] : []),
    'SCHEDULE',
    'NEXT RUN',
    'LAST RUN',
    'ROWS',
  ];
  const table = renderTable(headers, rows, style);
  const notes = listNotes(pipelines, style);
  return notes.length === 0 ? table : `${table}\n${notes.join('\n')}\n`;
}

function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** `fresh (within 2h)` or `STALE since … (freshness 2h)`. */
function freshnessText(f: NonNullable<PipelineSummary['freshness']>, style: Style, now: Date): string {
  const threshold = formatSpan(f.threshold_s * 1000);
  if (!f.stale) return `fresh (last success within ${threshold})`;
  const since =
    f.stale_since === null
      ? ''
      : ` since ${formatTime(f.stale_since)} (${formatRelative(f.stale_since, now)})`;
  return style.red(`STALE${since}: no successful run for more than ${threshold}`);
}

export function renderStatus(s: PipelineStatus, style: Style, now: Date): string {
  const fields: [string, string][] = [
    ['state', `${colorStatus(s.state, style)}${s.paused ? ' (paused)' : ''}`],
    [
      'schedule',
      s.schedule === null
        ? 'manual'
        : `${s.schedule}${s.schedule_human ? ` (${s.schedule_human})` : ''}, ${s.timezone}`,
    ],
    [
      'next run',
      s.next_run_at === null ? '-' : `${formatTime(s.next_run_at)} (${formatRelative(s.next_run_at, now)})`,
    ],
    [
      'last run',
      s.last_run === null
        ? '-'
        : `${s.last_run.id} ${lastRunText(s.last_run, style, now)}, ${formatCount(s.last_run.rows_loaded)} rows`,
    ],
    ['flow', `${s.source ?? '?'} → ${s.destination ?? '?'}${s.mode ? ` (${s.mode})` : ''}`],
    ['watermark', watermarkText(s.watermarks)],
    ['file', s.file],
    [
      'runs 24h',
      `${s.stats.runs_24h} (${s.stats.failures_24h} failed, ${percent(s.stats.success_rate_24h)} ok)`,
    ],
    ['runs 7d', `${s.stats.runs_7d} (${s.stats.failures_7d} failed, ${percent(s.stats.success_rate_7d)} ok)`],
    ['mean duration', s.stats.mean_duration_s === null ? '-' : formatSpan(s.stats.mean_duration_s * 1000)],
    ['last success', formatTime(s.stats.last_success_at)],
  ];
  if (s.freshness) fields.push(['freshness', freshnessText(s.freshness, style, now)]);
  if (s.description) fields.unshift(['description', s.description]);
  if (s.stats.last_error)
    fields.push(['last error', style.red(`${s.stats.last_error.code}: ${s.stats.last_error.message}`)]);
  const lastGood = lastGoodNote(s);
  if (lastGood !== null) fields.unshift(['file status', style.red(lastGood)]);
  let out = `${style.bold(s.name)}\n${renderFields(fields, style)}`;
  if (s.problems.length > 0) {
    const heading =
      lastGood === null ? 'problems:' : 'problems of the file (the last good version keeps running):';
    out += `\n${style.red(heading)}\n${s.problems.map((p) => `  ${p}`).join('\n')}\n`;
  }
  const warnings = s.warnings ?? [];
  if (warnings.length > 0)
    out += `\n${style.yellow('warnings:')}\n${warnings.map((w) => `  ${w}`).join('\n')}\n`;
  if (s.why.length > 0) out += `\nwhy:\n${s.why.map((l) => `  ${l}`).join('\n')}\n`;
  if (s.current_run) out += `\ncurrent run:\n${renderRun(s.current_run, style, now)}`;
  return out;
}

export function renderInfo(info: DaemonInfo, style: Style): string {
  const pipelines = Object.entries(info.pipelines)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const fields: [string, string][] = [
    ['version', `etld ${info.version} (protocol ${info.protocol})`],
    ['host', `${info.host} (pid ${info.pid})`],
    ['state', info.state],
    ['up since', `${formatTime(info.started_at)} (${formatSpan(info.uptime_s * 1000)})`],
    ['home', info.home ?? '-'],
    ['pipelines', pipelines === '' ? 'none' : pipelines],
  ];
  if (info.config !== undefined) fields.push(...configFields(info.config, style));
  const r = info.resources;
  if (r) {
    fields.push(
      [
        'cpu',
        r.cpu_percent === null
          ? '-'
          : `${r.cpu_percent.toFixed(1)}% (load ${r.load_avg.map((l) => l.toFixed(2)).join(' ')})`,
      ],
      [
        'memory',
        `${formatBytes(r.mem_used_bytes)} of ${formatBytes(r.mem_total_bytes)} used; etld rss ${formatBytes(r.rss_bytes)}`,
      ],
      ...r.disks.map((d): [string, string] => [
        `disk ${d.label}`,
        `${formatBytes(d.free_bytes)} free of ${formatBytes(d.total_bytes)} (${d.path})`,
      ]),
    );
  }
  let out = renderFields(fields, style);
  if (info.watermarks.length > 0) {
    const rows = info.watermarks.map((w) => [w.pipeline, w.shard, w.value, formatTime(w.updated_at)]);
    out += `\n${renderTable(['PIPELINE', 'SHARD', 'WATERMARK', 'UPDATED'], rows, style)}`;
  }
  return out;
}

export function renderRun(run: RunDetail, style: Style, now: Date): string {
  const fields: [string, string][] = [
    ['run', `${run.id} (${run.pipeline}, sequence ${run.sequence})`],
    ['status', `${colorStatus(run.status, style)}, attempt ${run.attempt}, ${run.trigger}`],
    ...(kindDetail(run) === null ? [] : [['kind', kindDetail(run) ?? ''] as [string, string]]),
    ...(run.requested_by === null ? [] : [['requested by', run.requested_by] as [string, string]]),
    ['started', formatTime(run.started_at)],
    ['finished', formatTime(run.finished_at)],
    ['took', durationBetween(run.started_at, run.finished_at, now)],
    [
      'rows',
      `${formatCount(run.rows_extracted)} extracted, ${formatCount(run.rows_loaded)} loaded, ${formatBytes(run.bytes)}`,
    ],
    ['reconciliation', run.verdict ?? '-'],
    ['watermark', `${run.watermark_from ?? '-'} → ${run.watermark_to ?? '-'}`],
  ];
  if (run.rows_excluded > 0) fields.push(['excluded', `${formatCount(run.rows_excluded)} source rows`]);
  if (run.first_failure_at !== null) fields.push(['first failure', formatTime(run.first_failure_at)]);
  if (run.error) fields.push(['error', style.red(`${run.error.code}: ${run.error.message}`)]);
  for (const note of run.notes) fields.push(['note', note]);
  let out = renderFields(fields, style);
  if (run.attempts.length > 1) {
    const rows = run.attempts.map((a) => [
      a.id,
      colorStatus(a.status, style),
      a.trigger,
      formatTime(a.started_at),
      durationBetween(a.started_at, a.finished_at, now),
      a.error ? style.red(`${a.error.code}: ${a.error.message}`) : '',
    ]);
    out += `\n${renderTable(['ATTEMPT', 'STATUS', 'TRIGGER', 'STARTED', 'TOOK', 'ERROR'], rows, style)}`;
  }
  if (run.parts.length > 0) {
    const rows = run.parts.map((p) => [
      p.shard ?? '-',
      p.chunk === null ? '-' : String(p.chunk),
      colorStatus(p.status, style),
      p.estimated_rows ? `${formatCount(p.rows)}/${formatCount(p.estimated_rows)}` : formatCount(p.rows),
      formatCount(Math.round(p.rows_per_s)),
      p.error ? style.red(`${p.error.code}: ${p.error.message}`) : '',
    ]);
    out += `\n${renderTable(['SHARD', 'CHUNK', 'STATUS', 'ROWS', 'ROWS/S', 'ERROR'], rows, style)}`;
  }
  if (run.checks.length > 0) out += `\n${renderChecks(run.checks, style)}`;
  return out;
}

export function renderWatermark(state: MethodResult<'watermark'>, style: Style): string {
  const agree =
    state.destination_sequence === null
      ? state.committed_sequence === 0
      : state.destination_sequence === state.committed_sequence;
  let out = renderFields(
    [
      ['pipeline', state.pipeline],
      [
        'committed',
        `sequence ${state.committed_sequence} (state store), ${state.destination_sequence === null ? 'none' : `sequence ${state.destination_sequence}`} (destination)${agree ? '' : style.yellow(' — they disagree')}`,
      ],
    ],
    style,
  );
  if (state.watermarks.length === 0) out += '\nno watermark: the next run reads from start_from\n';
  else {
    const rows = state.watermarks.map((w) => [
      w.shard,
      w.value,
      String(w.boundary_rows),
      String(w.sequence),
      w.updated_at,
    ]);
    out += `\n${renderTable(['SHARD', 'WATERMARK', 'ROWS AT IT', 'SEQUENCE', 'UPDATED'], rows, style)}`;
  }
  if (state.changes.length > 0) out += `\n${renderChanges(state.changes, style)}`;
  const latest = state.changes[0];
  if (latest !== undefined) out += `\nlast change: ${latest.detail}\n`;
  return out;
}

/**
 * `etlctl plan`: a single-table plan as it always was; a multi-table plan (`tables`) as its
 * pipeline-wide lines, then the tables block (render-tables.ts) with each table's own plan.
 */
export function renderPlan(plan: Plan, style: Style): string {
  const tables = plan.tables;
  if (tables === undefined) return renderSinglePlan(plan, style);
  let out = renderFields(
    [
      ['pipeline', plan.pipeline],
      ['mode', plan.mode],
      ['destination', plan.destination],
      ['tables', planTablesTally(tables)],
    ],
    style,
  );
  if (plan.cost !== undefined) out += `\n${renderPlanCost(plan.cost, style)}`;
  if (plan.notes.length > 0) out += `\nnotes:\n${plan.notes.map((n) => `  ${n}`).join('\n')}\n`;
  return `${out}\n${renderPlanTables(tables, style, renderSinglePlan)}`;
}

function renderSinglePlan(plan: Omit<Plan, 'tables'>, style: Style): string {
  // A files source has no watermark, and its parts are its files: the files section says both.
  const files = plan.files;
  let out = renderFields(
    [
      ['pipeline', plan.pipeline],
      ['mode', plan.mode],
      ...(files === undefined
        ? [['watermark', `${plan.watermark_from ?? '(start)'} → ${plan.watermark_to ?? '-'}`] as const]
        : []),
      ['destination', plan.destination],
    ],
    style,
  );
  if (files !== undefined) out += `\n${renderPlanFiles(files, style)}`;
  else {
    for (const part of plan.parts) {
      const where = [
        part.shard ? `shard ${part.shard}` : null,
        part.chunk !== null ? `chunk ${part.chunk}` : null,
      ]
        .filter(Boolean)
        .join(' ');
      out += `\n${style.bold(where || 'query')}${part.estimated_rows !== null ? ` (~${formatCount(part.estimated_rows)} rows)` : ''}\n  ${part.sql}\n`;
    }
  }
  if (plan.cost !== undefined) out += `\n${renderPlanCost(plan.cost, style)}`;
  out +=
    plan.schema_diff.length === 0
      ? '\nschema: no changes\n'
      : `\nschema changes:\n${plan.schema_diff.map((d) => `  ${d.change} ${d.column}: ${d.detail}`).join('\n')}\n`;
  if (plan.checks.length > 0)
    out += `\nchecks on a sample of ${formatCount(plan.check_sample_rows)} rows:\n${renderChecks(plan.checks, style)}`;
  if (plan.notes.length > 0) out += `\nnotes:\n${plan.notes.map((n) => `  ${n}`).join('\n')}\n`;
  return out;
}

export function renderPreview(preview: MethodResult<'preview'>, style: Style): string {
  const headers = preview.columns.map((c) => `${c.name} (${c.type})`);
  return renderTable(
    headers,
    preview.rows.map((r) => r.map((v) => (v === null ? style.dim('NULL') : v))),
    style,
  );
}
