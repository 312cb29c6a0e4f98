/**
 * What the queries of one BigQuery load would process, for `etlctl plan`: on-demand pricing bills
 * query jobs by the bytes they process, and load jobs not at all.
 *
 * Decisions:
 * - The estimate follows the way bigquery-destination.ts loads. One load file in full or
 *   incremental mode goes by a load job straight into the table: no query. More files (or one
 *   over `maxFileBytes`, which the export splits) load into a staging table, then a
 *   `SELECT … FROM staging` query writes the table: it processes the staged rows. merge and
 *   append_missing always go through staging, and their MERGE / `INSERT … SELECT` read the target
 *   table as well.
 * - The staged bytes are the files' sizes in the store, so the figure is an estimate: BigQuery
 *   counts logical bytes (uncompressed, by type: 8 per INT64, 2 + the UTF-8 length per STRING…).
 *   A gzip/zstd-compressed file or a Parquet file holds several times its size once loaded; CSV
 *   text is close; NDJSON, which repeats every field name, shrinks.
 * - The target counts with `tables.get` numBytes, every column: a MERGE with an UPDATE clause is
 *   billed the whole table's bytes on top of what it reads (the key columns, which this leaves
 *   out), and append_missing reads the compared columns, all but the small `_etl_*` metadata.
 * - Not counted: the run's read of `_etld_commits` (a few short columns), the one-row INSERT
 *   that records the commit, and on-demand billing's minimum of 10 MB per table a query reads.
 */
import { formatBytes } from '../../../shared/format-bytes.js';
import type { LoadMode } from '../destination.js';

export interface LoadQueryEstimate {
  readonly queryBytes: number;
  /** What was counted, for the plan. */
  readonly detail: string;
}

export interface LoadShape {
  readonly mode: LoadMode;
  /** The files' size in the store. */
  readonly loadBytes: number;
  readonly loadFiles: number;
  /** The destination's largest load file (BigQueryTuning.maxFileBytes). */
  readonly maxFileBytes: number;
}

/** The staging path applies: several load files, or a mode that needs the whole batch in a table. */
function loadsViaStaging(shape: LoadShape): boolean {
  if (shape.mode === 'merge' || shape.mode === 'append_missing') return true;
  return shape.loadFiles > 1 || shape.loadBytes > shape.maxFileBytes;
}

function staged(bytes: number): string {
  return `the staged rows (~${formatBytes(bytes)}, from the files' size in the store; compressed files are larger once loaded)`;
}

/**
 * The estimate for `shape`; `target` is the target table as tables.get describes it (undefined:
 * it does not exist yet). Only merge and append_missing read it.
 */
export function estimateLoadQueries(
  shape: LoadShape,
  target: { readonly numBytes: number | undefined } | undefined,
): LoadQueryEstimate {
  const { mode, loadBytes, loadFiles } = shape;
  if (loadFiles === 0) return { queryBytes: 0, detail: 'no file to load: no query runs' };
  if (!loadsViaStaging(shape)) {
    return {
      queryBytes: 0,
      detail: 'one load file: a load job writes the table directly (load jobs are not billed); no query runs',
    };
  }
  if (mode === 'full' || mode === 'incremental') {
    return {
      queryBytes: loadBytes,
      detail: `the files load into a staging table (load jobs, not billed), then SELECT … FROM staging scans ${staged(loadBytes)}`,
    };
  }
  const statement = mode === 'merge' ? 'MERGE' : 'INSERT … SELECT of the rows the table lacks';
  const targetText =
    target === undefined
      ? 'the target table, which does not exist yet (0 bytes)'
      : target.numBytes === undefined
        ? 'the target table (not counted: tables.get gave no numBytes)'
        : `the target table (${formatBytes(target.numBytes)}, tables.get numBytes)`;
  return {
    queryBytes: loadBytes + (target?.numBytes ?? 0),
    detail: `${statement} scans ${staged(loadBytes)} and ${targetText}`,
  };
}
