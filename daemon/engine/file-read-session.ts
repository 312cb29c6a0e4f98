/**
 * The read session of a files run: the extractor's parts are groups of the batch's files, and a
 * part's "statement" is the list of keys it reads (`partStatement`). Each file is read by DuckDB into a staging CSV
 * in the attempt's temp directory (file-extract.ts), then streamed to the part's consumers.
 *
 * Decisions:
 * - The whole file is converted before the first byte reaches a consumer, so a file that turns
 *   out bad halfway (a value that does not fit its column, a truncated gzip) has written nothing:
 *   under `on_bad_file: skip` it leaves the batch as an empty part and goes to the quarantine
 *   list; otherwise it fails the run naming the file.
 * - One DuckDB connection per reader, from the batch's instance; they are closed with the session.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { cancelledError, EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';
import { extractFile } from '../sources/files/file-extract.js';
import type { ExtractProgress, ReadSession } from '../sources/source.js';
import { isBadFileError, type BatchFile, type FileBatch } from './file-batch.js';

export const FILES_SHARD = 'default';

/**
 * A part's "statement": the keys of the files it reads, in order. Small files share a part, so
 * the per-part work (a staging statement, a destination file) is paid once for many of them.
 */
export function partStatement(keys: readonly string[]): string {
  return JSON.stringify(keys);
}

function partKeys(statement: string): string[] {
  const parsed: unknown = JSON.parse(statement);
  if (!Array.isArray(parsed) || !parsed.every((k) => typeof k === 'string'))
    throw new EtlError('INTERNAL', 'a files part names no file list');
  return parsed;
}

export async function openFileReadSession(
  batch: FileBatch,
  readers: number,
  workDir: string,
): Promise<ReadSession> {
  const byKey = new Map(batch.files.map((file) => [file.key, file]));
  const idle: DuckDBConnection[] = [];
  for (let i = 0; i < readers; i++) idle.push(await batch.duck.connect());
  const all = [...idle];
  let serial = 0;
  return {
    consistent: true,
    readers,
    async extract(
      statement: string,
      _columns: readonly ColumnSchema[],
      sink: Writable,
      signal: AbortSignal,
      onProgress: (progress: ExtractProgress) => void,
    ): Promise<ExtractProgress> {
      const files = partKeys(statement).map((key) => {
        const file = byKey.get(key);
        if (file === undefined) throw new EtlError('INTERNAL', `no planned file ${key} in this run`);
        return file;
      });
      const connection = idle.pop();
      if (connection === undefined)
        throw new EtlError('INTERNAL', 'more parallel parts than reader connections');
      const totals = { rows: 0, bytes: 0 };
      try {
        for (const file of files) {
          if (signal.aborted) throw cancelledError('the run');
          const outputPath = join(workDir, `file-${++serial}.csv`);
          try {
            let read: { rows: number; bytes: number };
            try {
              read = await extractFile(connection, file.localPath, file.spec, {
                columns: batch.columns,
                fileName: file.key,
                modifiedAt: file.lastModified,
                outputPath,
                signal,
              });
            } catch (error) {
              if (batch.options.onBadFile !== 'skip' || !isBadFileError(error)) throw error;
              quarantine(batch, file, error);
              continue;
            }
            // Staging CSV has no header: the part is its files' CSV one after the other.
            await pipeline(createReadStream(outputPath), sink, { signal, end: false });
            totals.rows += read.rows;
            totals.bytes += read.bytes;
            onProgress({ ...totals });
          } finally {
            await rm(outputPath, { force: true });
          }
        }
        sink.end();
        return totals;
      } finally {
        idle.push(connection);
      }
    },
    close() {
      for (const connection of all) connection.closeSync();
      all.length = 0;
      return Promise.resolve();
    },
  };
}

/** Moves a file that failed while it was read from the batch's load list to its quarantine list. */
function quarantine(batch: FileBatch, file: BatchFile, error: unknown): void {
  const index = batch.files.indexOf(file);
  if (index >= 0) batch.files.splice(index, 1);
  batch.quarantined.push({
    key: file.key,
    size: file.size,
    version: file.version,
    lastModified: file.lastModified,
    reason: error instanceof Error ? error.message : String(error),
  });
}
