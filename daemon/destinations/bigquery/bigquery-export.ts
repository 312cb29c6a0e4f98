/**
 * Writes the staged rows as load files: NDJSON (default) or Parquet, split by DuckDB into files
 * of at most `maxFileBytes`.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StagedBatch } from '../destination.js';
import { ndjsonExpression } from './bigquery-types.js';

export type LoadFormat = 'ndjson' | 'parquet';

export interface ExportedFiles {
  readonly files: readonly string[];
  readonly bytes: number;
  /** Rows written (after de-duplication for merges). */
  readonly rows: number;
}

function quoteDuck(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function duckString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export async function exportBatch(
  batch: StagedBatch,
  options: {
    format: LoadFormat;
    maxFileBytes: number;
    name: string;
    /** merge: keep the newest row per key (highest cursor, then the latest staged row). */
    dedupe: { readonly key: readonly string[]; readonly cursor: string | undefined } | undefined;
  },
): Promise<ExportedFiles> {
  const dir = join(batch.workDir, options.name);
  await mkdir(dir, { recursive: true });
  const select = batch.columns.map((c) => {
    const quoted = quoteDuck(c.name);
    return options.format === 'ndjson' ? `${ndjsonExpression(quoted, c.type)} AS ${quoted}` : quoted;
  });
  let qualify = '';
  if (options.dedupe !== undefined) {
    // rowid is the staging table's insertion order: the later staged row wins a cursor tie.
    const order = [
      ...(options.dedupe.cursor === undefined ? [] : [`${quoteDuck(options.dedupe.cursor)} DESC NULLS LAST`]),
      'rowid DESC',
    ];
    qualify = ` QUALIFY row_number() OVER (PARTITION BY ${options.dedupe.key.map(quoteDuck).join(', ')} ORDER BY ${order.join(', ')}) = 1`;
  }
  const source = `SELECT ${select.join(', ')} FROM ${batch.relation}${qualify}`;
  const rowCount = Number(
    (await batch.connection.runAndReadAll(`SELECT count(*)::BIGINT FROM (${source})`)).getRows()[0]?.[0] ?? 0,
  );
  const format = options.format === 'ndjson' ? 'FORMAT json' : 'FORMAT parquet';
  await batch.connection.run(
    `COPY (${source}) TO ${duckString(dir)} (${format}, FILE_SIZE_BYTES ${options.maxFileBytes}, OVERWRITE_OR_IGNORE true)`,
  );
  let names = (await readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) {
    // No rows: an empty NDJSON file still makes one (empty) load, the run's commit record.
    const empty = options.format === 'ndjson' ? 'empty.json' : undefined;
    if (empty === undefined) {
      await batch.connection.run(
        `COPY (${source} LIMIT 0) TO ${duckString(join(dir, 'empty.parquet'))} (${format})`,
      );
      names = ['empty.parquet'];
    } else {
      await writeFile(join(dir, empty), '');
      names = [empty];
    }
  }
  const files = names.map((n) => join(dir, n));
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  return { files, bytes, rows: rowCount };
}
