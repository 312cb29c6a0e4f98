/**
 * Extraction of one local data file into a staging CSV (the contract in daemon/sources/source.ts)
 * by one DuckDB COPY (file-extract-sql.ts): the batch's columns in order, then `_etl_file` and
 * `_etl_file_modified_at`.
 *
 * A gzip or zstd file is also decompressed by zlib alongside the COPY (file-content-checks.ts:
 * DuckDB checks no CRC and no frame end). A corrupt file fails as corrupt even when DuckDB read
 * something from it, and the COPY is interrupted as soon as zlib finds the damage. Cancellation
 * (`signal`) interrupts the connection and rejects with CANCELLED; an error DuckDB raises is
 * translated by file-read-errors.ts, never passing on a value or a line of the file.
 */
import { stat, writeFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { cancelledError, EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import { isAborted } from '../abort.js';
import { verifyDecompression } from './file-content-checks.js';
import { checkFileColumns, extractCopySql, type ExtractSqlInput } from './file-extract-sql.js';
import { interruptibly } from './file-interrupt.js';
import { unconvertibleJsonColumn } from './file-ndjson-diagnosis.js';
import { conversionError, fileReadError, jsonConversionLine } from './file-read-errors.js';
import type { FileReadSpec } from './file-read-spec.js';
import { describeFileColumns } from './file-schema.js';

/** The metadata columns after the batch's own (text and timestamptz): the file's name and modification time. */
export const FILE_NAME_COLUMN = '_etl_file';
export const FILE_MODIFIED_AT_COLUMN = '_etl_file_modified_at';

export interface ExtractFileOptions {
  /** The batch's columns (mergeFileSchemas): the staging file's columns, in order. */
  readonly columns: readonly ColumnSchema[];
  /** The file's name in `_etl_file` and in messages. */
  readonly fileName: string;
  /** `_etl_file_modified_at`. */
  readonly modifiedAt: Date;
  /** Where the staging CSV is written (replaced when it exists; a FIFO is written in place). */
  readonly outputPath: string;
  readonly signal?: AbortSignal;
}

export interface ExtractFileResult {
  readonly rows: number;
  /** Bytes of staging CSV written (0 when `outputPath` is not a regular file, such as a FIFO). */
  readonly bytes: number;
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

async function settle<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Work on the staging file; its failures (a missing directory, a full disk) are STAGING, retried. */
async function onStagingFile<T>(fileName: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'I/O error';
    throw new EtlError('STAGING', `${fileName}: writing the staging file failed (${code})`, { cause: error });
  }
}

/** Bytes in the staging file (a FIFO holds none to count). */
async function writtenBytes(outputPath: string, fileName: string): Promise<number> {
  const info = await onStagingFile(fileName, () => stat(outputPath));
  return info.isFile() ? info.size : 0;
}

/** The COPY with its error translation; `stop` interrupts it (cancellation or a corrupt file). */
async function copyFile(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  options: ExtractFileOptions,
  stop: AbortSignal,
): Promise<ExtractFileResult> {
  const { fileName, columns, outputPath } = options;
  const fileColumns = await describeFileColumns(connection, localPath, spec, fileName, stop);
  if (fileColumns.length === 0) {
    // No content, no columns: an empty staging file (rows of an empty file are none).
    await onStagingFile(fileName, () => writeFile(outputPath, ''));
    return { rows: 0, bytes: 0 };
  }
  const input: ExtractSqlInput = { ...options, localPath, spec, fileColumns };
  checkFileColumns(input);
  let rows: number;
  try {
    const result = await interruptibly(connection, stop, () => connection.run(extractCopySql(input)));
    if (stop.aborted) throw cancelledError(`reading ${fileName}`);
    rows = Number(result.rowsChanged);
  } catch (error) {
    if (stop.aborted) throw cancelledError(`reading ${fileName}`, undefined, error);
    const line = jsonConversionLine(error);
    if (line !== undefined && spec.format === 'ndjson') {
      const column = await unconvertibleJsonColumn(connection, localPath, spec, columns, line, stop);
      throw conversionError(fileName, line, column, error);
    }
    throw fileReadError(error, { fileName, localPath, spec, columns, outputPath });
  }
  return { rows, bytes: await writtenBytes(outputPath, fileName) };
}

/**
 * Reads the file at `localPath` with the batch's column types and writes its rows as staging
 * CSV to `outputPath`. A column of the file the batch lacks is SCHEMA_MISMATCH; a batch column
 * the file lacks is NULL.
 */
export async function extractFile(
  connection: DuckDBConnection,
  localPath: string,
  spec: FileReadSpec,
  options: ExtractFileOptions,
): Promise<ExtractFileResult> {
  const { fileName, signal } = options;
  const what = `reading ${fileName}`;
  if (signal?.aborted === true) throw cancelledError(what);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const compression = spec.compression;
  try {
    const integrity =
      compression === 'none'
        ? Promise.resolve<Outcome<void>>({ ok: true, value: undefined })
        : settle(() => verifyDecompression(localPath, compression, fileName, stop.signal)).then((outcome) => {
            if (!outcome.ok) stop.abort();
            return outcome;
          });
    const copied = await settle(() => copyFile(connection, localPath, spec, options, stop.signal));
    const verified = await integrity;
    if (isAborted(signal)) throw cancelledError(what, undefined, copied.ok ? undefined : copied.error);
    // A corrupt file explains whatever DuckDB made of it.
    if (!verified.ok) throw verified.error;
    if (!copied.ok) throw copied.error;
    return copied.value;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
