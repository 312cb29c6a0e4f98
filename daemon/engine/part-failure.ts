/**
 * What a failed statement reading a part means, as an EtlError. The statement parses the part's
 * CSV, converts and transforms it and writes it somewhere, so its failure can be the data (a
 * value that does not convert, a row longer than the reader accepts: SOURCE_DATA, not retried),
 * one of our own checks (`etld[CODE]:` markers, see duck-sql.ts), the run's memory budget
 * (STAGING, retried: concurrent runs may have finished by then), or the destination's own error,
 * kept as it is. Row contents never reach the message.
 */
import { EtlError } from '../../shared/errors.js';
import { withoutRowData } from '../logging/row-data.js';
import { markedFailure } from '../duckdb/duck-sql.js';

/** The longest staging-CSV row a run accepts (see csv-staging.ts). */
export const MAX_ROW_BYTES = 8 * 1024 * 1024;

export function partFailure(part: string, error: unknown, memoryLimit?: string): EtlError {
  const marked = markedFailure(error);
  if (marked !== undefined) return marked;
  const text = error instanceof Error ? error.message : String(error);
  if (/Maximum line size/i.test(text)) {
    return new EtlError(
      'SOURCE_DATA',
      `part ${part}: a row is longer than ${MAX_ROW_BYTES / (1024 * 1024)} MiB as CSV, the largest row a run accepts`,
      { cause: error },
    );
  }
  if (/Out of Memory Error/i.test(text)) {
    const budget = memoryLimit === undefined ? '' : ` (defaults.memory_limit: ${memoryLimit})`;
    return new EtlError(
      'STAGING',
      `part ${part}: the run's DuckDB ran out of memory${budget}; raise defaults.memory_limit or lower source.parallelism`,
      { cause: error, retryable: true },
    );
  }
  if (/CSV Error|Invalid Input Error|Conversion Error/i.test(text)) {
    return new EtlError('SOURCE_DATA', `reading the rows of part ${part}: ${withoutRowData(text)}`, {
      cause: error,
    });
  }
  if (error instanceof EtlError) return error;
  return new EtlError('STAGING', `reading the rows of part ${part}: ${withoutRowData(text)}`, {
    cause: error,
    retryable: true,
  });
}
