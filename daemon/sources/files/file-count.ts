/**
 * The rows of one local file, for `etlctl plan` (file-preview.ts): `count(*)` over the same
 * DuckDB reader a run uses, so the figure is the rows a run would load. Parquet answers from its
 * footer; CSV and NDJSON are read through. An empty file has no rows (and no header to read).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { hasContent } from './file-content-checks.js';
import type { FileReadSpec } from './file-read-spec.js';
import { fileReaderSql } from './file-reader-sql.js';
import { fileQuery } from './file-schema.js';

export async function countFileRows(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  fileName: string,
  signal?: AbortSignal,
): Promise<number> {
  if (spec.format !== 'parquet' && !(await hasContent(localPath, spec.compression, fileName, signal)))
    return 0;
  const rows = await fileQuery(
    connection,
    `SELECT count(*)::VARCHAR FROM ${fileReaderSql(localPath, spec)}`,
    localPath,
    spec,
    fileName,
    signal,
  );
  return Number(rows[0]?.[0] ?? 0);
}
