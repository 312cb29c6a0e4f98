/**
 * A SQL Server read session: reader connections in SNAPSHOT (or READ COMMITTED) transactions.
 * `extract` receives rows already rendered to text by the adapter's SELECT and writes staging CSV
 * in ~64 KB chunks, pausing the request while the sink is full; abort cancels the request.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Request } from 'tedious';
import { EtlError } from '../../../shared/errors.js';
import type { ColumnSchema } from '../../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../source.js';
import { cancelledError } from '../abort.js';
import { CsvBatchWriter } from '../csv-writer.js';
import { ReaderPool } from '../reader-pool.js';
import { cellText, type MssqlConnection, type MssqlConnector } from './mssql-connection.js';
import { mapMssqlError } from './mssql-errors.js';

const PROGRESS_INTERVAL_MS = 200;

interface ColumnValue {
  readonly value: unknown;
}

export class MssqlReadSession implements ReadSession {
  readonly consistent: boolean;
  readonly readers: number;
  readonly #connector: MssqlConnector;
  readonly #readers: readonly MssqlConnection[];
  readonly #pool: ReaderPool<MssqlConnection>;
  readonly #onClose: () => void;
  #closed = false;

  constructor(
    connector: MssqlConnector,
    readers: readonly MssqlConnection[],
    consistent: boolean,
    onClose: () => void,
  ) {
    this.#connector = connector;
    this.#readers = readers;
    this.#pool = new ReaderPool(connector.what, readers);
    this.consistent = consistent;
    this.readers = readers.length;
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
      this.#stream(reader, sql, columns.length, sink, signal, onProgress),
    );
  }

  #stream(
    reader: MssqlConnection,
    sql: string,
    width: number,
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress> {
    const what = this.#connector.what;
    if (signal.aborted) return Promise.reject(cancelledError(what));
    return new Promise<ExtractProgress>((resolve, reject) => {
      let failure: EtlError | undefined;
      let lastReport = Date.now();
      const values: (string | null)[] = new Array<string | null>(width).fill(null);
      const finish = (error: Error | null | undefined): void => {
        signal.removeEventListener('abort', onAbort);
        const problem = signal.aborted
          ? cancelledError(what)
          : (failure ?? (error ? mapMssqlError(error, what) : undefined));
        if (problem !== undefined) {
          sink.removeListener('error', onSinkError);
          sink.destroy();
          reject(problem);
          return;
        }
        writer.flush();
        sink.end();
        finished(sink).then(
          () => {
            sink.removeListener('error', onSinkError);
            const totals = { rows: writer.rows, bytes: writer.bytes };
            onProgress(totals);
            resolve(totals);
          },
          (sinkError: unknown) => reject(mapMssqlError(sinkError, what)),
        );
      };
      const request = new Request(sql, finish);
      const writer = new CsvBatchWriter(sink, {
        pause: () => request.pause(),
        resume: () => request.resume(),
      });
      const stop = (error: EtlError): void => {
        if (failure !== undefined) return;
        failure = error;
        request.resume();
        request.cancel();
      };
      const onAbort = (): void => stop(cancelledError(what));
      const onSinkError = (error: unknown): void =>
        stop(
          new EtlError(
            'SOURCE_DATA',
            `${what}: the staging sink failed: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error, retryable: true },
          ),
        );
      signal.addEventListener('abort', onAbort, { once: true });
      sink.on('error', onSinkError);
      request.on('row', (cells: ColumnValue[]) => {
        if (failure !== undefined) return;
        for (let i = 0; i < width; i++) {
          const value = cells[i]?.value;
          values[i] = typeof value === 'string' || value === null ? value : cellText(value);
        }
        writer.writeRow(values);
        if ((writer.rows & 1023) === 0) {
          const now = Date.now();
          if (now - lastReport >= PROGRESS_INTERVAL_MS) {
            lastReport = now;
            onProgress({ rows: writer.rows, bytes: writer.bytes });
          }
        }
      });
      const start = (): void => reader.connection.execSqlBatch(request);
      // Requests on one connection run one at a time.
      reader.queue = reader.queue.then(
        () =>
          new Promise<void>((done) => {
            request.on('requestCompleted', () => done());
            start();
          }),
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await Promise.all(this.#readers.map((r) => this.#connector.close(r)));
  }
}
