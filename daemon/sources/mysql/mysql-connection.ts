/**
 * One MySQL/MariaDB connection of a source: a UTC session whose values come back as the server's
 * text (no JavaScript Date or Number), and KILL QUERY from a side connection for cancellation
 * (server-cancel.ts).
 */
import mysql from 'mysql2';
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { EtlError } from '../../../shared/errors.js';
import type { SourceDriverOptions, TextRow } from '../source.js';
import { SideCancelConnector } from '../server-cancel.js';
import { mapMysqlError } from './mysql-errors.js';
import type { MysqlFieldInfo } from './mysql-types.js';

/** The parts of a mysql2 connection this connector uses. */
export type MysqlConnection = mysql.Connection;

/** How long a closing connection may wait for the server's answer to QUIT. */
const CLOSE_GRACE_MS = 2_000;

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

/** Connections of one MySQL/MariaDB source; drivers and read sessions open and close them here. */
export class MysqlConnector extends SideCancelConnector<MysqlConnection> {
  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(connection, describeMysqlTarget(connection, options.label), options);
  }

  protected async connectOnce(withSession: boolean): Promise<MysqlConnection> {
    const c = this.target;
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
    const timeout = this.target.queryTimeoutMs;
    if (timeout === undefined) return;
    const [[version]] = (await run(connection, 'SELECT VERSION()')).rows as [[string]];
    // MariaDB limits any statement in seconds; MySQL limits SELECTs in milliseconds.
    if (/mariadb/i.test(version))
      await run(connection, `SET SESSION max_statement_time = ${Math.max(timeout / 1000, 0.001)}`);
    else await run(connection, `SET SESSION max_execution_time = ${Math.max(Math.floor(timeout), 1)}`);
  }

  mapError(error: unknown): EtlError {
    return mapMysqlError(error, this.what);
  }

  /** QUIT, and if the server does not answer within CLOSE_GRACE_MS, the socket is destroyed. */
  close(connection: MysqlConnection): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        connection.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      connection.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
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

  protected stopStatement(connection: MysqlConnection): (side: MysqlConnection) => Promise<unknown> {
    const threadId = connection.threadId;
    return (side) => run(side, `KILL QUERY ${Math.trunc(threadId)}`);
  }

  /** The side connection only sent KILL: destroyed at once, no QUIT round trip. */
  protected closeSide(side: MysqlConnection): Promise<void> {
    side.destroy();
    return Promise.resolve();
  }

  protected cut(connection: MysqlConnection): void {
    connection.destroy();
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
