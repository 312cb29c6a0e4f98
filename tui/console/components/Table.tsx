import type { JSX } from 'react';
import { Box, Text } from 'ink';
import type { ColorName } from '../format/colors.js';
import { fit } from '../format/text.js';
import { useColor } from '../hooks/use-theme.js';

export interface Cell {
  readonly text: string;
  readonly color?: ColorName;
  readonly bold?: boolean;
}

export interface Column<Row> {
  readonly header: string;
  readonly width: number;
  readonly align?: 'left' | 'right';
  readonly cell: (row: Row) => Cell;
}

export type Props<Row> = {
  readonly columns: readonly Column<Row>[];
  /** Every row; only the window of `height` rows around the selection is drawn. */
  readonly rows: readonly Row[];
  readonly rowKey: (row: Row) => string;
  /** Index into `rows` of the highlighted row, or -1. */
  readonly selected: number;
  /** Rows drawn at most, below the header: 500 rows cost no more than 20. */
  readonly height: number;
  /** Shown instead of rows when there are none. */
  readonly empty?: string;
};

const GAP = ' ';

/** First row of the window that keeps the selection visible, centred when possible. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height || selected < 0) return 0;
  return Math.min(Math.max(selected - Math.floor(height / 2), 0), count - height);
}

/**
 * A plain table drawn with Ink's Box/Text. `ink-table` 3.1 cannot be used: it is CommonJS and
 * `require()`s Ink, which since Ink 4 is ESM with top-level await (ERR_REQUIRE_ASYNC_MODULE).
 */
export function Table<Row>({
  columns,
  rows: all,
  rowKey,
  selected: selectedRow,
  height,
  empty,
}: Props<Row>): JSX.Element {
  const color = useColor();
  const visibleRows = Math.max(height, 1);
  const start = windowStart(selectedRow, all.length, visibleRows);
  const rows = all.slice(start, start + visibleRows);
  const selected = selectedRow - start;
  const header = columns.map((c) => fit(c.header, c.width, c.align)).join(GAP);
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {'  '}
        {header}
      </Text>
      {rows.length === 0 && empty !== undefined ? <Text wrap="truncate">{`  ${empty}`}</Text> : null}
      {rows.map((row, index) => {
        const isSelected = index === selected;
        return (
          <Text key={rowKey(row)} wrap="truncate" inverse={isSelected}>
            {isSelected ? '› ' : '  '}
            {columns.map((column, columnIndex) => {
              const cell = column.cell(row);
              return (
                <Text key={column.header}>
                  {columnIndex === 0 ? '' : GAP}
                  <Text color={color(cell.color)} bold={cell.bold === true}>
                    {fit(cell.text, column.width, column.align)}
                  </Text>
                </Text>
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
}
