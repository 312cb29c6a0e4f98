/**
 * The columns of one data file (DuckDB's DESCRIBE of the reader, types inferred from
 * `sampleRows` rows for CSV and NDJSON, declared for Parquet) and the batch schema of several
 * files: their union by name, each column widened to hold every file's values, and refused
 * (SCHEMA_MISMATCH) when a field's type changed between files in any other way.
 *
 * Every column is nullable: a file says nothing about the rows of the next one, and a column
 * missing from some files loads as NULL there.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import { queryStrings } from '../../duckdb/duck-sql.js';
import { stagingDuckType } from '../../duckdb/staging-types.js';
import { hasContent } from './file-content-checks.js';
import { interruptibly } from './file-interrupt.js';
import { fileReadError } from './file-read-errors.js';
import type { FileReadSpec } from './file-read-spec.js';
import { duckFileLiteral, fileReaderSql } from './file-reader-sql.js';
import { readDuckType } from './file-type-map.js';
import { sameType, widenTypes } from './file-type-widening.js';

/** A column as DuckDB reads it from one file. */
export interface FileColumn {
  readonly name: string;
  /** DESCRIBE's text of the type: `BIGINT`, `DECIMAL(12,2)`, `STRUCT(a INTEGER)[]`… */
  readonly duckType: string;
}

const MAX_DECIMAL_PRECISION = 38;

function dataError(message: string): EtlError {
  return new EtlError('SOURCE_DATA', message, { retryable: false });
}

/** Runs a small query about the file, as text, interrupted by `signal`; errors say what the file is. */
export async function fileQuery(
  connection: DuckDBConnection,
  sql: string,
  localPath: string,
  spec: FileReadSpec,
  fileName: string,
  signal: AbortSignal | undefined,
): Promise<(string | null)[][]> {
  try {
    const rows = await interruptibly(connection, signal, () => queryStrings(connection, sql));
    if (signal?.aborted === true) throw cancelledError(`reading ${fileName}`);
    return rows;
  } catch (error) {
    if (signal?.aborted === true) throw cancelledError(`reading ${fileName}`, undefined, error);
    throw fileReadError(error, { fileName, localPath, spec, columns: [] });
  }
}

/**
 * DuckDB reads a Parquet DECIMAL of more than 38 digits (Arrow's decimal256) as DOUBLE, and not
 * even the right one: such a column is refused by name instead of loading wrong numbers.
 */
async function refuseWideDecimals(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  fileName: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const sql = `SELECT name, precision, scale FROM parquet_schema(${duckFileLiteral(localPath)}) WHERE precision > ${MAX_DECIMAL_PRECISION}`;
  const rows = await fileQuery(connection, sql, localPath, spec, fileName, signal);
  const [name, precision, scale] = rows[0] ?? [];
  if (name === undefined) return;
  throw dataError(
    `${fileName}: column "${name}" is a Parquet DECIMAL(${precision},${scale}): more than ` +
      `${MAX_DECIMAL_PRECISION} digits cannot be loaded without loss (write it with fewer digits, or as text)`,
  );
}

/**
 * The file's columns and DuckDB types, in file order; none for a file with no content. Parquet
 * is compressed inside, so its `compression` must be `none`.
 */
export async function describeFileColumns(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  fileName: string,
  signal?: AbortSignal,
): Promise<FileColumn[]> {
  if (signal?.aborted === true) throw cancelledError(`reading ${fileName}`);
  if (spec.format === 'parquet' && spec.compression !== 'none') {
    throw new EtlError(
      'CONFIG_INVALID',
      `${fileName}: Parquet files are compressed inside; their compression must be none, not ${spec.compression}`,
    );
  }
  if (spec.format !== 'parquet' && !(await hasContent(localPath, spec.compression, fileName, signal)))
    return [];
  const sql = `DESCRIBE SELECT * FROM ${fileReaderSql(localPath, spec)}`;
  const rows = await fileQuery(connection, sql, localPath, spec, fileName, signal);
  if (spec.format === 'parquet') await refuseWideDecimals(connection, localPath, spec, fileName, signal);
  return rows.map(([name, duckType]) => ({ name: name ?? '', duckType: duckType ?? '' }));
}

/** A file column as a canonical column, or the refusal of its type (nested under `refuse`, unsupported). */
export function fileColumnSchema(column: FileColumn, spec: FileReadSpec, fileName: string): ColumnSchema {
  const reading = readDuckType(column.duckType);
  const described = { name: column.name, nullable: true, sourceType: column.duckType };
  switch (reading.kind) {
    case 'canonical':
      return { ...described, type: reading.type };
    case 'nested':
      if (spec.nested === 'json') return { ...described, type: { kind: 'json' } };
      throw dataError(
        `${fileName}: column "${column.name}" holds nested values (${column.duckType}) and nested is ` +
          `'refuse'; set nested to 'json' to load them as JSON text`,
      );
    case 'unsupported':
      throw dataError(
        `${fileName}: column "${column.name}" has type ${column.duckType}, which etld cannot load; ` +
          `write it in the files as text, a number or a timestamp`,
      );
  }
}

/** The canonical columns of one file (`displayName` in messages); none for an empty file. */
export async function describeFile(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  displayName: string,
  signal?: AbortSignal,
): Promise<ColumnSchema[]> {
  const columns = await describeFileColumns(connection, localPath, spec, displayName, signal);
  return columns.map((column) => fileColumnSchema(column, spec, displayName));
}

/**
 * The batch schema of several files: columns in first-seen order, each widened to hold every
 * file's values (file-type-widening.ts); a type that changed otherwise is SCHEMA_MISMATCH naming
 * the column, both types and both files.
 */
export function mergeFileSchemas(
  files: readonly { readonly file: string; readonly columns: readonly ColumnSchema[] }[],
): ColumnSchema[] {
  // Per column: its type so far and the file that type comes from (named in a refusal).
  const merged = new Map<string, { column: ColumnSchema; file: string }>();
  for (const { file, columns } of files) {
    for (const column of columns) {
      const seen = merged.get(column.name);
      if (seen === undefined) {
        merged.set(column.name, { column: { ...column, nullable: true }, file });
        continue;
      }
      const widened = widenTypes(seen.column.type, column.type);
      if (widened === undefined) {
        throw new EtlError(
          'SCHEMA_MISMATCH',
          `column "${column.name}" is ${typeToString(seen.column.type)} in ${seen.file} but ` +
            `${typeToString(column.type)} in ${file}: a field's type may widen between files ` +
            `(int16 → int32 → int64, float32 → float64, more decimal digits), never change`,
          { retryable: false },
        );
      }
      if (sameType(widened, seen.column.type)) continue;
      const sourceType = sameType(widened, column.type) ? column.sourceType : stagingDuckType(widened);
      merged.set(column.name, {
        column: { name: column.name, type: widened, nullable: true, sourceType },
        file,
      });
    }
  }
  return [...merged.values()].map((entry) => entry.column);
}
