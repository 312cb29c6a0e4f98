/**
 * How one data file of a `files` source is read: its format, its outer compression, the CSV
 * dialect and how nested values are treated. The reader (file-schema.ts, file-extract.ts) reads
 * exactly what this says and detects nothing else: a dialect DuckDB guessed differently for each
 * file would give the files of one batch different columns.
 */

export interface CsvOptions {
  readonly delimiter: string;
  readonly quote: string;
  readonly escape: string;
  /** The first line names the columns; without it DuckDB names them `column0`, `column1`… */
  readonly header: boolean;
  readonly encoding: 'utf-8' | 'utf-16' | 'latin-1';
  /**
   * The text that stands for NULL. `null`: an empty unquoted field is NULL (`""` stays an empty
   * string). With a null string set, an empty field is an empty string.
   */
  readonly nullString: string | null;
}

export interface FileReadSpec {
  readonly format: 'csv' | 'ndjson' | 'parquet';
  /** Compression of the whole file (Parquet compresses inside: `none`). */
  readonly compression: 'none' | 'gzip' | 'zstd';
  readonly csv: CsvOptions;
  /** Rows sampled per file for type inference (CSV, NDJSON). */
  readonly sampleRows: number;
  /** Nested values (STRUCT, LIST, MAP, arrays): loaded as JSON text, or refused naming the column. */
  readonly nested: 'json' | 'refuse';
}

export const DEFAULT_CSV_OPTIONS: CsvOptions = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  header: true,
  encoding: 'utf-8',
  nullString: null,
};
