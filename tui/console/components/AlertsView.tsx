import type { JSX } from 'react';
import type { AlertRecord } from '../../../shared/protocol.js';
import type { ColorName } from '../format/colors.js';
import { firstLine } from '../format/text.js';
import { formatRelative } from '../format/time.js';
import { Table, type Column } from './Table.js';

export type Props = {
  readonly alerts: readonly AlertRecord[];
  readonly selected: number;
  readonly width: number;
  /** Rows available, the header row included. */
  readonly height: number;
  readonly nowMs: number;
  readonly emptyText: string;
};

function kindColor(kind: AlertRecord['kind']): ColorName | undefined {
  switch (kind) {
    case 'failure':
    case 'stall':
    case 'low_disk':
    case 'stale':
    case 'state_store':
      return 'red';
    case 'checks':
    case 'maintenance':
    case 'files_quarantined':
      return 'yellow';
    case 'recovery':
    case 'fresh':
      return 'green';
  }
}

function statusColor(status: AlertRecord['status']): ColorName | undefined {
  return status === 'failed' ? 'red' : status === 'suppressed' || status === 'pending' ? 'yellow' : undefined;
}

export function alertColumns(
  alerts: readonly AlertRecord[],
  width: number,
  nowMs: number,
): Column<AlertRecord>[] {
  const pipelineWidth = Math.min(Math.max(8, ...alerts.map((a) => a.pipeline.length)), 24);
  const runWidth = Math.min(Math.max(3, ...alerts.map((a) => (a.run_id ?? '').length)), 28);
  // Wide enough for the longest kind listed (`files_quarantined`), so kinds are never cut.
  const kindWidth = Math.max(9, ...alerts.map((a) => a.kind.length));
  const columns: Column<AlertRecord>[] = [
    { header: 'WHEN', width: 11, cell: (a) => ({ text: formatRelative(a.created_at, nowMs) }) },
    { header: 'KIND', width: kindWidth, cell: (a) => ({ text: a.kind, color: kindColor(a.kind) }) },
    { header: 'STATUS', width: 10, cell: (a) => ({ text: a.status, color: statusColor(a.status) }) },
    { header: 'PIPELINE', width: pipelineWidth, cell: (a) => ({ text: a.pipeline, bold: true }) },
    { header: 'RUN', width: runWidth, cell: (a) => ({ text: a.run_id ?? '—' }) },
  ];
  const used = columns.reduce((sum, c) => sum + c.width + 1, 2);
  if (width - used >= 10)
    columns.push({
      header: 'SUBJECT',
      width: width - used - 1,
      cell: (a) => ({ text: firstLine(a.subject).line }),
    });
  return columns;
}

export function AlertsView({ alerts, selected, width, height, nowMs, emptyText }: Props): JSX.Element {
  return (
    <Table
      columns={alertColumns(alerts, width, nowMs)}
      rows={alerts}
      rowKey={(a) => String(a.id)}
      selected={selected}
      height={height - 1}
      empty={emptyText}
    />
  );
}
