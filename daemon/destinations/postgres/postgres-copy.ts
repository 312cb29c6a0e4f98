/**
 * Bulk path of the PostgreSQL destination: DuckDB writes each part's rows as CSV into the load's
 * work directory while they stream out of the source, and at the commit the files stream into
 * `COPY … FROM STDIN (FORMAT csv)` on the caller's connection (inside the caller's transaction), so
 * no table lock is held while the source is read.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { BatchPart } from '../destination.js';
import type { ColumnSchema } from '../../../shared/types.js';
import { columnList, quoteIdent } from './postgres-sql.js';
import { csvExpression } from './postgres-types.js';

function duckString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Writes a part as a headerless CSV file at `path`; resolves with the rows written. DuckDB writes
 * NULL as an empty field and the empty string as `""`, which is exactly how PostgreSQL's CSV
 * format tells them apart.
 */
export async function writeCsv(
  part: BatchPart,
  columns: readonly ColumnSchema[],
  path: string,
): Promise<number> {
  const select = columns.map((c) => `${csvExpression(quoteIdent(c.name), c.type)} AS ${quoteIdent(c.name)}`);
  // A staged table is copied in staging order: a merge's later row wins a cursor tie.
  const from = part.table === undefined ? `(${part.select}) AS part_rows` : `${part.table} ORDER BY rowid`;
  const result = await part.connection.run(
    `COPY (SELECT ${select.join(', ')} FROM ${from}) TO ${duckString(path)} (FORMAT csv, HEADER false)`,
  );
  return result.rowsChanged;
}

/**
 * Streams a CSV file into `target`. On abort the copy stream is destroyed, which sends CopyFail:
 * the server aborts the COPY and the caller's transaction can roll back on the same connection.
 */
export async function copyCsvInto(
  client: PoolClient,
  target: string,
  columns: readonly ColumnSchema[],
  path: string,
  signal: AbortSignal,
): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${target} (${columnList(columns)}) FROM STDIN (FORMAT csv)`));
  await pipeline(createReadStream(path), sink, { signal });
  return sink.rowCount ?? 0;
}

/** Streams every file into `target` in order; resolves with the rows the server copied. */
export async function copyFilesInto(
  client: PoolClient,
  target: string,
  columns: readonly ColumnSchema[],
  files: readonly string[],
  signal: AbortSignal,
): Promise<number> {
  let rows = 0;
  for (const path of files) rows += await copyCsvInto(client, target, columns, path, signal);
  return rows;
}
