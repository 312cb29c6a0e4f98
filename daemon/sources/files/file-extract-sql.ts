/**
 * The one statement that turns a data file into a staging CSV: `COPY (SELECT …) TO` with every
 * batch column read as the batch's type and rendered into its text form, then the file's name
 * and modification time. How each format gets the batch's types:
 * - CSV: `types` names the type of each column the file has (values convert as the batch says,
 *   not as this file's sample suggested); columns it lacks are NULL;
 * - NDJSON: `columns` names every batch column (keys an object lacks are NULL);
 * - Parquet: columns carry their own types, which must widen to the batch's, and are cast.
 * The staging file is written without a temporary file (`USE_TMP_FILE false`: the path may be a
 * FIFO a reader already holds) and without compression, whatever the path's extension.
 */
import { EtlError } from '../../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import { quoteIdent, quoteLiteral } from '../../duckdb/duck-sql.js';
import type { FileReadSpec } from './file-read-spec.js';
import { fileReaderSql, type ReadColumnType } from './file-reader-sql.js';
import { fileColumnSchema, type FileColumn } from './file-schema.js';
import { timestamptzText, textFormExpression } from './file-text-forms.js';
import { readDuckType, readerDuckType } from './file-type-map.js';
import { widensTo } from './file-type-widening.js';

export interface ExtractSqlInput {
  readonly localPath: string;
  readonly spec: FileReadSpec;
  readonly fileName: string;
  /** The file's own columns (DESCRIBE). */
  readonly fileColumns: readonly FileColumn[];
  /** The batch's columns, in output order. */
  readonly columns: readonly ColumnSchema[];
  readonly modifiedAt: Date;
  readonly outputPath: string;
}

function mismatch(message: string): EtlError {
  return new EtlError('SCHEMA_MISMATCH', message, { retryable: false });
}

/**
 * Refuses a file whose columns the batch cannot take: a column the batch lacks, a type the
 * `nested` setting or etld refuses, and (Parquet) a type that does not widen to the batch's.
 */
export function checkFileColumns(input: ExtractSqlInput): void {
  const batch = new Map(input.columns.map((column) => [column.name, column]));
  for (const fileColumn of input.fileColumns) {
    const target = batch.get(fileColumn.name);
    if (target === undefined) {
      throw mismatch(`${input.fileName}: column "${fileColumn.name}" is not among the batch's columns`);
    }
    const own = fileColumnSchema(fileColumn, input.spec, input.fileName);
    if (input.spec.format === 'parquet' && !widensTo(own.type, target.type)) {
      throw mismatch(
        `${input.fileName}: column "${fileColumn.name}" is ${typeToString(own.type)} (${fileColumn.duckType}) ` +
          `but the batch loads it as ${typeToString(target.type)}`,
      );
    }
  }
}

/**
 * A Parquet column as the batch's type. The check above allowed only widenings, which keep every
 * value; nested values become JSON text.
 */
function parquetValue(fileColumn: FileColumn, target: ColumnSchema): string {
  const column = quoteIdent(fileColumn.name);
  if (readDuckType(fileColumn.duckType).kind === 'nested') return `to_json(${column})`;
  const duckType = readerDuckType(target.type);
  return fileColumn.duckType === duckType ? column : `CAST(${column} AS ${duckType})`;
}

/** The typed value of each batch column, in batch order, over the reader's columns. */
function typedValues(input: ExtractSqlInput): string[] {
  const present = new Map(input.fileColumns.map((column) => [column.name, column]));
  return input.columns.map((target) => {
    const fileColumn = present.get(target.name);
    const absent = `CAST(NULL AS ${readerDuckType(target.type)})`;
    switch (input.spec.format) {
      case 'csv':
        return fileColumn === undefined ? absent : quoteIdent(target.name);
      case 'ndjson':
        return quoteIdent(target.name);
      case 'parquet':
        return fileColumn === undefined ? absent : parquetValue(fileColumn, target);
    }
  });
}

/** The types the reader converts values to (CSV: the file's columns; NDJSON: every batch column). */
function readerTypes(input: ExtractSqlInput): ReadColumnType[] | undefined {
  const asRead = (column: ColumnSchema): ReadColumnType => ({
    name: column.name,
    duckType: readerDuckType(column.type),
  });
  switch (input.spec.format) {
    case 'csv': {
      const present = new Set(input.fileColumns.map((column) => column.name));
      return input.columns.filter((column) => present.has(column.name)).map(asRead);
    }
    case 'ndjson':
      return input.columns.map(asRead);
    case 'parquet':
      return undefined;
  }
}

export function extractCopySql(input: ExtractSqlInput): string {
  const reader = fileReaderSql(input.localPath, input.spec, readerTypes(input));
  const typed = typedValues(input).map((value, index) => `${value} AS v${index}`);
  const rendered = input.columns.map((column, index) => textFormExpression(`q.v${index}`, column.type));
  rendered.push(quoteLiteral(input.fileName), quoteLiteral(timestamptzText(input.modifiedAt)));
  // Positional names: a file column may share a name with a metadata column.
  const output = rendered.map((expression, index) => `${expression} AS o${index}`);
  // An empty batch still reads the file, so that its rows are counted.
  const inner =
    typed.length === 0 ? `SELECT 1 AS v FROM ${reader}` : `SELECT ${typed.join(', ')} FROM ${reader}`;
  const options = [
    'FORMAT csv',
    'HEADER false',
    "DELIMITER ','",
    `QUOTE '"'`,
    `ESCAPE '"'`,
    "NULLSTR ''",
    "NEW_LINE '\\n'",
    "COMPRESSION 'none'",
    'USE_TMP_FILE false',
  ];
  return `COPY (SELECT ${output.join(', ')} FROM (${inner}) AS q) TO ${quoteLiteral(input.outputPath)} (${options.join(', ')})`;
}
