/**
 * The row pump of the sources whose driver hands rows to JavaScript (MySQL's row packets, SQL
 * Server's row values): the loop around the driver's row stream that writes staging CSV through a
 * writer, keeps the first failure (abort, sink error, a value the staging cannot take), stops the
 * query then, and settles once with the totals or the error. Both connectors had this copied; only
 * the query, its rows and how it is stopped stay with each (`PumpedQuery`).
 *
 * PostgreSQL does not use it: its COPY bytes are piped into the sink as they come.
 */
import { finished } from 'node:stream/promises';
import { cancelledError, type ErrorCode, EtlError } from '../../shared/errors.js';
import type { ExtractProgress } from './source.js';
import { PROGRESS_INTERVAL_MS, type ExtractJob } from './read-session-base.js';

export interface RowPumpOptions extends Pick<ExtractJob, 'sink' | 'signal' | 'onProgress'> {
  readonly what: string;
  /** The code a failing sink is reported with (the two connectors have differed here). */
  readonly sinkErrorCode: ErrorCode;
  /** The driver's errors classified. */
  readonly mapError: (error: unknown) => EtlError;
}

/** The driver's side of one pumped query. */
export interface PumpedQuery {
  /** The CSV writer the rows go through: its totals are the extract's. */
  readonly writer: { readonly rows: number; readonly bytes: number };
  /** Sends the query; called once the pump listens for abort and sink errors. */
  run(): void;
  /** Stops the running query after the first failure (called at most once). */
  stop(): void;
  /** The query has settled, cleanly or not: let go of the connection's events. */
  settled?(): void;
  /** Writes what is buffered and ends the sink, after the last row. */
  end(): void;
}

/** What the driver's row handlers and query events report to the pump. */
export interface RowPump {
  /** A failure is recorded: rows arriving after it are dropped. */
  readonly failed: boolean;
  /** Records the first failure and stops the query; later failures are ignored. */
  fail(error: EtlError): void;
  /** After each written row: reports progress now and then. */
  rowWritten(): void;
  /** The query ended, with the driver's error or cleanly; only the first call counts. */
  finish(error?: unknown): void;
}

/** Runs the query `prepare` sets up and resolves with the totals once the sink has everything. */
export function pumpRows(
  options: RowPumpOptions,
  prepare: (pump: RowPump) => PumpedQuery,
): Promise<ExtractProgress> {
  if (options.signal.aborted) return Promise.reject(cancelledError(options.what));
  return new Promise<ExtractProgress>((resolve, reject) => {
    new Pump(options, resolve, reject).start(prepare);
  });
}

/** One extract's state: the first failure, whether it has settled, when progress was last told. */
class Pump implements RowPump {
  readonly #options: RowPumpOptions;
  readonly #resolve: (totals: ExtractProgress) => void;
  readonly #reject: (error: EtlError) => void;
  #query: PumpedQuery | undefined;
  #failure: EtlError | undefined;
  #done = false;
  #lastReport = Date.now();

  constructor(
    options: RowPumpOptions,
    resolve: (totals: ExtractProgress) => void,
    reject: (error: EtlError) => void,
  ) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  start(prepare: (pump: RowPump) => PumpedQuery): void {
    this.#options.signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#options.sink.on('error', this.#onSinkError);
    this.#query = prepare(this);
    this.#query.run();
  }

  fail(error: EtlError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#query?.stop();
  }

  // The clock is read every 1024 rows only: rows come by the million.
  rowWritten(): void {
    const writer = this.#query?.writer;
    if (writer === undefined || (writer.rows & 1023) !== 0) return;
    const now = Date.now();
    if (now - this.#lastReport < PROGRESS_INTERVAL_MS) return;
    this.#lastReport = now;
    this.#options.onProgress({ rows: writer.rows, bytes: writer.bytes });
  }

  finish(error?: unknown): void {
    const query = this.#query;
    if (this.#done || query === undefined) return;
    this.#done = true;
    const { what, sink, signal, onProgress, mapError } = this.#options;
    signal.removeEventListener('abort', this.#onAbort);
    query.settled?.();
    const problem = signal.aborted
      ? cancelledError(what)
      : (this.#failure ?? (error === undefined || error === null ? undefined : mapError(error)));
    if (problem !== undefined) {
      sink.removeListener('error', this.#onSinkError);
      sink.destroy();
      this.#reject(problem);
      return;
    }
    query.end();
    finished(sink).then(
      () => {
        sink.removeListener('error', this.#onSinkError);
        const totals = { rows: query.writer.rows, bytes: query.writer.bytes };
        onProgress(totals);
        this.#resolve(totals);
      },
      (sinkError: unknown) => this.#reject(mapError(sinkError)),
    );
  }

  readonly #onAbort = (): void => this.fail(cancelledError(this.#options.what));

  readonly #onSinkError = (error: unknown): void =>
    this.fail(
      new EtlError(
        this.#options.sinkErrorCode,
        `${this.#options.what}: the staging sink failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, retryable: true },
      ),
    );
}
