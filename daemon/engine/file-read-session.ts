/**
 * The read session of a files run: the extractor's parts are the batch's files, and a part's
 * "statement" is the key of the file it reads. Each file is read by DuckDB into a staging CSV
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
      key: string,
      _columns: readonly ColumnSchema[],
      sink: Writable,
      signal: AbortSignal,
      onProgress: (progress: ExtractProgress) => void,
    ): Promise<ExtractProgress> {
      const file = byKey.get(key);
      if (file === undefined) throw new EtlError('INTERNAL', `no planned file ${key} in this run`);
      if (signal.aborted) throw cancelledError('the run');
      const connection = idle.pop();
      if (connection === undefined)
        throw new EtlError('INTERNAL', 'more parallel files than reader connections');
      const outputPath = join(workDir, `file-${++serial}.csv`);
      try {
        let totals: { rows: number; bytes: number };
        try {
          totals = await extractFile(connection, file.localPath, file.spec, {
            columns: batch.columns,
            fileName: file.key,
            modifiedAt: file.lastModified,
            outputPath,
            signal,
          });
        } catch (error) {
          if (batch.options.onBadFile !== 'skip' || !isBadFileError(error)) throw error;
          quarantine(batch, file, error);
          sink.end();
          return { rows: 0, bytes: 0 };
        }
        await pipeline(createReadStream(outputPath), sink, { signal });
        onProgress(totals);
        return totals;
      } finally {
        idle.push(connection);
        await rm(outputPath, { force: true });
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
