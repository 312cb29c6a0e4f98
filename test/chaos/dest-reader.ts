/**
 * Reads what a destination holds, as normalised rows in the model's column order.
 *
 * Decisions:
 * - DuckDB: the file is opened READ_ONLY by a throwaway instance (the daemon has exited by then),
 *   values are `CAST(… AS VARCHAR)` under TimeZone UTC.
 * - PostgreSQL: `::text` under TimeZone UTC, read directly (not through the fault proxy).
 * - Delta: delta-rs (delta-oracle.ts), all Delta tables of a round in one process;
 *   a path whose `_delta_log` holds no commit (no `NNN.json`, no checkpoint) is an empty, never
 *   created table, as the Delta protocol has it (a table exists from version 0 on); a crash can
 *   leave that state between creating the directory and writing the first commit.
 * - A table that does not exist is empty; a column the destination lacks (added in the source but
 *   not loaded yet) reads as NULL. Metadata columns other than `_etl_shard` are ignored.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readDeltaTables, type DeltaTableRead } from './delta-oracle.js';
import { normaliseValue, type NormalRow } from './normalise.js';
import type { ColumnDef } from './source-schema.js';
import type { SqlTarget } from './sql-target.js';

export type DestinationLocation =
  | { readonly kind: 'duckdb'; readonly file: string; readonly table: string }
  | {
      readonly kind: 'postgres';
      readonly target: SqlTarget;
      readonly database: string;
      readonly table: string;
    }
  | { readonly kind: 'delta'; readonly path: string };

export interface DestinationRead {
  readonly rows: NormalRow[];
  readonly error?: string;
}

function project(
  columns: readonly ColumnDef[],
  present: ReadonlySet<string>,
  row: Record<string, unknown>,
): NormalRow {
  return columns.map((c) => (present.has(c.name) ? normaliseValue(c.kind, row[c.name]) : null));
}

async function readDuckDb(
  file: string,
  table: string,
  columns: readonly ColumnDef[],
): Promise<DestinationRead> {
  if (!existsSync(file)) return { rows: [] };
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const names = (
      await connection.runAndReadAll(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' AND table_name = '${table.replaceAll("'", "''")}'`,
      )
    )
      .getRowObjectsJS()
      .map((r) => (typeof r.column_name === 'string' ? r.column_name : ''));
    if (names.length === 0) return { rows: [] };
    const present = new Set(names);
    const wanted = columns.filter((c) => present.has(c.name));
    const select = wanted.map((c) => `CAST("${c.name}" AS VARCHAR) AS "${c.name}"`).join(', ');
    const reader = await connection.runAndReadAll(`SELECT ${select} FROM main."${table}"`);
    return { rows: reader.getRowObjectsJS().map((row) => project(columns, present, row)) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function readPostgres(
  target: SqlTarget,
  database: string,
  table: string,
  columns: readonly ColumnDef[],
): Promise<DestinationRead> {
  const names = (
    await target.run(
      database,
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
      [table],
    )
  ).map((r) => String(r.column_name));
  if (names.length === 0) return { rows: [] };
  const present = new Set(names);
  const select = columns
    .filter((c) => present.has(c.name))
    .map((c) => `"${c.name}"::text AS "${c.name}"`)
    .join(', ');
  const rows = await target.run(database, `SELECT ${select} FROM public."${table}"`);
  return { rows: rows.map((row) => project(columns, present, row)) };
}

const DELTA_VERSION_FILE = /^\d{20}\.(json|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet)$/;

function hasDeltaCommit(tablePath: string): boolean {
  const log = join(tablePath, '_delta_log');
  return existsSync(log) && readdirSync(log).some((name) => DELTA_VERSION_FILE.test(name));
}

/** Reads every location; Delta tables in one oracle process. Never throws: errors are per table. */
export async function readDestinations(
  requests: readonly { readonly location: DestinationLocation; readonly columns: readonly ColumnDef[] }[],
): Promise<DestinationRead[]> {
  const deltaPaths = requests.flatMap((r) =>
    r.location.kind === 'delta' && hasDeltaCommit(r.location.path) ? [r.location.path] : [],
  );
  let delta: Record<string, DeltaTableRead> = {};
  let deltaError: string | undefined;
  if (deltaPaths.length > 0) {
    try {
      delta = await readDeltaTables(deltaPaths);
    } catch (error) {
      deltaError = `delta-rs oracle failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const out: DestinationRead[] = [];
  for (const { location, columns } of requests) {
    try {
      switch (location.kind) {
        case 'duckdb':
          out.push(await readDuckDb(location.file, location.table, columns));
          break;
        case 'postgres':
          out.push(await readPostgres(location.target, location.database, location.table, columns));
          break;
        case 'delta': {
          if (!deltaPaths.includes(location.path)) {
            out.push({ rows: [] });
            break;
          }
          const table = delta[location.path];
          if (deltaError !== undefined || table === undefined || table.error !== undefined) {
            out.push({ rows: [], error: deltaError ?? table?.error ?? 'no answer from the oracle' });
            break;
          }
          const present = new Set((table.schema ?? []).map((f) => f.name));
          out.push({ rows: (table.rows ?? []).map((row) => project(columns, present, row)) });
          break;
        }
      }
    } catch (error) {
      out.push({ rows: [], error: error instanceof Error ? error.message : String(error) });
    }
  }
  return out;
}
