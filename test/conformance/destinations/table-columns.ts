/**
 * What every destination reader shares: the columns to read (name and how values compare), and
 * the projection of a read row onto them, so a column the table lacks (added in the source, not
 * loaded yet) reads as NULL rather than failing the read.
 */
import type { ColumnSchema } from '../../../shared/types.js';
import { normaliseValue, valueKindOf, type NormalRow, type ValueKind } from '../normalise.js';

export interface ReadColumn {
  readonly name: string;
  readonly kind: ValueKind;
}

export function readColumns(columns: readonly ColumnSchema[]): ReadColumn[] {
  return columns.map((c) => ({ name: c.name, kind: valueKindOf(c.type) }));
}

export function projectRow(
  columns: readonly ReadColumn[],
  present: ReadonlySet<string>,
  row: Readonly<Record<string, unknown>>,
): NormalRow {
  return columns.map((c) => (present.has(c.name) ? normaliseValue(c.kind, row[c.name]) : null));
}

/** SQL text of a name in double quotes. */
export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The SELECT list reading `columns` that the table has, each as text under its own name: bytes
 * through `asHex` (their text form would print printable bytes as characters), the rest through
 * `asText`.
 */
export function textSelectList(
  columns: readonly ReadColumn[],
  present: ReadonlySet<string>,
  render: { asText(quotedName: string): string; asHex(quotedName: string): string },
): string {
  return columns
    .filter((c) => present.has(c.name))
    .map((c) => {
      const name = quoted(c.name);
      return `${c.kind.kind === 'bytes' ? render.asHex(name) : render.asText(name)} AS ${name}`;
    })
    .join(', ');
}
