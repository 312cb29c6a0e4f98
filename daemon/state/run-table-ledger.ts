/**
 * The SQL of `run_tables` (migration 9): the tables of each multi-table run, each a run of its own
 * under its member state name. The SQLite store (sqlite-store.ts) calls these with its prepared
 * statements.
 */
import type Database from 'better-sqlite3';
import { RUN_TABLE_COLUMNS, storedRunTableValue, toRunTable, type Row } from './row-mappers.js';
import type { RunTablePatch, RunTableRow } from './store.js';

type Prepare = (sql: string) => Database.Statement;

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
  const assignments = [...fields.map((f) => `${RUN_TABLE_COLUMNS[f]} = ?`), 'updated_at = ?'].join(', ');
  const values = fields.map((f) => storedRunTableValue(patch[f]));
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
