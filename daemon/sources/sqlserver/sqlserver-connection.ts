/**
 * One SQL Server connection of a source (tedious): run one batch at a time (tedious refuses
 * overlapping requests, so callers queue), cancel a request.
 */
import { Connection, Request } from 'tedious';
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import { cancelledError, type EtlError } from '../../../shared/errors.js';
import type { SourceDriverOptions, TextRow } from '../source.js';
import { isAborted } from '../abort.js';
import { SourceConnector } from '../source-connector.js';
import { mapSqlServerError } from './sqlserver-errors.js';

export interface SqlServerConnection {
  readonly connection: Connection;
  /** Serialises requests on this connection. */
  queue: Promise<unknown>;
}

/** A cell as tedious hands it over (`useColumnNames: false`). */
export interface ColumnValue {
  readonly value: unknown;
}

/** A metadata value as text; extraction SQL renders every column to text already. */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export function describeSqlServerTarget(connection: ResolvedConnection, label: string): string {
  const host = connection.host ?? 'localhost';
  const where =
    connection.instance === undefined
      ? `${host}:${connection.port ?? 1433}`
      : `${host}\\${connection.instance}`;
  return `sqlserver source "${label}" (${where}/${connection.database ?? ''})`;
}

/** Connections of one SQL Server source; drivers and read sessions open and close them here. */
export class SqlServerConnector extends SourceConnector<SqlServerConnection> {
  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(connection, describeSqlServerTarget(connection, options.label), options);
  }

  /** tedious sets nothing up per session: every connection is opened alike. */
  protected connectOnce(): Promise<SqlServerConnection> {
    const c = this.target;
    const connection = new Connection({
      server: c.host ?? 'localhost',
      authentication: { type: 'default', options: { userName: c.user, password: c.password } },
      options: {
        ...(c.instance === undefined ? { port: c.port ?? 1433 } : { instanceName: c.instance }),
        database: c.database,
        encrypt: c.ssl ?? true,
        trustServerCertificate: c.trustServerCertificate ?? false,
        connectTimeout: c.connectTimeoutMs ?? 30_000,
        // 0 = no limit; tedious enforces the per-request limit itself and reports ETIMEOUT.
        requestTimeout: c.queryTimeoutMs ?? 0,
        rowCollectionOnRequestCompletion: false,
        useColumnNames: false,
        appName: 'etld',
      },
    });
    // Fatal errors while idle show up on the next request; an unhandled 'error' would crash the daemon.
    connection.on('error', () => undefined);
    return new Promise((resolve, reject) => {
      connection.connect((error) => {
        if (error) {
          connection.close();
          reject(error);
        } else {
          resolve({ connection, queue: Promise.resolve() });
        }
      });
    });
  }

  mapError(error: unknown): EtlError {
    return mapSqlServerError(error, this.what);
  }

  /**
   * Runs one batch after the connection's previous request, collecting rows as text. tedious
   * cancels a request over its own connection: no side connection as for pg and mysql2.
   */
  queryText(target: SqlServerConnection, sql: string, signal?: AbortSignal): Promise<TextRow[]> {
    const run = async (): Promise<TextRow[]> => {
      if (isAborted(signal)) throw cancelledError(this.what);
      const rows: TextRow[] = [];
      try {
        await new Promise<void>((resolve, reject) => {
          const request = new Request(sql, (error) => (error ? reject(error) : resolve()));
          request.on('row', (columns: ColumnValue[]) => rows.push(columns.map((c) => cellText(c.value))));
          const onAbort = (): void => request.cancel();
          signal?.addEventListener('abort', onAbort, { once: true });
          request.on('requestCompleted', () => signal?.removeEventListener('abort', onAbort));
          target.connection.execSqlBatch(request);
        });
      } catch (error) {
        throw this.failure(error, signal);
      }
      return rows;
    };
    const result = target.queue.then(run, run);
    target.queue = result.catch(() => undefined);
    return result;
  }

  close(target: SqlServerConnection): Promise<void> {
    return new Promise((resolve) => {
      if (target.connection.closed) {
        resolve();
        return;
      }
      target.connection.once('end', () => resolve());
      target.connection.close();
    });
  }
}
