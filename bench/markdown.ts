/** How the bench's reports write numbers and tables in markdown. */

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '—';
}

/** A change in percent, signed: `+6.8 %`, `−1.2 %`. */
export function signedPct(value: number): string {
  return Number.isFinite(value) ? `${value < 0 ? '−' : '+'}${fmt(Math.abs(value), 1)} %` : '—';
}

/** Escapes what would break a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(
  header: readonly string[],
  align: readonly ('l' | 'r')[],
  rows: readonly string[][],
): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [
    line(header),
    `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}
