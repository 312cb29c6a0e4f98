/**
 * DuckDB's errors about a data file → EtlError naming the file, the line DuckDB reports, the
 * column and the type that was expected, and never a value: DuckDB quotes the offending value and
 * the whole raw line ("Original Line: …", `Could not convert string "x"`), and rows can hold
 * personal data. So nothing of a CSV or JSON row error is passed on as text: the line number,
 * the column (matched against the batch's own column names) and the counts are read out of it
 * and the message is written anew. Other errors (I/O, a broken Parquet footer) keep their first
 * line with quoted parts and the local path removed.
 *
 * Line numbers are DuckDB's: CSV counts records (the header is line 1; a line break inside a
 * quoted value does not start a new one), NDJSON counts objects.
 */
import { cancelledError, EtlError } from '../../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import { withoutRowData } from '../../logging/row-data.js';
import type { FileReadSpec } from './file-read-spec.js';

export interface ReadErrorContext {
  /** The file's name in messages (its path in the source, not the local copy). */
  readonly fileName: string;
  /** The local path DuckDB read: removed from DuckDB's text. */
  readonly localPath: string;
  readonly spec: FileReadSpec;
  /** The columns being read (empty while describing), to name a column and its expected type. */
  readonly columns: readonly ColumnSchema[];
  /** The staging file being written, when there is one: its failures are the run's, not the file's. */
  readonly outputPath?: string;
}

const MAX_REASON_LENGTH = 200;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function dataError(message: string, cause: unknown): EtlError {
  return new EtlError('SOURCE_DATA', message, { cause, retryable: false });
}

export function corruptFileError(fileName: string, reason: string, cause?: unknown): EtlError {
  return dataError(`${fileName} is corrupt or truncated (${reason})`, cause);
}

/** A file that cannot be opened: missing (SOURCE_DATA), not readable (SOURCE_PERMISSION), or I/O. */
export function fileSystemError(code: string | undefined, fileName: string, cause: unknown): EtlError {
  switch (code) {
    case 'ENOENT':
      return dataError(`${fileName}: the file is missing (removed or renamed after it was listed)`, cause);
    case 'EACCES':
    case 'EPERM':
      return new EtlError('SOURCE_PERMISSION', `${fileName}: permission denied reading the file`, { cause });
    case 'EISDIR':
      return dataError(`${fileName}: is a directory, not a file`, cause);
    default: {
      // An I/O error of the disk or network file system under the file: another attempt may pass.
      const message = `${fileName}: reading the file failed (${code ?? 'I/O error'})`;
      return new EtlError('SOURCE_CONNECTION', message, { cause });
    }
  }
}

/**
 * The first line of DuckDB's message, without its error class, the statement echo, quoted parts
 * (paths, values), the local path and control characters: safe to show, short.
 */
export function errorReason(message: string, localPath?: string): string {
  let text = withoutRowData(message);
  if (localPath !== undefined && localPath.length > 0) text = text.replaceAll(localPath, '');
  const first = (text.split('\n')[0] ?? '')
    .replace(/^(?:[A-Z][A-Za-z]* )+Error: /, '')
    .replace(/\s+"[^"\n]*"/g, '')
    .replace(/\s+'[^'\n]*'/g, '')
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/\s+:/g, ':')
    .replace(/[\s:.,]+$/, '')
    .trim();
  if (first.length === 0) return 'no reason given';
  return first.length > MAX_REASON_LENGTH ? `${first.slice(0, MAX_REASON_LENGTH)}…` : first;
}

/** `file line N, column "c": not a valid <type>`: the message of a value that does not convert. */
export function conversionError(
  fileName: string,
  line: number | undefined,
  column: ColumnSchema | undefined,
  cause: unknown,
): EtlError {
  const where = `${fileName}${line === undefined ? '' : ` line ${line}`}`;
  if (column === undefined)
    return dataError(`${where}: a value does not convert to its column's type`, cause);
  return dataError(
    `${where}, column "${column.name}": holds a value that is not a valid ${typeToString(column.type)}`,
    cause,
  );
}

/** The column DuckDB's CSV reader names in "Error when converting column "…"" (longest match). */
function convertedColumn(text: string, columns: readonly ColumnSchema[]): ColumnSchema | undefined {
  let found: ColumnSchema | undefined;
  for (const column of columns) {
    if (!text.includes(`Error when converting column "${column.name}".`)) continue;
    if (found === undefined || column.name.length > found.name.length) found = column;
  }
  return found;
}

