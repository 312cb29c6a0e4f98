/**
 * The columns of a chaos pipeline's source table: DDL per dialect, the value kind of each column
 * for normalisation, and which columns the pipeline (and so the model) sees.
 *
 * Decisions:
 * - Every table has the same value columns (bigint, int, numeric(12,2), text, bool, date,
 *   timestamp(6)), plus the cursor column `cur` when the profile has one.
 * - Keyless profiles keep a hidden auto-increment `rid` (so the workload can update and delete one
 *   of several identical rows) and list the visible columns in `source.columns`.
 * - A keyed table declares `PRIMARY KEY (id)` unless the profile writes NULL keys.
 * - Added columns (`x1`, `x2`, …) are appended with `ALTER TABLE … ADD COLUMN … NULL`, text and
 *   integer alternately.
 */
import type { ValueKind } from '../conformance/normalise.js';
import type { CursorKind, PipelineSpec, SourceKind } from './world.js';

export interface ColumnDef {
  readonly name: string;
  readonly kind: ValueKind;
  readonly pgType: string;
  readonly myType: string;
}

export const SHARD_COLUMN = '_etl_shard';
export const CURSOR_COLUMN = 'cur';
export const KEY_COLUMN = 'id';

const VALUE_COLUMNS: readonly ColumnDef[] = [
  { name: 'id', kind: { kind: 'int' }, pgType: 'bigint', myType: 'BIGINT' },
  { name: 'grp', kind: { kind: 'int' }, pgType: 'integer', myType: 'INT' },
  { name: 'amount', kind: { kind: 'decimal', scale: 2 }, pgType: 'numeric(12,2)', myType: 'DECIMAL(12,2)' },
  { name: 'note', kind: { kind: 'text' }, pgType: 'text', myType: 'VARCHAR(400)' },
  { name: 'flag', kind: { kind: 'bool' }, pgType: 'boolean', myType: 'BOOLEAN' },
  { name: 'day', kind: { kind: 'date' }, pgType: 'date', myType: 'DATE' },
  { name: 'ts', kind: { kind: 'timestamp' }, pgType: 'timestamp(6)', myType: 'DATETIME(6)' },
];

const CURSOR_COLUMNS: Record<CursorKind, Omit<ColumnDef, 'name'>> = {
  pg_tstz_now: { kind: { kind: 'timestamptz' }, pgType: 'timestamptz', myType: '' },
  pg_ts0: { kind: { kind: 'timestamp' }, pgType: 'timestamp(0)', myType: '' },
  pg_date: { kind: { kind: 'date' }, pgType: 'date', myType: '' },
  pg_text_icu: { kind: { kind: 'text' }, pgType: 'text COLLATE "en-x-icu"', myType: '' },
  pg_bigint: { kind: { kind: 'int' }, pgType: 'bigint', myType: '' },
  my_datetime: { kind: { kind: 'timestamp' }, pgType: '', myType: 'DATETIME' },
  my_datetime6: { kind: { kind: 'timestamp' }, pgType: '', myType: 'DATETIME(6)' },
  my_text_ci: { kind: { kind: 'text' }, pgType: '', myType: 'VARCHAR(32) COLLATE utf8mb4_general_ci' },
  my_bigint: { kind: { kind: 'int' }, pgType: '', myType: 'BIGINT' },
};

/** The n-th added column (1-based). */
export function addedColumn(n: number): ColumnDef {
  return n % 2 === 1
    ? { name: `x${n}`, kind: { kind: 'text' }, pgType: 'text', myType: 'VARCHAR(100)' }
    : { name: `x${n}`, kind: { kind: 'int' }, pgType: 'bigint', myType: 'BIGINT' };
}

/** The columns the pipeline reads (source order), with `added` columns appended. */
export function sourceColumns(spec: PipelineSpec, added: number): ColumnDef[] {
  const columns: ColumnDef[] = [...VALUE_COLUMNS];
  if (spec.cursor !== null) columns.push({ name: CURSOR_COLUMN, ...CURSOR_COLUMNS[spec.cursor] });
  for (let n = 1; n <= added; n++) columns.push(addedColumn(n));
  return columns;
}

/** Source columns plus `_etl_shard` for sharded sources: what the destination is compared on. */
export function modelColumns(spec: PipelineSpec, added: number): ColumnDef[] {
  const columns = sourceColumns(spec, added);
  if (spec.sharded)
    columns.push({ name: SHARD_COLUMN, kind: { kind: 'text' }, pgType: 'text', myType: 'TEXT' });
  return columns;
}

function cursorDefault(spec: PipelineSpec): string {
  return spec.cursor === 'pg_tstz_now' ? ' DEFAULT now()' : '';
}

export function createTableSql(spec: PipelineSpec, kind: SourceKind): string {
  const q = kind === 'postgres' ? (n: string) => `"${n}"` : (n: string) => `\`${n}\``;
  const lines: string[] = [];
  if (!spec.keyed)
    lines.push(kind === 'postgres' ? 'rid bigserial PRIMARY KEY' : 'rid BIGINT AUTO_INCREMENT PRIMARY KEY');
  for (const column of sourceColumns(spec, 0)) {
    const type = kind === 'postgres' ? column.pgType : column.myType;
    let suffix = '';
    if (column.name === KEY_COLUMN && spec.keyed && !spec.nullKeys) suffix = ' PRIMARY KEY';
    if (column.name === CURSOR_COLUMN)
      suffix = `${spec.nullCursor === null ? ' NOT NULL' : ' NULL'}${cursorDefault(spec)}`;
    lines.push(`${q(column.name)} ${type}${suffix}`);
  }
  const tail = kind === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci' : '';
  return `CREATE TABLE ${q(spec.name)} (${lines.join(', ')})${tail}`;
}

export function addColumnSql(spec: PipelineSpec, kind: SourceKind, n: number): string {
  const column = addedColumn(n);
  return kind === 'postgres'
    ? `ALTER TABLE "${spec.name}" ADD COLUMN "${column.name}" ${column.pgType} NULL`
    : `ALTER TABLE \`${spec.name}\` ADD COLUMN \`${column.name}\` ${column.myType} NULL`;
}

/** Key columns of a row's identity in the model: the key (+ shard), or none for keyless tables. */
export function identityColumns(spec: PipelineSpec): string[] | null {
  if (!spec.keyed) return null;
  return spec.sharded ? [KEY_COLUMN, SHARD_COLUMN] : [KEY_COLUMN];
}
