/**
 * One MySQL/MariaDB connection of a source: connect with `connection_retry`, a UTC session whose
 * values come back as the server's text (no JavaScript Date or Number), and KILL QUERY from a
 * side connection for cancellation.
 */
import mysql from 'mysql2';
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { TextRow } from '../source.js';
import { cancelledError, isAborted } from '../abort.js';
import { connectWithRetry } from '../connect-retry.js';
import { mapMysqlError } from './mysql-errors.js';
import type { MysqlFieldInfo } from './mysql-types.js';

/** The parts of a mysql2 connection this connector uses. */
export type MysqlConnection = mysql.Connection;

/** How long a killed query may take to stop before the connection is destroyed. */
const CANCEL_GRACE_MS = 5_000;

interface RawField {
  readonly name: string;
  readonly columnType?: number;
  readonly columnLength?: number;
  readonly decimals?: number;
  readonly flags?: number | string[];
  readonly characterSet?: number;
  readonly extendedTypeName?: string;
  readonly extendedFormat?: string;
}

interface TypeCastField {
  string(encoding?: string): string | null;
}

export function describeMysqlTarget(connection: ResolvedConnection, label: string): string {
  const where = connection.socket ?? `${connection.host ?? 'localhost'}:${connection.port ?? 3306}`;
  return `mysql source "${label}" (${where}/${connection.database ?? ''})`;
}

export class MysqlConnector {
  readonly what: string;
  readonly #connection: ResolvedConnection;
  readonly #attempts: number;
  readonly #delayMs: number;

  constructor(connection: ResolvedConnection, label: string, attempts: number, delayMs: number) {
    this.#connection = connection;
    this.what = describeMysqlTarget(connection, label);
    this.#attempts = attempts;
    this.#delayMs = delayMs;
  }

  connect(signal?: AbortSignal): Promise<MysqlConnection> {
    return connectWithRetry(
      { what: this.what, attempts: this.#attempts, delayMs: this.#delayMs, signal },
      () => this.#connectOnce(true),
      (error) => mapMysqlError(error, this.what),
    );
  }

  async #connectOnce(withSession: boolean): Promise<MysqlConnection> {
    const c = this.#connection;
    const connection = mysql.createConnection({
      host: c.host,
      port: c.port,
      socketPath: c.socket,
      user: c.user,
      password: c.password,
      database: c.database,
      ssl: c.ssl === true ? { rejectUnauthorized: c.trustServerCertificate !== true } : undefined,
      connectTimeout: c.connectTimeoutMs ?? 30_000,
      charset: 'UTF8MB4_GENERAL_CI',
      timezone: 'Z',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      rowsAsArray: true,
      // Every value as the server's text, decoded as UTF-8 (MySQL 8 labels JSON as binary).
      typeCast: (field: TypeCastField) => field.string('utf8'),
    });
    // Fatal errors on an idle connection are reported by the next query; an unhandled 'error'
    // event would crash the daemon.
    connection.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) =>
        connection.connect((error) => (error ? reject(error) : resolve())),
      );
      if (withSession) await this.#configureSession(connection);
      return connection;
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }

  async #configureSession(connection: MysqlConnection): Promise<void> {
    await run(connection, "SET time_zone = '+00:00'");
    const timeout = this.#connection.queryTimeoutMs;
    if (timeout === undefined) return;
    const [[version]] = (await run(connection, 'SELECT VERSION()')).rows as [[string]];
    // MariaDB limits any statement in seconds; MySQL limits SELECTs in milliseconds.
    if (/mariadb/i.test(version))
      await run(connection, `SET SESSION max_statement_time = ${Math.max(timeout / 1000, 0.001)}`);
    else await run(connection, `SET SESSION max_execution_time = ${Math.max(Math.floor(timeout), 1)}`);
  }

  async queryText(connection: MysqlConnection, sql: string, signal?: AbortSignal): Promise<TextRow[]> {
    const { rows } = await this.cancellable(connection, signal, () => run(connection, sql));
    return rows;
  }

  async describeFields(
    connection: MysqlConnection,
    sql: string,
    signal?: AbortSignal,
  ): Promise<MysqlFieldInfo[]> {
    const { fields } = await this.cancellable(connection, signal, () => run(connection, sql));
    return fields.map((f) => ({
      name: f.name,
      columnType: f.columnType ?? -1,
      columnLength: f.columnLength ?? 0,
      decimals: f.decimals ?? 0,
      flags: typeof f.flags === 'number' ? f.flags : 0,
      characterSet: f.characterSet ?? 0,
      ...(f.extendedTypeName === undefined ? {} : { extendedTypeName: f.extendedTypeName }),
      ...(f.extendedFormat === undefined ? {} : { extendedFormat: f.extendedFormat }),
    }));
  }

  async cancellable<T>(
    connection: MysqlConnection,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    if (isAborted(signal)) throw cancelledError(this.what);
    let settled: (() => void) | undefined;
    const onAbort = (): void => {
      settled = this.cancel(connection);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } catch (error) {
      if (isAborted(signal)) throw cancelledError(this.what);
      throw mapMysqlError(error, this.what);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      settled?.();
    }
  }

  /**
   * `KILL QUERY <thread>` from a side connection; if that fails or the query has not stopped
   * after a grace period, the connection is destroyed. Call the result once the query settled.
   */
  cancel(connection: MysqlConnection): () => void {
    let done = false;
    const destroy = (): void => {
      if (!done) connection.destroy();
    };
    const timer = setTimeout(destroy, CANCEL_GRACE_MS);
    timer.unref();
    const threadId = connection.threadId;
    this.#connectOnce(false)
      .then(async (side) => {
        try {
          await run(side, `KILL QUERY ${Math.trunc(threadId)}`);
        } finally {
          side.destroy();
        }
      })
      .catch(() => {
        clearTimeout(timer);
        destroy();
      });
    return () => {
      done = true;
      clearTimeout(timer);
    };
  }
}

/** One statement, rows as text arrays (the connection's typeCast), with the result metadata. */
export function run(
  connection: MysqlConnection,
  sql: string,
): Promise<{ rows: TextRow[]; fields: RawField[] }> {
  return new Promise((resolve, reject) => {
    connection.query({ sql, rowsAsArray: true }, (error, rows, fields) => {
      if (error) reject(error);
      else resolve({ rows: Array.isArray(rows) ? (rows as unknown as TextRow[]) : [], fields: fields ?? [] });
    });
  });
}
