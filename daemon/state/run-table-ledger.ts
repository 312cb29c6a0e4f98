/**
 * The SQL of `run_tables` (migration 9): the tables of each multi-table run, each a run of its own
 * under its member state name. The SQLite store (sqlite-store.ts) calls these with its prepared
 * statements.
 */
import type Database from 'better-sqlite3';
import { storedErrorCode } from '../../shared/errors.js';
import type { RunRow, RunTablePatch, RunTableRow, RunTableStatus } from './store.js';

type Prepare = (sql: string) => Database.Statement;
type Row = Record<string, unknown>;

function toRunTable(row: Row): RunTableRow {
  const code = row.error_code as string | null;
  return {
    pipeline: row.pipeline as string,
    sequence: row.sequence as number,
    table: row.table_name as string,
    member: row.member as string,
    memberSequence: (row.member_sequence as number | null) ?? null,
    status: row.status as RunTableStatus,
    attempts: row.attempts as number,
    rowsExtracted: row.rows_extracted as number,
    rowsLoaded: row.rows_loaded as number,
    bytes: row.bytes as number,
    verdict: (row.verdict as RunRow['verdict']) ?? null,
    errorCode: code === null ? null : storedErrorCode(code),
    errorMessage: (row.error_message as string | null) ?? null,
    retryable: row.retryable === 1,
    updatedAt: row.updated_at as string,
  };
}

const COLUMNS: Readonly<Record<keyof RunTablePatch, string>> = {
  memberSequence: 'member_sequence',
  status: 'status',
  attempts: 'attempts',
  rowsExtracted: 'rows_extracted',
  rowsLoaded: 'rows_loaded',
  bytes: 'bytes',
  verdict: 'verdict',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  retryable: 'retryable',
};

export function upsertRunTable(
  prepare: Prepare,
  key: { pipeline: string; sequence: number; table: string; member: string; at: string },
  patch: RunTablePatch,
): RunTableRow {
  prepare(
    `INSERT INTO run_tables (pipeline, sequence, table_name, member, status, updated_at)
     VALUES (?, ?, ?, ?, 'pending', ?) ON CONFLICT (pipeline, sequence, table_name) DO NOTHING`,
  ).run(key.pipeline, key.sequence, key.table, key.member, key.at);
  const fields = (Object.keys(patch) as (keyof RunTablePatch)[]).filter((f) => patch[f] !== undefined);
  // The statement's shape depends only on which fields are set: few distinct shapes, all prepared once.
  const assignments = [...fields.map((f) => `${COLUMNS[f]} = ?`), 'updated_at = ?'].join(', ');
  const values = fields.map((f) => {
    const value = patch[f];
    return typeof value === 'boolean' ? (value ? 1 : 0) : value;
  });
  prepare(`UPDATE run_tables SET ${assignments} WHERE pipeline = ? AND sequence = ? AND table_name = ?`).run(
    ...values,
    key.at,
    key.pipeline,
    key.sequence,
    key.table,
  );
  const row = prepare('SELECT * FROM run_tables WHERE pipeline = ? AND sequence = ? AND table_name = ?').get(
    key.pipeline,
    key.sequence,
    key.table,
  ) as Row;
  return toRunTable(row);
}

export function listRunTables(prepare: Prepare, pipeline: string, sequence: number): RunTableRow[] {
  return (
    prepare('SELECT * FROM run_tables WHERE pipeline = ? AND sequence = ? ORDER BY table_name').all(
      pipeline,
      sequence,
    ) as Row[]
  ).map(toRunTable);
}

export function latestRunTables(prepare: Prepare, pipeline: string): RunTableRow[] {
  return (
    prepare(
      `SELECT t.* FROM run_tables t
       WHERE t.pipeline = ? AND t.sequence = (
         SELECT max(sequence) FROM run_tables u WHERE u.pipeline = t.pipeline AND u.table_name = t.table_name)
       ORDER BY t.table_name`,
    ).all(pipeline) as Row[]
  ).map(toRunTable);
}
