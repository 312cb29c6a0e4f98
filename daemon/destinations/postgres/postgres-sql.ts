/** Naming and statement text for the PostgreSQL destination. */
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import { postgresType } from './postgres-types.js';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `table` or `schema.table` as written in the pipeline file; names are used exactly as written. */
export interface TableName {
  readonly schema: string | undefined;
  readonly table: string;
}

export function parseTableName(text: string): TableName {
  const parts = text.split('.');
  const [first, second] = parts;
  if (parts.length === 1 && first) return { schema: undefined, table: first };
  if (parts.length === 2 && first && second) return { schema: first, table: second };
  throw new EtlError(
    'CONFIG_INVALID',
    `postgres destination table "${text}": expected table or schema.table`,
  );
}

/** Quoted `schema.name` (or just `name` when the table has no explicit schema). */
export function qualified(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export function columnDefinitions(columns: readonly ColumnSchema[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${postgresType(c.type)}`).join(', ');
}

export function columnList(columns: readonly ColumnSchema[]): string {
  return columns.map((c) => quoteIdent(c.name)).join(', ');
}

/** The commit record, kept next to the data table and written in the data's transaction. */
export function commitsTableDdl(schema: string | undefined): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, '_etld_commits')} (
    pipeline text NOT NULL,
    sequence bigint NOT NULL,
    run_id text NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    rows bigint NOT NULL,
    PRIMARY KEY (pipeline, sequence)
  )`;
}

/**
 * Upsert from the staging table: the newest row per key (highest cursor, then the latest staged
 * row) replaces or inserts the destination row. DISTINCT ON de-duplicates first because ON
 * CONFLICT refuses to touch one row twice in a statement.
 */
export function upsertSql(options: {
  target: string;
  staging: string;
  columns: readonly ColumnSchema[];
  key: readonly string[];
  cursor: string | undefined;
}): string {
  const keyList = options.key.map(quoteIdent).join(', ');
  const order = [
    keyList,
    ...(options.cursor === undefined ? [] : [`${quoteIdent(options.cursor)} DESC NULLS LAST`]),
    '"_etld_ord" DESC',
  ].join(', ');
  const keySet = new Set(options.key);
  const updates = options.columns
    .filter((c) => !keySet.has(c.name))
    .map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`);
  const onConflict = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`;
  const columns = columnList(options.columns);
  return `INSERT INTO ${options.target} (${columns})
    SELECT DISTINCT ON (${keyList}) ${columns} FROM ${options.staging} ORDER BY ${order}
    ON CONFLICT (${keyList}) ${onConflict}`;
}
