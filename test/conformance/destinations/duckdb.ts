/**
 * DuckDB destination fixture and reader. The reader opens the database file with a throwaway
 * READ_ONLY instance and renders values as text under TimeZone UTC (bytes as hex, since a BLOB's
 * VARCHAR form prints printable bytes as characters). `npm run chaos` reads its DuckDB
 * destinations with the same function.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbDestination } from '../../../daemon/destinations/duckdb/duckdb-destination.js';
import { silentLogger } from '../../../daemon/logging/logger.js';
import type { DestinationFixture } from '../destination.case.js';
import type { NormalRow } from '../normalise.js';
import { projectRow, quoted, readColumns, textSelectList, type ReadColumn } from './table-columns.js';

/** The rows of `main.<table>` in `file`, or null when the file or the table does not exist. */
export async function readDuckDbTable(
  file: string,
  table: string,
  columns: readonly ReadColumn[],
): Promise<NormalRow[] | null> {
  if (!existsSync(file)) return null;
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
    if (names.length === 0) return null;
    const present = new Set(names);
    const select = textSelectList(columns, present, {
      asText: (name) => `CAST(${name} AS VARCHAR)`,
      asHex: (name) => `hex(${name})`,
    });
    const reader = await connection.runAndReadAll(`SELECT ${select} FROM main.${quoted(table)}`);
    return reader.getRowObjectsJS().map((row) => projectRow(columns, present, row));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** One database file per table, under a temporary lake directory. */
export function duckdbFixture(): DestinationFixture & { readonly lakeDir: string } {
  const lakeDir = mkdtempSync(join(tmpdir(), 'etld-conformance-duckdb-'));
  const opened: { close(): Promise<void> }[] = [];
  return {
    lakeDir,
    destination(table) {
      const destination = duckdbDestination.create(
        { type: 'duckdb', path: `${table}.duckdb`, table },
        { lakeDir, logger: silentLogger, resolveConnection: () => ({}) },
      );
      opened.push(destination);
      return destination;
    },
    read: (table, columns) => readDuckDbTable(join(lakeDir, `${table}.duckdb`), table, readColumns(columns)),
    async close() {
      for (const destination of opened) await destination.close();
      rmSync(lakeDir, { recursive: true, force: true });
    },
  };
}
