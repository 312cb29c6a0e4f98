/**
 * Rows as the Delta tests stage them (SQL literals) and as the oracles report them (delta_read.py's
 * normalised text), from one description, plus the model tables the partition and change data feed
 * tests compare the oracles with.
 */
import { expect } from 'vitest';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';
import type { Prng } from '../chaos/prng.js';

/** A value as the oracles normalise it: integers and decimals as text, booleans as booleans. */
export type Cell = string | boolean | null;
export type ModelRow = Record<string, Cell>;

/** One column: its schema and how a model value is written as a SQL literal. */
export interface ModelColumn {
  readonly schema: ColumnSchema;
  readonly literal: (value: Cell) => string;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

function literalFor(type: CanonicalType): (value: Cell) => string {
  return (value) => {
    if (value === null) return 'NULL';
    switch (type.kind) {
      case 'text':
        return quote(String(value));
      case 'bool':
        return value === true ? 'true' : 'false';
      case 'date':
        return `DATE ${quote(String(value))}`;
      case 'timestamptz':
        return `TIMESTAMPTZ ${quote(String(value).replace('Z', '+00'))}`;
      case 'timestamp':
        return `TIMESTAMP ${quote(String(value))}`;
      default:
        return String(value);
    }
  };
}

export function column(
  name: string,
  type: CanonicalType['kind'] | CanonicalType,
  nullable = true,
): ModelColumn {
  const canonical = typeof type === 'string' ? ({ kind: type } as CanonicalType) : type;
  return { schema: { name, type: canonical, nullable }, literal: literalFor(canonical) };
}

export function schemaOf(columns: readonly ModelColumn[]): ColumnSchema[] {
  return columns.map((c) => c.schema);
}

/** `(v1, v2, …)` tuples for `Staging.batch`. */
export function tuples(columns: readonly ModelColumn[], rows: readonly ModelRow[]): string[] {
  return rows.map((row) => `(${columns.map((c) => c.literal(row[c.schema.name] ?? null)).join(', ')})`);
}

function rowKey(row: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, row[k]]),
  );
}

export function sortRows<T extends Readonly<Record<string, unknown>>>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => rowKey(a).localeCompare(rowKey(b)));
}

/** Asserts an oracle answer holds exactly `expected` rows (any order). */
export function expectRows(
  what: string,
  answer: { readonly rows?: readonly Record<string, unknown>[]; readonly error?: string } | undefined,
  expected: readonly ModelRow[],
): void {
  expect(answer?.error, `${what}: reader error`).toBeUndefined();
  expect(sortRows(answer?.rows ?? []), what).toEqual(sortRows(expected));
}

/** Partition values nobody should mishandle: path and URI syntax, non-ASCII, Hive's null marker. */
export const HOSTILE_STRINGS = [
  'a/b',
  'x=y',
  '100%',
  '%2F',
  'with space',
  'ünï €',
  '日本',
  "it's",
  'a:b?c#d',
  '..',
  '__HIVE_DEFAULT_PARTITION__',
  'tab\there',
];

/** A random value of `type` in the oracles' normalised form (or null when `nullable`). */
export function randomCell(prng: Prng, type: CanonicalType, nullable: boolean): Cell {
  if (nullable && prng.chance(0.15)) return null;
  switch (type.kind) {
    case 'text':
      return prng.pick([...HOSTILE_STRINGS, 'a', 'b', 'c', '']);
    case 'int32':
    case 'int64':
      return String(prng.int(-3, 3));
    case 'bool':
      return prng.chance(0.5);
    case 'date':
      return prng.pick(['1969-12-31', '2024-02-29', '2024-03-01', '1900-01-01', '9999-12-31']);
    case 'decimal':
      // No negatives: delta-rs 1.6.6 misreads negative decimal partition values (`-1.-5`).
      return prng.pick(['0.00', '1.50', '12345678.99']);
    case 'timestamptz':
      return prng.pick([
        '1969-12-31T23:59:59.999999Z',
        '2024-06-15T12:30:00.000000Z',
        '2024-06-15T12:30:00.123456Z',
      ]);
    default:
      throw new Error(`no random values of ${type.kind}`);
  }
}
