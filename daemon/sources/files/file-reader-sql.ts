/**
 * The DuckDB table function that reads one local file as a `FileReadSpec` says, with every
 * option DuckDB would otherwise guess spelled out:
 * - paths are glob patterns to DuckDB's readers (`data[1].csv` would read `data1.csv`), so `*`,
 *   `?` and `[` are escaped as one-character classes;
 * - CSV: `skip = 0` and `comment = ''` (the sniffer otherwise skips leading rows it finds
 *   ragged and drops rows starting with `#`), `allow_quoted_nulls = false` (`""` is an empty
 *   string, never NULL), strict mode, no null padding, no ignored errors;
 * - NDJSON: `records = true` (each line must be an object: its keys are the columns);
 * - compression is named, never detected from the file name.
 */
import { quoteLiteral } from '../../duckdb/duck-sql.js';
import type { FileReadSpec } from './file-read-spec.js';

/**
 * The longest CSV line (and JSON object) a file may hold. A run reads several files at once
 * within its memory limit (96 MiB by default), each reader holding buffers sized from this.
 * A longer line fails the file naming it.
 */
const MAX_LINE_BYTES = 1024 * 1024;

/** A column name and the DuckDB type its values are read as. */
export interface ReadColumnType {
  readonly name: string;
  readonly duckType: string;
}

/** `localPath` as a SQL literal DuckDB reads as exactly that one file. */
export function duckFileLiteral(localPath: string): string {
  return quoteLiteral(localPath.replace(/[*?[]/g, (special) => `[${special}]`));
}

function typesStruct(columns: readonly ReadColumnType[]): string {
  return `{${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.duckType)}`).join(', ')}}`;
}

function csvReader(path: string, spec: FileReadSpec, types: readonly ReadColumnType[] | undefined): string {
  const csv = spec.csv;
  const options = [
    `delim = ${quoteLiteral(csv.delimiter)}`,
    `quote = ${quoteLiteral(csv.quote)}`,
    `escape = ${quoteLiteral(csv.escape)}`,
    `header = ${csv.header}`,
    `encoding = ${quoteLiteral(csv.encoding)}`,
    `compression = ${quoteLiteral(spec.compression)}`,
    `nullstr = ${quoteLiteral(csv.nullString ?? '')}`,
    'allow_quoted_nulls = false',
    `sample_size = ${spec.sampleRows}`,
    'skip = 0',
    "comment = ''",
    'strict_mode = true',
    'null_padding = false',
    'ignore_errors = false',
    // DuckDB sizes its buffers from this. The parallel reader stays: DuckDB's single-threaded
    // reader (parallel = false) silently drops the rest of a file after an unclosed quote.
    `max_line_size = ${MAX_LINE_BYTES}`,
  ];
  // `types` keeps the dialect sniffing (date and timestamp formats of this file) but converts
  // every value with the batch's type instead of the one detected.
  if (types !== undefined && types.length > 0) options.push(`types = ${typesStruct(types)}`);
  return `read_csv(${path}, ${options.join(', ')})`;
}

function ndjsonReader(
  path: string,
  spec: FileReadSpec,
  types: readonly ReadColumnType[] | undefined,
): string {
  const options = [
    "format = 'newline_delimited'",
    'records = true',
    `compression = ${quoteLiteral(spec.compression === 'none' ? 'uncompressed' : spec.compression)}`,
    `sample_size = ${spec.sampleRows}`,
    `maximum_object_size = ${MAX_LINE_BYTES}`,
  ];
  // With `columns`, keys missing from an object are NULL and other keys are not read.
  if (types !== undefined && types.length > 0) options.push(`columns = ${typesStruct(types)}`);
  return `read_json(${path}, ${options.join(', ')})`;
}

/**
 * The table function reading `localPath`. `types` (CSV, NDJSON) forces the type each named
 * column is read as; Parquet columns have their own types and are cast by the caller.
 */
export function fileReaderSql(
  localPath: string,
  spec: FileReadSpec,
  types?: readonly ReadColumnType[],
): string {
  const path = duckFileLiteral(localPath);
  switch (spec.format) {
    case 'csv':
      return csvReader(path, spec, types);
    case 'ndjson':
      return ndjsonReader(path, spec, types);
    case 'parquet':
      return `read_parquet(${path})`;
  }
}
