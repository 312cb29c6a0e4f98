/**
 * A MySQL read session: reader connections in REPEATABLE READ consistent-snapshot transactions.
 * `extract` turns the text protocol's row packets straight into staging-CSV bytes (no JavaScript
 * value per row or cell) and writes them in ~64 KB chunks, pausing the connection while the sink
 * is full.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../source.js';
import { cancelledError } from '../abort.js';
import { CsvChunkWriter } from '../csv-chunk-writer.js';
import { ReaderPool } from '../reader-pool.js';
import type { MysqlConnection, MysqlConnector } from './mysql-connection.js';
import { MysqlCsvEncoder } from './mysql-csv-encoder.js';
import { mapMysqlError } from './mysql-errors.js';
import { queryRowPackets } from './mysql-row-packets.js';

const PROGRESS_INTERVAL_MS = 200;

export function closeMysqlConnection(connection: MysqlConnection): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      connection.destroy();
      resolve();
    }, 2_000);
    connection.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class MysqlReadSession implements ReadSession {
  readonly consistent: boolean;
  readonly readers: number;
  readonly #connector: MysqlConnector;
  readonly #readers: readonly MysqlConnection[];
  readonly #pool: ReaderPool<MysqlConnection>;
  readonly #zeroDates: 'null' | 'error';
  readonly #onClose: () => void;
  #closed = false;

  constructor(
    connector: MysqlConnector,
    readers: readonly MysqlConnection[],
    consistent: boolean,
    zeroDates: 'null' | 'error',
    onClose: () => void,
  ) {
    this.#connector = connector;
    this.#readers = readers;
    this.#pool = new ReaderPool(connector.what, readers);
    this.consistent = consistent;
    this.readers = readers.length;
    this.#zeroDates = zeroDates;
    this.#onClose = onClose;
  }

  extract(
    sql: string,
    columns: readonly ColumnSchema[],
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress> {
    return this.#pool.withReader(signal, (reader) =>
      this.#stream(reader, sql, columns, sink, signal, onProgress),
    );
  }

  #stream(
    reader: MysqlConnection,
    sql: string,
    columns: readonly ColumnSchema[],
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress> {
    const what = this.#connector.what;
    if (signal.aborted) return Promise.reject(cancelledError(what));
    const encoder = new MysqlCsvEncoder(columns, this.#zeroDates, what);
    const writer = new CsvChunkWriter(sink, { pause: () => reader.pause(), resume: () => reader.resume() });
    return new Promise<ExtractProgress>((resolve, reject) => {
      let failure: EtlError | undefined;
      let settled: (() => void) | undefined;
      let done = false;
      let lastReport = Date.now();

      const fail = (error: EtlError): void => {
        if (failure !== undefined) return;
        failure = error;
        settled ??= this.#connector.cancel(reader);
        // A connection paused for back-pressure would never read the server's answer to KILL.
        // Resumed from a fresh task: resuming replays queued row packets, and this may run
        // inside the handling of one.
        queueMicrotask(() => reader.resume());
      };
      const onAbort = (): void => fail(cancelledError(what));
      const onSinkError = (error: unknown): void =>
        fail(
          new EtlError(
            'STAGING',
            `${what}: the staging sink failed: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error, retryable: true },
          ),
        );
      // A query added to a connection that is already lost gets no event of its own: mysql2
      // reports that on the connection, so the connection's own error and end count here too.
      const onConnectionLost = (error?: unknown): void =>
        finish(
          error ??
            Object.assign(new Error('Connection lost: the server closed the connection'), {
              code: 'PROTOCOL_CONNECTION_LOST',
              fatal: true,
            }),
        );
      signal.addEventListener('abort', onAbort, { once: true });
      sink.on('error', onSinkError);
      reader.on('error', onConnectionLost);
      reader.on('end', onConnectionLost);

      const finish = (error?: unknown): void => {
        if (done) return;
        done = true;
        reader.removeListener('error', onConnectionLost);
        reader.removeListener('end', onConnectionLost);
        signal.removeEventListener('abort', onAbort);
        settled?.();
        const problem = signal.aborted
          ? cancelledError(what)
          : (failure ?? (error === undefined ? undefined : mapMysqlError(error, what)));
        if (problem !== undefined) {
          sink.removeListener('error', onSinkError);
          sink.destroy();
          reject(problem);
          return;
        }
        writer.end();
        finished(sink).then(
          () => {
            sink.removeListener('error', onSinkError);
            const totals = { rows: writer.rows, bytes: writer.bytes };
            onProgress(totals);
            resolve(totals);
          },
          (sinkError: unknown) => reject(mapMysqlError(sinkError, what)),
        );
      };

      const query = queryRowPackets(reader, sql, {
        row: (buffer, start, end) => {
          if (failure !== undefined) return;
          const out = writer.room(encoder.worstCaseBytes(end - start));
          let position: number;
          try {
            position = encoder.encodeRow(buffer, start, end, out, writer.position, writer.rows + 1);
          } catch (error) {
            // A value the staging cannot take fails the extract; anything else (a malformed
            // packet) is rethrown so that mysql2 drops the connection.
            if (error instanceof EtlError && error.code === 'SOURCE_DATA') {
              fail(error);
              return;
            }
            throw error;
          }
          writer.endRow(position);
          if ((writer.rows & 1023) === 0) {
            const now = Date.now();
            if (now - lastReport >= PROGRESS_INTERVAL_MS) {
              lastReport = now;
              onProgress({ rows: writer.rows, bytes: writer.bytes });
            }
          }
        },
        columns: (count) => {
          if (count !== columns.length)
            fail(
              new EtlError(
                'INTERNAL',
                `${what}: the extract query returned ${count} columns where ${columns.length} were expected`,
                { retryable: false },
              ),
            );
        },
        unexpected: (error) =>
          fail(new EtlError(error.code, `${what}: ${error.message}`, { retryable: false })),
      });
      query.on('error', (error: unknown) => finish(error));
      query.on('end', () => finish());
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await Promise.all(this.#readers.map(closeMysqlConnection));
  }
}
