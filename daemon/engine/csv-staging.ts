/**
 * Staging CSV (the source data contract, see daemon/sources/source.ts) → typed DuckDB rows.
 * Every field is read as VARCHAR and converted here, so a value that does not convert fails with
 * a message naming the column instead of DuckDB's anonymous "Could not convert string".
 * Timestamptz text always carries its offset (`+00`), so the result does not depend on the
 * connection's TimeZone; the engine still runs with `SET TimeZone='UTC'` for what it does next.
 */
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import { stagingDuckType } from './staging-types.js';

/**
 * Rows may carry large text or hex-encoded blobs; DuckDB's default line limit is 2 MB. The reader
 * allocates a buffer of `buffer_size` per file and thread (default 16 × max_line_size), so the
 * two are set together: a 32 MiB row is the largest a run accepts, and memory stays bounded.
 */
const MAX_LINE_BYTES = 32 * 1024 * 1024;

function duckString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function duckIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The typed conversion of raw field `raw` (an identifier) for `column`, failing loudly. */
function typedExpression(raw: string, column: ColumnSchema): string {
  const type = column.type;
  let attempt: string;
  switch (type.kind) {
    case 'text':
    case 'json':
    case 'uuid':
      return raw;
    case 'bool':
      attempt = `CASE ${raw} WHEN 't' THEN true WHEN 'f' THEN false END`;
      break;
    case 'bytes':
      attempt = `try(from_hex(${raw}))`;
      break;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
    case 'decimal':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      attempt = `TRY_CAST(${raw} AS ${stagingDuckType(type)})`;
      break;
  }
  const message = duckString(`etld: staging column "${column.name}" (${typeToString(type)}) cannot read the value `);
  const failure = `error(${message} || '''' || left(${raw}, 60) || '''')`;
  // COALESCE only evaluates the failure branch for rows whose conversion gave NULL.
  return `CAST(coalesce(${attempt}, CASE WHEN ${raw} IS NULL THEN NULL ELSE ${failure} END) AS ${stagingDuckType(type)})`;
}

/**
 * DuckDB SQL that reads staging-CSV `files` (same column order as `columns`) and returns rows
 * typed with `stagingDuckType`, named after the columns.
 */
export function stagingCsvSelect(files: readonly string[], columns: readonly ColumnSchema[]): string {
  if (files.length === 0) throw new EtlError('INTERNAL', 'stagingCsvSelect needs at least one staging file');
  if (columns.length === 0) throw new EtlError('INTERNAL', 'stagingCsvSelect needs at least one column');
  const raw = columns.map((_, index) => `c${index + 1}`);
  const select = columns
    .map((column, index) => `${typedExpression(raw[index] ?? '', column)} AS ${duckIdentifier(column.name)}`)
    .join(', ');
  const fileList = `[${files.map(duckString).join(', ')}]`;
  const columnTypes = `{${raw.map((name) => `'${name}': 'VARCHAR'`).join(', ')}}`;
  const options = [
    'header = false',
    "delim = ','",
    `quote = '"'`,
    `escape = '"'`,
    "new_line = '\\n'",
    "nullstr = ''",
    'allow_quoted_nulls = false',
    `columns = ${columnTypes}`,
    'auto_detect = false',
    'strict_mode = true',
    // One reader thread per file: faster than the parallel reader on small machines (measured on
    // 2 cores), and required for a FIFO, which cannot be read from several offsets.
    'parallel = false',
    `max_line_size = ${MAX_LINE_BYTES}`,
    `buffer_size = ${MAX_LINE_BYTES}`,
  ];
  return `SELECT ${select} FROM read_csv(${fileList}, ${options.join(', ')})`;
}
