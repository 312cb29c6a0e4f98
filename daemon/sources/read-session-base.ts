/**
 * What the three read sessions share: the pool of reader connections an extract takes its reader
 * from, and closing them all once. Only reading one query into the sink differs per database
 * (`read`); the three sessions used to copy the rest.
 */
import type { Writable } from 'node:stream';
import type { ColumnSchema } from '../../shared/types.js';
import type { ExtractProgress, ReadSession } from './source.js';
import { ReaderPool } from './reader-pool.js';
import type { SourceConnector } from './source-connector.js';

/** How often at most an extract reports progress while it runs. */
export const PROGRESS_INTERVAL_MS = 200;

/** One `extract` call, as a session's `read` receives it. */
export interface ExtractJob {
  readonly sql: string;
  readonly columns: readonly ColumnSchema[];
  readonly sink: Writable;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: ExtractProgress) => void;
}

export abstract class ReadSessionBase<C, K extends SourceConnector<C>> implements ReadSession {
  readonly consistent: boolean;
  readonly readers: number;
  protected readonly connector: K;
  readonly #connections: readonly C[];
  readonly #pool: ReaderPool<C>;
  readonly #onClose: () => void;
  #closed = false;

  constructor(connector: K, readers: readonly C[], consistent: boolean, onClose: () => void) {
    this.connector = connector;
    this.#connections = readers;
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
    const job = { sql, columns, sink, signal, onProgress };
    return this.#pool.withReader(signal, (reader) => this.read(reader, job));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await Promise.all(this.#connections.map((reader) => this.connector.close(reader)));
  }

  /** `extract` on one reader of the pool (a reader whose read fails is dropped from it). */
  protected abstract read(reader: C, job: ExtractJob): Promise<ExtractProgress>;
}
