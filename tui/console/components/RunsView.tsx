import type { JSX } from 'react';
import type { RunRecord } from '../../../shared/protocol.js';
import { runStatusColor } from '../format/colors.js';
import { formatCount } from '../format/numbers.js';
import { oneLineError } from '../format/text.js';
import { durationSeconds, formatElapsed, formatRelative } from '../format/time.js';
import { Table, type Column } from './Table.js';

export type Props = {
  /** The filtered list, newest first; only the window around the selection is drawn. */
  readonly runs: readonly RunRecord[];
  readonly selected: number;
  readonly width: number;
  /** Rows available, the header row included. */
  readonly height: number;
  readonly nowMs: number;
  readonly emptyText: string;
};

/** The runs of every pipeline: full ids (what etlctl and the mails name), errors in one line. */
export function runColumns(runs: readonly RunRecord[], width: number, nowMs: number): Column<RunRecord>[] {
  const idWidth = Math.max(3, ...runs.map((r) => r.id.length));
  const columns: Column<RunRecord>[] = [
    { header: 'RUN', width: idWidth, cell: (r) => ({ text: r.id, bold: true }) },
    { header: 'STATUS', width: 11, cell: (r) => ({ text: r.status, color: runStatusColor(r.status) }) },
    { header: 'TRIGGER', width: 8, cell: (r) => ({ text: r.trigger }) },
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
    { header: 'TRY', width: 3, align: 'right', cell: (r) => ({ text: String(r.attempt) }) },
    { header: 'ROWS', width: 7, align: 'right', cell: (r) => ({ text: formatCount(r.rows_loaded) }) },
  ];
  const used = columns.reduce((sum, c) => sum + c.width + 1, 2);
  // Everything left is the error's: it is what the operator scans this list for.
  if (width - used >= 10) {
    columns.push({
      header: 'ERROR',
      width: width - used - 1,
      cell: (r) => ({ text: r.error === null ? '' : oneLineError(r.error), color: 'red' }),
    });
  }
  return columns;
}

export function RunsView({ runs, selected, width, height, nowMs, emptyText }: Props): JSX.Element {
  return (
    <Table
      // Widths from the whole list, so columns stay put while the window scrolls.
      columns={runColumns(runs, width, nowMs)}
      rows={runs}
      rowKey={(r) => r.id}
      selected={selected}
      height={height - 1}
      empty={emptyText}
    />
  );
}
