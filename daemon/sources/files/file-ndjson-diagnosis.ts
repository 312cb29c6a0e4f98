/**
 * DuckDB's NDJSON reader reports a value of the wrong type with its line but not its column
 * ("JSON transform error in file …, in line 12: Failed to cast value …", the value quoted after
 * it). To name the column, the first `line` objects are read again one column at a time: the
 * column whose read fails at that same line is the one (else the first whose read fails at all).
 * This runs only after such a failure, and reads at most `line` objects per column.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema } from '../../../shared/types.js';
import { quoteIdent } from '../../duckdb/duck-sql.js';
import { interruptibly } from './file-interrupt.js';
import { jsonConversionLine } from './file-read-errors.js';
import type { FileReadSpec } from './file-read-spec.js';
import { fileReaderSql } from './file-reader-sql.js';
import { readerDuckType } from './file-type-map.js';

export async function unconvertibleJsonColumn(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  columns: readonly ColumnSchema[],
  line: number,
  signal: AbortSignal | undefined,
): Promise<ColumnSchema | undefined> {
  let firstFailing: ColumnSchema | undefined;
  for (const column of columns) {
    if (signal?.aborted === true) return undefined;
    const reader = fileReaderSql(localPath, spec, [
      { name: column.name, duckType: readerDuckType(column.type) },
    ]);
    const name = quoteIdent(column.name);
    // count(column) needs the converted values: a bare count(*) would let DuckDB skip converting them.
    const sql = `SELECT count(${name}) FROM (SELECT ${name} FROM ${reader} LIMIT ${line})`;
    try {
      await interruptibly(connection, signal, () => connection.run(sql));
    } catch (error) {
      const failedAt = jsonConversionLine(error);
      if (failedAt === line) return column;
      if (failedAt !== undefined) firstFailing ??= column;
    }
  }
  return firstFailing;
}
