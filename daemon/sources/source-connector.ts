/**
 * What every source connector is, whatever its client library: a name for the target in messages
 * (never the secret), connecting with `connection_retry`, one way to close a connection, and the
 * classification of the library's errors. The three connectors used to repeat the retry wiring
 * and had three different ways of closing a connection in their drivers and sessions; drivers and
 * read sessions now only ever call `connect` and `close` here.
 */
import type { ResolvedConnection } from '../config/resolved-connection.js';
import { cancelledError, type EtlError } from '../../shared/errors.js';
import type { SourceDriverOptions, TextRow } from './source.js';
import { isAborted } from './abort.js';
import { connectWithRetry } from './connect-retry.js';

export abstract class SourceConnector<C> {
  /** `postgres source "s1" (db1:5432/shop)`: names the target in messages. */
  readonly what: string;
  /** Where to connect, with the credentials. */
  protected readonly target: ResolvedConnection;
  readonly #attempts: number;
  readonly #delayMs: number;

  protected constructor(target: ResolvedConnection, what: string, options: SourceDriverOptions) {
    this.target = target;
    this.what = what;
    this.#attempts = options.connectAttempts;
    this.#delayMs = options.connectDelayMs;
  }

  /** A connection with its session set up, retrying per `connection_retry`. */
  connect(signal?: AbortSignal): Promise<C> {
    return connectWithRetry(
      { what: this.what, attempts: this.#attempts, delayMs: this.#delayMs, signal },
      () => this.connectOnce(true),
      (error) => this.mapError(error),
    );
  }

  /**
   * What a failed call rejects with: CANCELLED when `signal` aborted meanwhile (the failure is
   * then a consequence of the cancel), else the library's error classified.
   */
  failure(error: unknown, signal: AbortSignal | undefined): EtlError {
    if (isAborted(signal)) return cancelledError(this.what);
    return this.mapError(error);
  }

  /**
   * One connection attempt. `withSession` false is a bare connection for a side task (asking the
   * server to stop a query): no session settings, so it is quick and cannot fail on them.
   */
  protected abstract connectOnce(withSession: boolean): Promise<C>;

  /** The library's error as an EtlError naming this target. */
  abstract mapError(error: unknown): EtlError;

  /** A small query on `connection` whose values come back as text. */
  abstract queryText(connection: C, sql: string, signal?: AbortSignal): Promise<TextRow[]>;

  /** Closes `connection`; never rejects (a connection that fails to close is gone either way). */
  abstract close(connection: C): Promise<void>;
}
