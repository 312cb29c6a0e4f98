/**
 * Server-side cancel for connectors whose client library cannot stop a running query over the
 * query's own connection (pg, mysql2): the server is asked to stop it from a short-lived side
 * connection (`pg_cancel_backend`, `KILL QUERY`). If that fails, or the query has not stopped
 * after a grace period, the query's connection is cut, which ends the query on the server too.
 * PostgreSQL and MySQL had the same timer and side-connection dance written twice.
 */
import { cancelledError } from '../../shared/errors.js';
import { isAborted } from './abort.js';
import { SourceConnector } from './source-connector.js';

/** How long a cancelled query may take to stop before its connection is cut. */
const CANCEL_GRACE_MS = 5_000;

export abstract class SideCancelConnector<C> extends SourceConnector<C> {
  /**
   * How to stop, from a side connection, what `connection` runs now. Read when the cancel starts
   * (the server's id of the connection), run once the side connection is open.
   */
  protected abstract stopStatement(connection: C): (side: C) => Promise<unknown>;

  /** Closes a side connection once its statement ran (or failed). */
  protected abstract closeSide(side: C): Promise<void>;

  /** Cuts `connection` at once, for a query that would not stop. */
  protected abstract cut(connection: C): void;

  /** Runs `work` on `connection`; aborting cancels it on the server and rejects CANCELLED. */
  async cancellable<T>(connection: C, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    if (isAborted(signal)) throw cancelledError(this.what);
    let settled: (() => void) | undefined;
    const onAbort = (): void => {
      settled = this.cancel(connection);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } catch (error) {
      throw this.failure(error, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      settled?.();
    }
  }

  /**
   * Stops whatever `connection` runs: the stop statement from a side connection, and if the
   * query has not stopped after a grace period (or the side connection fails), the connection is
   * cut. Call the returned function once the query has settled.
   */
  cancel(connection: C): () => void {
    let done = false;
    const cut = (): void => {
      if (!done) this.cut(connection);
    };
    const timer = setTimeout(cut, CANCEL_GRACE_MS);
    timer.unref();
    const stop = this.stopStatement(connection);
    this.connectOnce(false)
      .then(async (side) => {
        try {
          await stop(side);
        } finally {
          await this.closeSide(side);
        }
      })
      .catch(() => {
        clearTimeout(timer);
        cut();
      });
    return () => {
      done = true;
      clearTimeout(timer);
    };
  }
}
