/**
 * The tables of a multi-table pipeline in its detail view: one line per table of the newest run
 * (status, rows loaded, the first line of its error). `etlctl tables` has the rest (attempts,
 * sequences, verdicts); the console keeps to what an operator scans for.
 */
import type { JSX } from 'react';
import { Box, Text } from 'ink';
import type { RunTable, RunTables } from '../../../shared/protocol-tables.js';
import type { ColorName } from '../format/colors.js';
import { formatCount } from '../format/numbers.js';
import { oneLineError } from '../format/text.js';
import { Table, type Column } from './Table.js';

export function runTableColor(status: RunTable['status']): ColorName | undefined {
  switch (status) {
    case 'succeeded':
      return 'green';
    case 'failed':
    case 'refused':
      return 'red';
    case 'running':
      return 'cyan';
    case 'pending':
    case 'cancelled':
    case 'gone':
      return 'gray';
  }
}

/** `12 tables: 10 succeeded, 1 failed, 1 running` for the section's title. */
export function tablesTitle(result: RunTables): string {
  const counts = new Map<string, number>();
  for (const t of result.tables) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const parts = [...counts.entries()].map(([status, n]) => `${n} ${status}`);
  return `tables of run ${result.sequence ?? '?'}: ${parts.join(', ')}`;
}

export function tableColumns(width: number, tables: readonly RunTable[]): Column<RunTable>[] {
  const nameWidth = Math.min(Math.max(5, ...tables.map((t) => t.table.length)), 32);
  const columns: Column<RunTable>[] = [
    { header: 'TABLE', width: nameWidth, cell: (t) => ({ text: t.table }) },
    { header: 'STATUS', width: 9, cell: (t) => ({ text: t.status, color: runTableColor(t.status) }) },
    { header: 'ROWS', width: 9, align: 'right', cell: (t) => ({ text: formatCount(t.rows_loaded) }) },
  ];
  const used = columns.reduce((sum, c) => sum + c.width + 1, 2);
  if (width - used >= 12) {
    columns.push({
      header: 'ERROR',
      width: width - used - 1,
      cell: (t) => ({ text: t.error === null ? '' : oneLineError(t.error), color: 'red' }),
    });
  }
  return columns;
}

export type Props = {
  readonly tables: RunTables;
  readonly width: number;
  /** Terminal rows the section may take, its title and header included. */
  readonly height: number;
};

/** The section: a title with the tally, then the table (the rows that fit, failures first). */
export function DetailTables({ tables, width, height }: Props): JSX.Element {
  // Failed and refused tables first: on a short terminal they are the ones still shown.
  const rank = (t: RunTable): number => (t.status === 'failed' || t.status === 'refused' ? 0 : 1);
  const rows = [...tables.tables].sort((a, b) => rank(a) - rank(b));
  const shown = Math.max(height - 2, 1);
  const hidden = rows.length - shown;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">{`${tablesTitle(tables)}${hidden > 0 ? ` (${hidden} more: etlctl tables)` : ''}`}</Text>
      <Table
        columns={tableColumns(width, rows)}
        rows={rows}
        rowKey={(t) => t.state_name}
        selected={-1}
        height={shown}
      />
    </Box>
  );
}
