import type { JSX } from 'react';
import type { PipelineSummary } from '../../../shared/protocol.js';
import {
  durationCell,
  lastRunCell,
  nextRunCell,
  rowsCell,
  scheduleAndNextCell,
  scheduleWords,
  stateCell,
  throughputCell,
} from '../format/pipeline-cells.js';
import type { Progress } from '../state/view-state.js';
import { Table, type Column } from './Table.js';

export type Props = {
  /** The filtered, sorted list; only the window around the selection is drawn. */
  readonly pipelines: readonly PipelineSummary[];
  readonly selected: number;
  readonly progress: Readonly<Record<string, Progress>>;
  readonly width: number;
  /** Body rows available (excluding the header row). */
  readonly height: number;
  readonly nowMs: number;
  readonly emptyText: string;
};

/** Columns for the terminal width: 80 columns get the essentials, wider terminals get detail. */
export function pipelineColumns(
  width: number,
  progress: Readonly<Record<string, Progress>>,
  nowMs: number,
): Column<PipelineSummary>[] {
  const markerAndGaps = (count: number): number => 2 + (count - 1);
  const state: Column<PipelineSummary> = { header: 'STATE', width: 8, cell: stateCell };
  const rows: Column<PipelineSummary> = {
    header: 'ROWS',
    width: 6,
    align: 'right',
    cell: (p) => rowsCell(p, progress[p.name]),
  };
  const rate: Column<PipelineSummary> = {
    header: 'ROWS/S',
    width: 9,
    align: 'right',
    cell: (p) => throughputCell(p, progress[p.name], nowMs),
  };
  const last = (w: number): Column<PipelineSummary> => ({
    header: 'LAST RUN',
    width: w,
    cell: (p) => lastRunCell(p, nowMs),
  });
  const duration: Column<PipelineSummary> = {
    header: 'DURATION',
    width: 8,
    align: 'right',
    cell: (p) => durationCell(p, nowMs),
  };

  let rest: Column<PipelineSummary>[];
  if (width >= 120) {
    rest = [
      { ...state, width: 9 },
      { header: 'SCHEDULE', width: 26, cell: (p) => ({ text: scheduleWords(p) }) },
      { header: 'NEXT RUN', width: 12, cell: (p) => nextRunCell(p, nowMs) },
      last(16),
      duration,
      { ...rows, width: 7 },
      { ...rate, width: 10 },
    ];
    if (width >= 140)
      rest.push({ header: 'DESTINATION', width: 16, cell: (p) => ({ text: p.destination ?? '—' }) });
  } else if (width >= 96) {
    rest = [
      { ...state, width: 9 },
      { header: 'SCHEDULE / NEXT RUN', width: 26, cell: (p) => scheduleAndNextCell(p, nowMs) },
      last(16),
      duration,
      rows,
      rate,
    ];
  } else {
    rest = [
      // Nine wide like the others: `retrying*` keeps its last-good flag.
      { ...state, width: 9 },
      { header: 'SCHEDULE / NEXT', width: 22, cell: (p) => scheduleAndNextCell(p, nowMs, true) },
      last(14),
      rows,
      rate,
    ];
  }
  const fixed = rest.reduce((sum, c) => sum + c.width, 0) + markerAndGaps(rest.length + 1);
  // The name takes whatever is left, so wide terminals show long names in full.
  const nameWidth = Math.max(width - fixed - 1, 10);
  return [{ header: 'NAME', width: nameWidth, cell: (p) => ({ text: p.name, bold: true }) }, ...rest];
}

/** First row of the window that keeps the selection visible, centred when possible. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height || selected < 0) return 0;
  return Math.min(Math.max(selected - Math.floor(height / 2), 0), count - height);
}

export function PipelineTable({
  pipelines,
  selected,
  progress,
  width,
  height,
  nowMs,
  emptyText,
}: Props): JSX.Element {
  const visibleRows = Math.max(height, 1);
  const start = windowStart(selected, pipelines.length, visibleRows);
  const window = pipelines.slice(start, start + visibleRows);
  return (
    <Table
      columns={pipelineColumns(width, progress, nowMs)}
      rows={window}
      rowKey={(p) => p.name}
      selected={selected - start}
      empty={emptyText}
    />
  );
}
