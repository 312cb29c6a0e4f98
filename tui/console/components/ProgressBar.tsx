import type { JSX } from 'react';
import { Text } from 'ink';
import type { ColorName } from '../format/colors.js';
import { formatCount, formatPercent, formatRate } from '../format/numbers.js';
import { fit } from '../format/text.js';
import { etaSeconds, formatElapsed } from '../format/time.js';
import { Label } from './Label.js';

export type Props = {
  readonly label: string;
  readonly labelWidth: number;
  readonly rows: number;
  /** Null when the source gave no estimate: the bar is then replaced by the row count alone. */
  readonly estimatedRows: number | null;
  readonly rowsPerSecond: number;
  readonly status: string;
  readonly color?: ColorName;
  readonly width: number;
};

/** The fraction done, capped at 1: estimates can be exceeded by rows committed meanwhile. */
export function progressFraction(rows: number, estimated: number | null, status: string): number | null {
  if (status === 'done') return 1;
  if (estimated === null || estimated <= 0) return null;
  return Math.min(rows / estimated, 1);
}

export function ProgressBar({
  label,
  labelWidth,
  rows,
  estimatedRows,
  rowsPerSecond,
  status,
  color,
  width,
}: Props): JSX.Element {
  const fraction = progressFraction(rows, estimatedRows, status);
  const eta =
    status === 'running'
      ? etaSeconds(estimatedRows === null ? null : estimatedRows - rows, rowsPerSecond)
      : null;
  const counts =
    estimatedRows === null
      ? `${formatCount(rows)} rows`
      : `${formatCount(rows)}/${formatCount(estimatedRows)}`;
  const tail = ` ${fit(formatPercent(fraction), 4, 'right')} ${fit(counts, 13)} ${fit(formatRate(rowsPerSecond), 10, 'right')} ${
    eta === null ? fit(status, 9) : fit(`ETA ${formatElapsed(eta)}`, 9)
  }`;
  const barWidth = Math.max(width - labelWidth - tail.length - 3, 5);
  const filled = fraction === null ? 0 : Math.round(fraction * barWidth);
  return (
    <Text wrap="truncate">
      {fit(label, labelWidth)} [<Label color={color}>{'█'.repeat(filled)}</Label>
      {(fraction === null ? '·' : '░').repeat(barWidth - filled)}]{tail}
    </Text>
  );
}
