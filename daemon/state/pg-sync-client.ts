/**
 * A synchronous PostgreSQL client for the state store. The store's contract is synchronous
 * (store.ts: better-sqlite3 is), so the PostgreSQL store keeps it: a worker thread owns the
 * connection and the calling thread sleeps on a shared counter until the answer is there
 * (Atomics.wait, then receiveMessageOnPort). Each state call therefore blocks the daemon's event
 * loop for one round trip, as SQLite's fsync does; a bounded wait and the worker's fast refusal
 * while the server is down keep an outage from freezing the daemon.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { EtlError } from '../../shared/errors.js';

export type SqlRow = Record<string, unknown>;

export interface SyncPgClient {
  /** Runs one statement (`$1`… parameters) and returns its rows. */
  query<R extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): R[];
  /** Runs `work` between BEGIN and COMMIT; any error rolls back and is rethrown. */
  transaction<T>(work: () => T): T;
  close(): void;
}

export interface SyncPgOptions {
  readonly url: string;
  /** `application_name` of the connection (pg_stat_activity shows which host holds it). */
  readonly applicationName?: string;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /** After a failed connect, statements are refused at once for this long. */
  readonly retryAfterFailureMs?: number;
}

/** A statement failure the caller may react to (a unique violation, a serialization failure…). */
export class SqlStatementError extends EtlError {
  readonly sqlState: string | null;
  constructor(message: string, sqlState: string | null) {
    super('STATE_STORE', message);
    this.sqlState = sqlState;
  }
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly rows?: SqlRow[];
  readonly error?: { message: string; sqlState: string | null; connection: boolean };
}

function workerFile(): string {
  // Built code runs the compiled worker; tests run the sources, which Node strips of their types.
  const compiled = fileURLToPath(new URL('./pg-sync-worker.js', import.meta.url));
  return existsSync(compiled) ? compiled : fileURLToPath(new URL('./pg-sync-worker.ts', import.meta.url));
}

/** Where the URL points, without its password, for messages. */
export function describeStateUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

export function openSyncPgClient(options: SyncPgOptions): SyncPgClient {
  const statementTimeoutMs = options.statementTimeoutMs ?? 15_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 3_000;
  // The wait covers a connect and a statement; past it the state store is reported unreachable.
  const waitMs = connectTimeoutMs + statementTimeoutMs + 2_000;
  const signal = new SharedArrayBuffer(4);
  const counter = new Int32Array(signal);
  const channel = new MessageChannel();
  const port: MessagePort = channel.port1;
  const worker = new Worker(workerFile(), {
    workerData: {
      url: options.url,
      applicationName: options.applicationName ?? 'etld',
      connectTimeoutMs,
      statementTimeoutMs,
      retryAfterFailureMs: options.retryAfterFailureMs ?? 1_000,
      signal,
      port: channel.port2,
    },
    transferList: [channel.port2],
  });
  // The worker must not keep a daemon that is otherwise done alive.
  worker.unref();
  const where = describeStateUrl(options.url);
  let nextId = 0;
  let closed = false;

  const call = (sql: string, params: readonly unknown[]): SqlRow[] => {
    if (closed) throw new EtlError('STATE_STORE', 'the PostgreSQL state store is closed');
    const id = ++nextId;
    port.postMessage({ id, sql, params });
    const deadline = Date.now() + waitMs;
    for (;;) {
      // Read before looking at the port: a reply posted in between changes it, so the wait returns.
      const seen = Atomics.load(counter, 0);
      const message: { message: Reply } | undefined = receiveMessageOnPort(port);
      if (message !== undefined) {
        const reply = message.message;
        // An answer to a statement the caller stopped waiting for is dropped.
        if (reply.id !== id) continue;
        if (reply.ok) return reply.rows ?? [];
        const error = reply.error ?? { message: 'no answer', sqlState: null, connection: true };
        if (error.connection) {
          throw new EtlError('STATE_STORE', `the PostgreSQL state store at ${where} is unreachable: ${error.message}`);
        }
        throw new SqlStatementError(`PostgreSQL state store: ${error.message}`, error.sqlState);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new EtlError(
          'STATE_STORE',
          `the PostgreSQL state store at ${where} did not answer within ${Math.round(waitMs / 1000)} s`,
        );
      }
      Atomics.wait(counter, 0, seen, left);
    }
  };

  let depth = 0;
  return {
    query: <R extends SqlRow = SqlRow>(sql: string, params: readonly unknown[] = []) => call(sql, params) as R[],
    transaction<T>(work: () => T): T {
      // A nested call joins the transaction already open, as better-sqlite3's transactions do.
      if (depth > 0) return work();
      call('BEGIN', []);
      depth = 1;
      try {
        const result = work();
        call('COMMIT', []);
        return result;
      } catch (error) {
        try {
          call('ROLLBACK', []);
        } catch {
          // A broken connection has already rolled the transaction back on the server.
        }
        throw error;
      } finally {
        depth = 0;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      port.postMessage('close');
      setTimeout(() => void worker.terminate(), 2_000).unref();
    },
  };
}
