/**
 * A PostgreSQL read session: reader connections inside REPEATABLE READ READ ONLY transactions
 * that share one exported snapshot. `extract` streams `COPY (…) TO STDOUT (FORMAT csv)` bytes
 * straight into the sink: the socket's chunks lose their message framing in place
 * (postgres-copy-out.ts), with no JavaScript per row.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ColumnSchema } from '../../../shared/types.js';
import type { ExtractProgress, ReadSession } from '../source.js';
import { EtlError } from '../../../shared/errors.js';
import { cancelledError } from '../abort.js';
import { ReaderPool } from '../reader-pool.js';
import type { PgConnection, PostgresConnector } from './postgres-connection.js';
import { PostgresCopyOut } from './postgres-copy-out.js';
import { mapPostgresError } from './postgres-errors.js';

const PROGRESS_INTERVAL_MS = 200;

export class PostgresReadSession implements ReadSession {
  readonly consistent: boolean;
  readonly readers: number;
  readonly #connector: PostgresConnector;
  readonly #readers: readonly PgConnection[];
  readonly #pool: ReaderPool<PgConnection>;
  readonly #onClose: () => void;
  #closed = false;

  constructor(
    connector: PostgresConnector,
    readers: readonly PgConnection[],
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
    _columns: readonly ColumnSchema[],
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress> {
    return this.#pool.withReader(signal, (reader) => this.#copy(reader, sql, sink, signal, onProgress));
  }

  async #copy(
    reader: PgConnection,
    sql: string,
    sink: Writable,
    signal: AbortSignal,
    onProgress: (progress: ExtractProgress) => void,
  ): Promise<ExtractProgress> {
    const what = this.#connector.what;
    if (signal.aborted) throw cancelledError(what);
    let lastReport = 0;
    const copy = new PostgresCopyOut(`COPY (${sql}\n) TO STDOUT WITH (FORMAT csv)`, what, (rows, bytes) => {
      const now = Date.now();
      if (now - lastReport < PROGRESS_INTERVAL_MS) return;
      lastReport = now;
      onProgress({ rows, bytes });
    });
    reader.client.query(copy);
    let settled: (() => void) | undefined;
    let finished = false;
    const stop = (): void => {
      if (!finished && settled === undefined) settled = this.#connector.cancel(reader);
    };
    signal.addEventListener('abort', stop, { once: true });
    // Which end failed first: pipeline() destroys the other streams with the same error object,
    // so only the order of the first 'error' events tells a lost connection from a closed pipe.
    let origin: 'source' | 'sink' | undefined;
    const onSourceError = (): void => {
      origin ??= 'source';
    };
    const onSinkError = (): void => {
      origin ??= 'sink';
    };
    copy.once('error', onSourceError);
    sink.once('error', onSinkError);
    try {
      await pipeline(copy, sink);
      finished = true;
    } catch (error) {
      // The sink may have failed (disk full) while the server still sends: stop the query too.
      stop();
      if (origin === 'sink') {
        throw new EtlError(
          'STAGING',
          `${what}: the staging pipe failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const mapped = mapPostgresError(error, what);
      // A lost connection stays what it is even when the run was stopping meanwhile: it is what
      // cut the CSV short, and it is retried.
      if (signal.aborted && mapped.code !== 'SOURCE_CONNECTION') throw cancelledError(what);
      throw mapped;
    } finally {
      copy.removeListener('error', onSourceError);
      sink.removeListener('error', onSinkError);
      signal.removeEventListener('abort', stop);
      settled?.();
    }
    const totals = { rows: copy.rows, bytes: copy.bytes };
    onProgress(totals);
    return totals;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await Promise.all(this.#readers.map((r) => r.client.end().catch(() => undefined)));
  }
}
