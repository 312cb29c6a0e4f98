import type { JSX } from 'react';
import { Text } from 'ink';
import type { ColorName } from '../format/colors.js';
import { formatCount, formatRate } from '../format/numbers.js';
import { percentText, progressFraction } from '../format/progress.js';
import { fit } from '../format/text.js';
import { etaSeconds, formatElapsed } from '../format/time.js';
import { Label } from './Label.js';

/** Part statuses in which no rows are being read. */
const STOPPED: ReadonlySet<string> = new Set(['pending', 'done', 'failed', 'cancelled']);

export type Props = {
  readonly label: string;
  readonly labelWidth: number;
  readonly rows: number;
  /**
   * The best estimate of the rows there are to read (a part that read more than the source's
   * estimate has at least what it read); null when the source gave none: the bar is then replaced
   * by the row count alone.
   */
  readonly estimatedRows: number | null;
  readonly rowsPerSecond: number;
  /** Shown at the end of the bar: the part's status. */
  readonly status: string;
  /** Only what has ended fills the bar; anything still going stops at 99 %. */
  readonly ended: boolean;
  readonly color?: ColorName;
  readonly width: number;
};

export function ProgressBar({
  label,
  labelWidth,
  rows,
  estimatedRows,
  rowsPerSecond,
  status,
  ended,
  color,
  width,
}: Props): JSX.Element {
  const estimate = estimatedRows === null ? null : Math.max(estimatedRows, rows);
  const fraction = progressFraction(rows, estimate, ended);
  const remaining = estimate === null ? null : estimate - rows;
  // Only while rows are flowing; past the estimate nothing is known about what is left: no ETA rather than "0s".
  const flowing = !ended && !STOPPED.has(status);
  const eta = flowing && remaining !== null && remaining > 0 ? etaSeconds(remaining, rowsPerSecond) : null;
  const counts =
    estimate === null ? `${formatCount(rows)} rows` : `${formatCount(rows)}/${formatCount(estimate)}`;
  const tail = ` ${fit(percentText(fraction), 4, 'right')} ${fit(counts, 13)} ${fit(formatRate(rowsPerSecond), 10, 'right')} ${
    eta === null ? fit(status, 9) : fit(`ETA ${formatElapsed(eta)}`, 9)
  }`;
  const barWidth = Math.max(width - labelWidth - tail.length - 3, 5);
  // Floor, like the percentage: an unfinished bar never looks full.
  const filled = fraction === null ? 0 : Math.floor(fraction * barWidth);
  return (
    <Text wrap="truncate">
      {fit(label, labelWidth)} [<Label color={color}>{'█'.repeat(filled)}</Label>
      {(fraction === null ? '·' : '░').repeat(barWidth - filled)}]{tail}
    </Text>
  );
}
