/** Fitting text into fixed-width terminal cells, and errors into one line. */
import { isEtlError } from '../../../shared/errors.js';
import { firstLine } from '../../../shared/record-text.js';

/** Pads or truncates to exactly `width` characters, marking a cut with `…`. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return width === 1 ? '…' : `${chars.slice(0, width - 1).join('')}…`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** Truncates without padding. */
export function clip(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : fit(text, width);
}

/** Splits key hints into lines no wider than `width`, never breaking one hint. */
export function wrapItems(items: readonly string[], width: number, gap = 2): string[][] {
  const lines: string[][] = [];
  let current: string[] = [];
  let used = 0;
  for (const item of items) {
    const needed = current.length === 0 ? item.length : used + gap + item.length;
    if (current.length > 0 && needed > width) {
      lines.push(current);
      current = [item];
      used = item.length;
    } else {
      current.push(item);
      used = needed;
    }
  }
  if (current.length > 0) lines.push(current);
  return lines;
}

/** The first line of a message (in shared/: the daemon's text filter looks at the same line). */
export { firstLine };

/** Wraps text to `width` columns (hard breaks at the width; existing newlines kept). */
export function wrapText(text: string, width: number): string[] {
  const size = Math.max(width, 1);
  return text.split(/\r?\n/).flatMap((line) => {
    const chars = [...line];
    if (chars.length <= size) return [line];
    const rows: string[] = [];
    for (let start = 0; start < chars.length; start += size)
      rows.push(chars.slice(start, start + size).join(''));
    return rows;
  });
}

/** `[CODE] first line…`: an error in one row, whatever its message; `d` shows the rest. */
export function oneLineError(error: { readonly code: string; readonly message: string }): string {
  const { line, more } = firstLine(error.message);
  return `[${error.code}] ${line}${more ? ' …' : ''}`;
}

/** An error as the status line says it: `[CODE] message` for the daemon's errors. */
export function describeError(error: unknown): string {
  if (isEtlError(error)) return `[${error.code}] ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
