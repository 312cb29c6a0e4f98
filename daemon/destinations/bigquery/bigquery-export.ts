/**
 * Writes a load's parts as load files: NDJSON (default) or Parquet.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { BatchPart } from '../destination.js';
import { stagingDuckType } from '../../duckdb/staging-types.js';
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

/** The rows of Parquet files `exportPart` wrote, as a SELECT of the load's columns. */
export function parquetRelation(columns: readonly ColumnSchema[], files: readonly string[]): string {
  const list = columns.map((c) => quoteDuck(c.name)).join(', ');
  return `SELECT ${list} FROM read_parquet([${files.map(duckString).join(', ')}])`;
}

/**
 * Writes one part's rows as load files in `dir` (created), split by DuckDB into files of at most
 * `maxFileBytes`. A part without rows still leaves one empty file: a load without rows is still one
 * (empty) load, the run's commit record.
 */
export async function exportPart(
  part: BatchPart,
  columns: readonly ColumnSchema[],
  options: {
    format: LoadFormat;
    maxFileBytes: number;
    dir: string;
    /** merge: keep the newest row per key (highest cursor, then the latest staged row). */
    dedupe: { readonly key: readonly string[]; readonly cursor: string | undefined } | undefined;
  },
): Promise<ExportedFiles> {
  const { dir } = options;
  await mkdir(dir, { recursive: true });
  const select = columns.map((c) => {
    const quoted = quoteDuck(c.name);
    return options.format === 'ndjson' ? `${ndjsonExpression(quoted, c.type)} AS ${quoted}` : quoted;
  });
  let source = `SELECT ${select.join(', ')} FROM (${part.select}) AS part_rows`;
  if (options.dedupe !== undefined) {
    if (part.table === undefined)
      throw new EtlError('INTERNAL', 'a BigQuery merge part must be a staged table');
    // rowid is the staging table's insertion order: the later staged row wins a cursor tie.
    const order = [
      ...(options.dedupe.cursor === undefined ? [] : [`${quoteDuck(options.dedupe.cursor)} DESC NULLS LAST`]),
      'rowid DESC',
    ];
    source =
      `SELECT ${select.join(', ')} FROM ${part.table} QUALIFY row_number() OVER ` +
      `(PARTITION BY ${options.dedupe.key.map(quoteDuck).join(', ')} ORDER BY ${order.join(', ')}) = 1`;
  }
  const format = options.format === 'ndjson' ? 'FORMAT json' : 'FORMAT parquet';
  const copied = await part.connection.run(
    `COPY (${source}) TO ${duckString(dir)} (${format}, FILE_SIZE_BYTES ${options.maxFileBytes}, OVERWRITE_OR_IGNORE true)`,
  );
  let names = (await readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (names.length === 0) {
    if (options.format === 'ndjson') {
      await writeFile(join(dir, 'empty.json'), '');
      names = ['empty.json'];
    } else {
      // Typed from the columns, not from the part: a streamed part cannot be read twice.
      const empty = columns.map((c) => `CAST(NULL AS ${stagingDuckType(c.type)}) AS ${quoteDuck(c.name)}`);
      await part.connection.run(
        `COPY (SELECT ${empty.join(', ')} WHERE false) TO ${duckString(join(dir, 'empty.parquet'))} (${format})`,
      );
      names = ['empty.parquet'];
    }
  }
  const files = names.map((n) => join(dir, n));
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  return { files, bytes, rows: copied.rowsChanged };
}
