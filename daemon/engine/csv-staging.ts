/**
 * Staging CSV (the source data contract, see daemon/sources/source.ts) → typed DuckDB rows.
 * Every field is read as VARCHAR and converted here, so a value that does not convert fails with
 * a message naming the part, row number, column and type instead of DuckDB's "Could not convert
 * string 'value'" (which would carry row contents into logs and mails).
 * Timestamptz text always carries its offset (`+00`), so the result does not depend on the
 * connection's TimeZone; the engine still runs with `SET TimeZone='UTC'` for what it does next.
 */
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import { stagingDuckType } from '../duckdb/staging-types.js';
import { MAX_ROW_BYTES } from './part-failure.js';

/**
 * Rows may carry large text or hex-encoded blobs; DuckDB's default line limit is 2 MB. The reader
 * holds buffers of `buffer_size` per file, which count against the run's memory limit while two
 * parts stream at once, so the two are set together: an 8 MiB row is the largest a run accepts
 * (a longer one fails the run naming the part), and memory stays bounded.
 */
const MAX_LINE_BYTES = MAX_ROW_BYTES;

function duckString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function duckIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** How staging reads one part: where its rows come from, and source options that shape values. */
export interface StagingOptions {
  /** The part's label in messages (`s1/3`); rows are numbered when `rowSequence` is given. */
  readonly part?: string;
  /** A DuckDB sequence (created on the staging connection) that numbers the rows as they arrive. */
  readonly rowSequence?: string;
  /**
   * PostgreSQL `infinity` / `-infinity` dates and timestamps: no destination type holds them (Delta
   * and BigQuery readers fail on the sentinel), so they fail the run by default, or load as NULL.
   */
  readonly infiniteDates?: 'error' | 'null';
}

const ROW_NUMBER = '__etld_row';
const INFINITE_KINDS: ReadonlySet<string> = new Set(['date', 'timestamp', 'timestamptz']);

/**
 * The typed conversion of raw field `raw` (an identifier) for `column`, failing loudly: the
 * message names the column, its type and the row's position, never the value (rows can hold
 * personal data; errors reach logs and alert mails).
 */
function typedExpression(raw: string, column: ColumnSchema, options: StagingOptions): string {
  const type = column.type;
  const duckType = stagingDuckType(type);
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
      attempt = `TRY_CAST(${raw} AS ${duckType})`;
      break;
  }
  const position =
    options.part === undefined
      ? "'etld: '"
      : `'etld: part ${options.part.replaceAll("'", "''")} row ' || ${options.rowSequence === undefined ? "'?'" : `CAST(${ROW_NUMBER} AS VARCHAR)`} || ': '`;
  const failure = (what: string): string =>
    `error(${position} || ${duckString(`column "${column.name}" ${what}`)})`;
  // COALESCE only evaluates the failure branch for rows whose conversion gave NULL.
  const converted = `coalesce(${attempt}, CASE WHEN ${raw} IS NULL THEN NULL ELSE ${failure(`holds a value that is not a valid ${typeToString(type)}`)} END)`;
  if (!INFINITE_KINDS.has(type.kind)) return `CAST(${converted} AS ${duckType})`;
  const infinite =
    options.infiniteDates === 'null'
      ? `CAST(NULL AS ${duckType})`
      : failure(
          `holds infinity or -infinity, which no destination stores (set source.infinite_dates: null to load it as NULL)`,
        );
  return `CAST(CASE WHEN ${raw} IN ('infinity', '-infinity') THEN ${infinite} ELSE ${converted} END AS ${duckType})`;
}

/**
 * DuckDB SQL that reads staging-CSV `files` (same column order as `columns`) and returns rows
 * typed with `stagingDuckType`, named after the columns.
 */
export function stagingCsvSelect(
  files: readonly string[],
  columns: readonly ColumnSchema[],
  options: StagingOptions = {},
): string {
  if (files.length === 0) throw new EtlError('INTERNAL', 'stagingCsvSelect needs at least one staging file');
  if (columns.length === 0) throw new EtlError('INTERNAL', 'stagingCsvSelect needs at least one column');
  const raw = columns.map((_, index) => `c${index + 1}`);
  const select = columns
    .map(
      (column, index) =>
        `${typedExpression(raw[index] ?? '', column, options)} AS ${duckIdentifier(column.name)}`,
    )
    .join(', ');
  const fileList = `[${files.map(duckString).join(', ')}]`;
  const columnTypes = `{${raw.map((name) => `'${name}': 'VARCHAR'`).join(', ')}}`;
  const readerOptions = [
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
    `buffer_size = ${MAX_LINE_BYTES + 1}`,
  ];
  const reader = `read_csv(${fileList}, ${readerOptions.join(', ')})`;
  // nextval() numbers rows in file order: the reader is single-threaded (parallel = false).
  const source =
    options.rowSequence === undefined
      ? reader
      : `(SELECT nextval(${duckString(options.rowSequence)}) AS ${ROW_NUMBER}, * FROM ${reader})`;
  return `SELECT ${select} FROM ${source}`;
}
