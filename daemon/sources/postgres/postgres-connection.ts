/**
 * One PostgreSQL connection of a source: connect with `connection_retry`, session settings that
 * make COPY emit staging-CSV text, and cancellation from a side connection.
 */
import pg from 'pg';
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { TextRow } from '../source.js';
import { cancelledError, isAborted } from '../abort.js';
import { connectWithRetry } from '../connect-retry.js';
import { mapPostgresError } from './postgres-errors.js';

/** Values come back as the server's text: no JavaScript parsing of numbers, dates or JSON. */
const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

const SESSION_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'iso_8601'",
  // Any value > 0 gives the shortest text that reads back to the same float (PostgreSQL >= 12).
  'SET extra_float_digits = 3',
  'SET standard_conforming_strings = on',
  "SET client_encoding = 'UTF8'",
];

/** `application_name` of every source session. */
export const POSTGRES_SOURCE_APPLICATION = 'etld-source';

/** How long a cancelled query may take to stop before its socket is cut. */
const CANCEL_GRACE_MS = 5_000;

export interface PgConnection {
  readonly client: pg.Client;
  readonly pid: number;
}

export interface PgField {
  readonly name: string;
  readonly dataTypeID: number;
  readonly dataTypeModifier: number;
}

export function describePostgresTarget(connection: ResolvedConnection, label: string): string {
  const host = connection.socket ?? connection.host ?? 'localhost';
  const port = connection.port ?? 5432;
  return `postgres source "${label}" (${host}:${port}/${connection.database ?? ''})`;
}

export class PostgresConnector {
  readonly what: string;
  readonly #connection: ResolvedConnection;
  readonly #attempts: number;
  readonly #delayMs: number;

  constructor(connection: ResolvedConnection, label: string, attempts: number, delayMs: number) {
    this.#connection = connection;
    this.what = describePostgresTarget(connection, label);
    this.#attempts = attempts;
    this.#delayMs = delayMs;
  }

  connect(signal?: AbortSignal): Promise<PgConnection> {
    return connectWithRetry(
      { what: this.what, attempts: this.#attempts, delayMs: this.#delayMs, signal },
      () => this.#connectOnce(true),
      (error) => mapPostgresError(error, this.what),
    );
  }

  async #connectOnce(withSession: boolean): Promise<PgConnection> {
    const c = this.#connection;
    const client = new pg.Client({
      host: c.socket ?? c.host,
      port: c.port,
      database: c.database,
      user: c.user,
      password: c.password,
      ssl: c.ssl === true ? { rejectUnauthorized: c.trustServerCertificate !== true } : false,
      connectionTimeoutMillis: c.connectTimeoutMs ?? 30_000,
      // Distinct from the destination's 'etld': the open-transaction cap ignores only these
      // read-only sessions (postgres-adapter.ts), never a load another pipeline is committing.
      application_name: POSTGRES_SOURCE_APPLICATION,
    });
    // A connection lost while idle is reported by the next query; without a listener the
    // 'error' event would crash the daemon.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const settings = withSession ? [...SESSION_SETTINGS] : [];
      if (withSession && c.queryTimeoutMs !== undefined)
        settings.push(`SET statement_timeout = ${Math.floor(c.queryTimeoutMs)}`);
      const results = (await client.query([...settings, 'SELECT pg_backend_pid()'].join('; '))) as unknown as
        pg.QueryResult<{ pg_backend_pid: number }> | pg.QueryResult<{ pg_backend_pid: number }>[];
      const last = Array.isArray(results) ? results.at(-1) : results;
      const pid = last?.rows[0]?.pg_backend_pid;
      if (typeof pid !== 'number') throw new Error('pg_backend_pid() returned no row');
      return { client, pid };
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  async queryText(connection: PgConnection, sql: string, signal?: AbortSignal): Promise<TextRow[]> {
    const result = await this.cancellable(connection, signal, () =>
      connection.client.query<(string | null)[]>({ text: sql, rowMode: 'array', types: RAW_TEXT_TYPES }),
    );
    return result.rows;
  }

  async describeFields(connection: PgConnection, sql: string, signal?: AbortSignal): Promise<PgField[]> {
    const result = await this.cancellable(connection, signal, () =>
      connection.client.query({ text: sql, rowMode: 'array', types: RAW_TEXT_TYPES }),
    );
    return result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      dataTypeModifier: f.dataTypeModifier,
    }));
  }

  /** Runs `work` on `connection`; aborting cancels it on the server and rejects CANCELLED. */
  async cancellable<T>(
    connection: PgConnection,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted === true) throw cancelledError(this.what);
    let settled: (() => void) | undefined;
    const onAbort = (): void => {
      settled = this.cancel(connection);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } catch (error) {
      if (isAborted(signal)) throw cancelledError(this.what);
      throw mapPostgresError(error, this.what);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      settled?.();
    }
  }

  /**
   * Stops whatever `connection` runs: `pg_cancel_backend` from a side connection, and if the
   * query has not stopped after a grace period (or the side connection fails), the socket is cut.
   * Call the returned function once the query has settled.
   */
  cancel(connection: PgConnection): () => void {
    const cut = (): void => {
      const stream = (connection.client as unknown as { connection?: { stream?: { destroy(): void } } })
        .connection?.stream;
      stream?.destroy();
    };
    let done = false;
    const timer = setTimeout(cut, CANCEL_GRACE_MS);
    timer.unref();
    this.#connectOnce(false)
      .then(async (side) => {
        try {
          await side.client.query('SELECT pg_cancel_backend($1)', [connection.pid]);
        } finally {
          await side.client.end().catch(() => undefined);
        }
      })
      .catch(() => {
        clearTimeout(timer);
        if (!done) cut();
      });
    return () => {
      done = true;
      clearTimeout(timer);
    };
  }
}
