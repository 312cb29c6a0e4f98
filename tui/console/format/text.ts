/** Fitting text into fixed-width terminal cells. */

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
