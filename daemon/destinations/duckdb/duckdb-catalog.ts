/**
 * Reading a DuckDB destination file's catalog: the table's columns (as normalised DuckDB type
 * names) and the `_etld_commits` record. Works on an attached catalog (`alias`) of any connection.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral, queryStrings } from '../../duckdb/duck-sql.js';
import type { CommittedSequence } from '../destination.js';
import type { NativeColumn } from '../schema-diff.js';

export const COMMITS_TABLE = '_etld_commits';

/** information_schema spells some types differently from the names used to create them. */
const TYPE_SPELLINGS: Readonly<Record<string, string>> = {
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
  'TIME WITH TIME ZONE': 'TIMETZ',
};

function normaliseDuckType(type: string): string {
  const upper = type.trim().toUpperCase();
  return TYPE_SPELLINGS[upper] ?? upper;
}

export async function readTableColumns(
  connection: DuckDBConnection,
  alias: string,
  schema: string,
  table: string,
): Promise<NativeColumn[] | null> {
  const rows = await queryStrings(
    connection,
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_catalog = ${quoteLiteral(alias)} AND table_schema = ${quoteLiteral(schema)} AND table_name = ${quoteLiteral(table)}
      ORDER BY ordinal_position`,
  );
  if (rows.length === 0) return null;
  return rows.map(([name, type]) => ({ name: name ?? '', nativeType: normaliseDuckType(type ?? '') }));
}

async function hasCommitsTable(connection: DuckDBConnection, alias: string): Promise<boolean> {
  return (await readTableColumns(connection, alias, 'main', COMMITS_TABLE)) !== null;
}

/** The newest sequence `pipeline` committed into this file, with the run attempt that committed it. */
export async function readCommittedSequence(
  connection: DuckDBConnection,
  alias: string,
  pipeline: string,
): Promise<CommittedSequence | null> {
  if (!(await hasCommitsTable(connection, alias))) return null;
  const rows = await queryStrings(
    connection,
    `SELECT CAST(sequence AS VARCHAR), run_id FROM ${quoteIdent(alias)}.main.${quoteIdent(COMMITS_TABLE)}
      WHERE pipeline = ${quoteLiteral(pipeline)} ORDER BY sequence DESC LIMIT 1`,
  );
  const [sequence, runId] = rows[0] ?? [];
  return sequence === null || sequence === undefined
    ? null
    : { sequence: Number(sequence), runId: runId ?? null };
}
