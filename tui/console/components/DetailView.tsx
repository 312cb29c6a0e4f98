import type { JSX, ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { PipelineSummary, RunPart, RunRecord } from '../../../shared/protocol.js';
import { checkTally, worstFirst } from '../../../shared/check-words.js';
import { LAST_GOOD_MARK, lastGoodNote } from '../../../shared/file-status-words.js';
import { watermarkText } from '../../../shared/format-watermarks.js';
import { checkLine } from '../format/check-line.js';
import { runStatusColor, type ColorName } from '../format/colors.js';
import { configSummary } from '../format/config-summary.js';
import { formatCount, formatExact, formatPercent, formatRate } from '../format/numbers.js';
import { freshnessLine, scheduleAndNextCell, stateCell } from '../format/pipeline-cells.js';
import { percentText, runProgress } from '../format/progress.js';
import { firstLine, oneLineError } from '../format/text.js';
import { durationSeconds, etaSeconds, formatElapsed, formatRelative } from '../format/time.js';
import type { DetailData, Progress } from '../state/view-state.js';
import { DetailTables } from './DetailTables.js';
import { Label } from './Label.js';
import { ProgressBar } from './ProgressBar.js';
import { Table, type Column } from './Table.js';

export type Props = {
  readonly pipeline: PipelineSummary | null;
  readonly detail: DetailData;
  readonly progress: Progress | undefined;
  readonly width: number;
  readonly height: number;
  readonly nowMs: number;
};

interface LiveRun {
  readonly runId: string;
  readonly phase: string;
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly parts: readonly RunPart[];
}

function liveRun(detail: DetailData, progress: Progress | undefined): LiveRun | null {
  if (progress !== undefined) {
    return {
      runId: progress.run_id,
      phase: progress.phase,
      rows: progress.rows,
      rowsPerSecond: progress.rows_per_s,
      parts: progress.parts,
    };
  }
  const current = detail.status?.current_run ?? null;
  if (current === null) return null;
  const rate = current.parts.reduce((sum, p) => sum + p.rows_per_s, 0);
  return {
    runId: current.id,
    phase: current.status,
    rows: current.rows_extracted,
    rowsPerSecond: rate,
    parts: current.parts,
  };
}

function partLabel(part: RunPart): string {
  const shard = part.shard === null ? '' : `shard ${part.shard}`;
  const chunk = part.chunk === null ? '' : `chunk ${part.chunk}`;
  return [shard, chunk].filter((s) => s !== '').join(' ') || 'table';
}

function partColor(status: RunPart['status']): ColorName | undefined {
  switch (status) {
    case 'done':
      return 'green';
    case 'failed':
      return 'red';
    case 'running':
      return 'cyan';
    case 'pending':
    case 'cancelled':
      return 'gray';
  }
}

function overallEta(run: LiveRun): number | null {
  const { rows, estimated } = runProgress(run.parts, false);
  return estimated === null || estimated <= rows ? null : etaSeconds(estimated - rows, run.rowsPerSecond);
}

function historyColumns(nowMs: number, width: number, history: readonly RunRecord[]): Column<RunRecord>[] {
  // Run ids in full: they are what `etlctl run`, `logs --run` and the mails name.
  const idWidth = Math.max(3, ...history.map((r) => r.id.length));
  const columns: Column<RunRecord>[] = [
    { header: 'RUN', width: idWidth, cell: (r) => ({ text: r.id }) },
    { header: 'STATUS', width: 11, cell: (r) => ({ text: r.status, color: runStatusColor(r.status) }) },
    { header: 'STARTED', width: 11, cell: (r) => ({ text: formatRelative(r.started_at, nowMs) }) },
    {
      header: 'DURATION',
      width: 8,
      align: 'right',
      cell: (r) => {
        const s = durationSeconds(r.started_at, r.finished_at, nowMs);
        return { text: s === null ? '—' : formatElapsed(s) };
      },
    },
    { header: 'ROWS', width: 7, align: 'right', cell: (r) => ({ text: formatCount(r.rows_loaded) }) },
    { header: 'TRIGGER', width: 8, cell: (r) => ({ text: r.trigger }) },
    {
      header: 'VERDICT',
      width: 9,
      cell: (r) => ({ text: r.verdict ?? '—', color: r.verdict === 'mismatch' ? 'red' : undefined }),
    },
  ];
  const used = columns.reduce((sum, c) => sum + c.width + 1, 2);
  if (width - used >= 12) {
    columns.push({
      header: 'ERROR',
      width: width - used - 1,
      cell: (r) => ({ text: r.error === null ? '' : oneLineError(r.error), color: 'red' }),
    });
  }
  return columns;
}

export function DetailView({ pipeline, detail, progress, width, height, nowMs }: Props): JSX.Element {
  const lines: ReactNode[] = [];
  /** Terminal rows used so far; wrapped messages take more than one. */
  let used = 0;
  const push = (key: string, node: ReactNode): void => {
    used += 1;
    lines.push(
      <Text key={key} wrap="truncate">
        {node}
      </Text>,
    );
  };
  // Errors and problems take one row each, so the view keeps its layout whatever a driver says;
  // `d` opens the whole text.
  const pushError = (key: string, text: string, color: ColorName): void => {
    const { line, more } = firstLine(text);
    push(key, <Label color={color}>{`${line}${more ? ' …' : ''}`}</Label>);
  };
  const status = detail.status;
  const summary = pipeline ?? status;

  if (summary === null) {
    push('title', `${detail.pipeline}: ${detail.error ?? 'loading…'}`);
    return <Box flexDirection="column">{lines}</Box>;
  }
  const state = stateCell(summary);
  push(
    'title',
    <>
      <Text bold>{summary.name}</Text>
      {' · '}
      <Label color={state.color} bold>
        {state.text}
      </Label>
      {` · ${scheduleAndNextCell(summary, nowMs).text}`}
    </>,
  );
  push(
    'route',
    `${summary.source ?? '?'} → ${summary.destination ?? '?'} · mode ${summary.mode ?? '?'} · tz ${summary.timezone} · ${summary.file}`,
  );
  const config = configSummary(status?.config ?? null);
  if (config.length > 0) push('config', config.join(' · '));
  const watermarks = status?.watermarks ?? [];
  if (watermarks.length > 0) {
    const newest = watermarks.reduce((a, b) => (a.updated_at > b.updated_at ? a : b));
    push(
      'watermark',
      `watermark ${watermarkText(watermarks)} · updated ${formatRelative(newest.updated_at, nowMs)}`,
    );
  }
  if (summary.description !== null && summary.description !== '') push('description', summary.description);
  if (detail.error !== null) pushError('error-load', `could not load details: ${detail.error}`, 'red');
  const lastGood = lastGoodNote(summary);
  if (lastGood !== null) pushError('last-good', `${LAST_GOOD_MARK} ${lastGood}`, 'magenta');
  const problems = summary.problems.slice(0, 3);
  for (const [index, problem] of problems.entries()) pushError(`problem-${index}`, `✗ ${problem}`, 'magenta');
  if (summary.problems.length > problems.length)
    push('more-problems', `  … ${summary.problems.length - problems.length} more problems (d shows all)`);
  for (const [index, warning] of (summary.warnings ?? []).entries())
    pushError(`warning-${index}`, `! ${warning}`, 'yellow');

  const run = liveRun(detail, progress);
  if (run !== null) {
    const eta = overallEta(run);
    const overall = runProgress(run.parts, false);
    push(
      'run',
      <>
        <Label color="cyan" bold>{`▶ run ${run.runId}`}</Label>
        {` · ${run.phase} · ${formatExact(run.rows)} rows${overall.estimated === null ? '' : ` of ~${formatExact(overall.estimated)} (${percentText(overall.fraction)})`} · ${formatRate(run.rowsPerSecond)}${eta === null ? '' : ` · ETA ${formatElapsed(eta)}`}`}
      </>,
    );
    const labelWidth = Math.min(
      Math.max(...run.parts.map((p) => partLabel(p).length), run.parts.length > 1 ? 9 : 5),
      24,
    );
    // The whole run first: rows read against the best estimate, never full before the run ends.
    if (run.parts.length > 1) {
      used += 1;
      lines.push(
        <ProgressBar
          key="run-bar"
          label="  all parts"
          labelWidth={labelWidth + 2}
          rows={overall.rows}
          estimatedRows={overall.estimated}
          rowsPerSecond={run.rowsPerSecond}
          status={run.phase}
          ended={false}
          color="cyan"
          width={width}
        />,
      );
    }
    const maxParts = Math.max(Math.min(run.parts.length, height - used - 8), 1);
    for (const part of run.parts.slice(0, maxParts)) {
      used += 1;
      lines.push(
        <ProgressBar
          key={`part-${part.id}`}
          label={`  ${partLabel(part)}`}
          labelWidth={labelWidth + 2}
          rows={part.rows}
          estimatedRows={part.estimated_rows}
          rowsPerSecond={part.rows_per_s}
          status={part.status}
          // A run's only part is the run: its bar fills when the run has ended, not when it was read.
          ended={part.status === 'done' && run.parts.length > 1}
          color={partColor(part.status)}
          width={width}
        />,
      );
    }
    if (run.parts.length > maxParts) push('more-parts', `  … ${run.parts.length - maxParts} more parts`);
  }

  const last = status?.last_run ?? summary.last_run;
  if (last !== null && last.status !== 'running' && last.status !== 'queued') {
    const seconds = durationSeconds(last.started_at, last.finished_at, nowMs);
    const verdict = last.verdict ?? 'not reconciled';
    push(
      'last',
      <>
        {'last run: '}
        <Label color={runStatusColor(last.status)} bold>
          {last.status}
        </Label>
        {` ${formatRelative(last.finished_at ?? last.started_at, nowMs)} · extracted ${formatExact(last.rows_extracted)} · loaded ${formatExact(last.rows_loaded)}${seconds === null ? '' : ` · ${formatElapsed(seconds)}`} · reconciliation: `}
        <Label color={last.verdict === 'mismatch' ? 'red' : last.verdict === 'match' ? 'green' : undefined}>
          {verdict}
        </Label>
      </>,
    );
  }
  const lastError = last?.error ?? status?.stats.last_error ?? null;
  if (lastError !== null) pushError('last-error', `last error: ${oneLineError(lastError)}`, 'red');

  // The checks of the run the `last run` line describes; a live run's are not final yet.
  const checks = last !== null && last.status !== 'running' && last.status !== 'queued' ? last.checks : [];
  if (checks.length > 0) {
    push('checks', `checks: ${checkTally(checks)}`);
    // Worst first, so the checks that did not pass are the ones still shown on a short terminal.
    const sorted = worstFirst(checks);
    const shown = sorted.slice(0, Math.max(Math.min(checks.length, height - used - 6), 1));
    const nameWidth = Math.min(Math.max(...shown.map((c) => c.name.length)), 24);
    for (const check of shown) {
      const line = checkLine(check, nameWidth);
      push(
        `check-${check.name}`,
        <>
          {'  '}
          <Label color={line.color} bold={check.status !== 'pass'}>
            {line.status}
          </Label>
          {` ${line.text}`}
        </>,
      );
    }
    const hidden = sorted.slice(shown.length);
    if (hidden.length > 0) push('more-checks', `  … ${hidden.length} more checks (${checkTally(hidden)})`);
  }

  if (status !== null) {
    const s = status.stats;
    push(
      'stats',
      `24h: ${s.runs_24h} runs, ${s.failures_24h} failed (${formatPercent(s.success_rate_24h)} ok) · 7d: ${s.runs_7d} runs, ${s.failures_7d} failed (${formatPercent(s.success_rate_7d)} ok)${
        s.mean_duration_s === null ? '' : ` · mean ${formatElapsed(s.mean_duration_s)}`
      }${s.last_success_at === null ? '' : ` · last success ${formatRelative(s.last_success_at, nowMs)}`}`,
    );
  }
  const freshness = freshnessLine(summary, nowMs);
  if (freshness !== null) push('freshness', <Label color={freshness.color}>{freshness.text}</Label>);
  for (const [index, why] of detail.why.entries())
    push(`why-${index}`, `${index === 0 ? 'why: ' : '     '}${why}`);

  const tables = detail.tables ?? null;
  if (tables !== null && tables.sequence !== null && tables.tables.length > 0) {
    // The tables share what is left with the run history: all they need, up to half of it
    // when there is history to show.
    const left = height - used - 1;
    const wanted = tables.tables.length + 2;
    const rows = detail.history.length === 0 ? left : Math.max(Math.floor(left / 2), 3);
    const sectionHeight = Math.min(wanted, rows);
    if (sectionHeight >= 3) {
      used += sectionHeight + 1;
      lines.push(
        <Box key="tables" flexDirection="column" marginTop={1}>
          <DetailTables tables={tables} width={width} height={sectionHeight} />
        </Box>,
      );
    }
  }

  const historyRows = height - used - 2;
  if (historyRows > 0 && detail.history.length > 0) {
    lines.push(
      <Box key="history" flexDirection="column" marginTop={1}>
        <Table
          columns={historyColumns(nowMs, width, detail.history.slice(0, historyRows))}
          rows={detail.history}
          rowKey={(r) => r.id}
          selected={-1}
          height={historyRows}
        />
      </Box>,
    );
  } else if (status === null && detail.error === null) {
    push('loading', 'loading run history…');
  }
  return (
    <Box flexDirection="column" height={Math.max(height, 1)} overflow="hidden">
      {lines}
    </Box>
  );
}
