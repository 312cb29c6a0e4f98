/** Human output helpers: ANSI colours (optional), aligned tables, times and numbers. */

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export function createStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001B[${open}m${text}\u001B[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

// Built from a string so the escape character does not sit inside a regex literal.
const ANSI_RE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function visibleWidth(text: string): number {
  return [...text.replace(ANSI_RE, '')].length;
}

/** Columns padded to the widest visible cell; the last column is not padded. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  style: Style,
): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleWidth(cell)),
      )
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** Key/value lines with aligned values. */
export function renderFields(fields: readonly (readonly [string, string])[], style: Style): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${style.dim(k.padEnd(width))}  ${v}`).join('\n') + '\n';
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `2026-03-04 10:00Z`: short, unambiguous UTC. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** `3h 20m ago` / `in 5m`. */
export function formatRelative(iso: string | null, now: Date): string {
  if (iso === null) return '-';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const diff = then - now.getTime();
  const text = formatSpan(Math.abs(diff));
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function durationBetween(start: string | null, end: string | null, now: Date): string {
  if (start === null) return '-';
  const from = new Date(start).getTime();
  const to = end === null ? now.getTime() : new Date(end).getTime();
  return Number.isNaN(from) || Number.isNaN(to) ? '-' : formatSpan(Math.max(0, to - from));
}

/** Colours a run status or pipeline state the way operators scan a table. */
export function colorStatus(status: string, style: Style): string {
  switch (status) {
    case 'succeeded':
    case 'idle':
      return style.green(status);
    case 'failed':
    case 'invalid':
    case 'interrupted':
      return style.red(status);
    case 'running':
    case 'retrying':
    case 'waiting':
    case 'queued':
    case 'paused':
    case 'cancelled':
      return style.yellow(status);
    default:
      return status;
  }
}