/** A CSV reader error about one row: its line and a reason of our own words. */
function csvRowError(text: string, line: number, context: ReadErrorContext, cause: unknown): EtlError {
  const where = `${context.fileName} line ${line}`;
  if (text.includes('Error when converting column')) {
    return conversionError(context.fileName, line, convertedColumn(text, context.columns), cause);
  }
  const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(text);
  if (counts !== null) return dataError(`${where}: expected ${counts[1]} columns, found ${counts[2]}`, cause);
  if (text.includes('unterminated quote')) return dataError(`${where}: a quoted value is not closed`, cause);
  if (text.includes('Invalid unicode')) {
    return dataError(`${where}: not valid ${context.spec.csv.encoding} text (check the encoding)`, cause);
  }
  const tooLong = /Maximum line size of (\d+) bytes exceeded/.exec(text);
  if (tooLong !== null) return dataError(`${where}: the line is longer than ${tooLong[1]} bytes`, cause);
  return dataError(`${where}: the row cannot be read as CSV`, cause);
}

/** The object number of DuckDB's "JSON transform error … in line N" (a value of the wrong type). */
export function jsonConversionLine(error: unknown): number | undefined {
  const found = /JSON transform error in file .*?, in line (\d+)/.exec(messageOf(error));
  return found === null ? undefined : Number(found[1]);
}

/**
 * What DuckDB's error about reading one data file means, as an EtlError without row data. Errors
 * about one row come first: their text holds the row, which must not be mistaken for DuckDB's
 * own words ("permission denied" in a value).
 */
export function fileReadError(error: unknown, context: ReadErrorContext): EtlError {
  if (error instanceof EtlError) return error;
  const text = messageOf(error);
  const { fileName, spec } = context;
  const reason = (): string => errorReason(text, context.localPath);
  const csvLine = /CSV Error on Line: (\d+)/.exec(text);
  if (csvLine !== null) return csvRowError(text, Number(csvLine[1]), context, error);
  const converted = jsonConversionLine(error);
  if (converted !== undefined) return conversionError(fileName, converted, undefined, error);
  const malformed = /Malformed JSON in file .*?, at byte \d+ in line (\d+)(?:: ([A-Za-z ,'-]+))?/.exec(text);
  if (malformed !== null) {
    const why = malformed[2] === undefined ? '' : ` (${malformed[2].trim()})`;
    return corruptFileError(fileName, `line ${malformed[1]} is not valid JSON${why}`, error);
  }
  // A cast's message quotes the value ("Type INT32 with value 300 can't be cast…"): none of it is kept.
  if (text.startsWith('Conversion Error')) return conversionError(fileName, undefined, undefined, error);
  if (text.startsWith('INTERRUPT Error')) return cancelledError(`reading ${fileName}`, undefined, error);
  if (text.includes('No files found that match the pattern'))
    return fileSystemError('ENOENT', fileName, error);
  if (/permission denied/i.test(text)) return fileSystemError('EACCES', fileName, error);
  const output = context.outputPath;
  const staging = output !== undefined && output.length > 0 && text.includes(output);
  if (staging || /^Out of Memory Error|No space left on device/.test(text)) {
    const message = `${fileName}: writing the staging file failed (${errorReason(text, output)})`;
    return new EtlError('STAGING', message, { cause: error });
  }
  if (text.includes('Error when sniffing file')) {
    const { delimiter, quote, escape, encoding } = spec.csv;
    return dataError(
      `${fileName}: not readable as ${encoding} CSV with delimiter ${JSON.stringify(delimiter)}, quote ` +
        `${JSON.stringify(quote)} and escape ${JSON.stringify(escape)} (rows of different lengths, ` +
        `another dialect, or not a CSV file)`,
      error,
    );
  }
  if (text.includes('expected records, but got non-record JSON')) {
    return dataError(
      `${fileName}: a line is not a JSON object (each line of NDJSON must be one object)`,
      error,
    );
  }
  // A statement DuckDB refused is etld's mistake, whatever the file holds.
  if (/^(?:Binder|Parser|Catalog|Internal|Not implemented) Error/.test(text)) {
    return new EtlError('INTERNAL', `reading ${fileName}: DuckDB refused the statement (${reason()})`, {
      cause: error,
    });
  }
  if (spec.format === 'parquet') return corruptFileError(fileName, reason(), error);
  if (spec.compression !== 'none' && /GZIP|zstd|frame|decompress/i.test(text)) {
    return corruptFileError(fileName, `${spec.compression}: ${reason()}`, error);
  }
  return dataError(`${fileName}: DuckDB could not read the file (${reason()})`, error);
}
