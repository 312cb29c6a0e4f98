/**
 * Bulk path of the PostgreSQL destination: DuckDB writes the staged rows as CSV into the run's work
 * directory, and the file streams into `COPY … FROM STDIN (FORMAT csv)` on the caller's connection
 * (inside the caller's transaction).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StagedBatch } from '../destination.js';
import { columnList, quoteIdent } from './postgres-sql.js';
import { csvExpression } from './postgres-types.js';

function duckString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Writes the batch as headerless CSV. DuckDB writes NULL as an empty field and the empty string as
 * `""`, which is exactly how PostgreSQL's CSV format tells them apart.
 */
export async function writeCsv(
  batch: StagedBatch,
  fileName: string,
): Promise<{ path: string; bytes: number }> {
  const path = join(batch.workDir, fileName);
  const select = batch.columns.map(
    (c) => `${csvExpression(quoteIdent(c.name), c.type)} AS ${quoteIdent(c.name)}`,
  );
  await batch.connection.run(
    `COPY (SELECT ${select.join(', ')} FROM ${batch.relation}) TO ${duckString(path)} (FORMAT csv, HEADER false)`,
  );
  return { path, bytes: (await stat(path)).size };
}

/**
 * Streams a CSV file into `target`. On abort the copy stream is destroyed, which sends CopyFail:
 * the server aborts the COPY and the caller's transaction can roll back on the same connection.
 */
export async function copyCsvInto(
  client: PoolClient,
  target: string,
  columns: StagedBatch['columns'],
  path: string,
  signal: AbortSignal,
): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${target} (${columnList(columns)}) FROM STDIN (FORMAT csv)`));
  await pipeline(createReadStream(path), sink, { signal });
  return sink.rowCount ?? 0;
}
