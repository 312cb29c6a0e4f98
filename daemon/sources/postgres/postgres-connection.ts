/**
 * One PostgreSQL connection of a source: session settings that make COPY emit staging-CSV text,
 * the server's pid for cancelling from a side connection (server-cancel.ts).
 */
import pg from 'pg';
import type { ResolvedConnection } from '../../config/resolved-connection.js';
import type { EtlError } from '../../../shared/errors.js';
import type { SourceDriverOptions, TextRow } from '../source.js';
import { SideCancelConnector } from '../server-cancel.js';
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

/** Connections of one PostgreSQL source; drivers and read sessions open and close them here. */
export class PostgresConnector extends SideCancelConnector<PgConnection> {
  constructor(connection: ResolvedConnection, options: SourceDriverOptions) {
    super(connection, describePostgresTarget(connection, options.label), options);
  }

  protected async connectOnce(withSession: boolean): Promise<PgConnection> {
    const c = this.target;
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

  mapError(error: unknown): EtlError {
    return mapPostgresError(error, this.what);
  }

  close(connection: PgConnection): Promise<void> {
    return connection.client.end().catch(() => undefined);
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

  protected stopStatement(connection: PgConnection): (side: PgConnection) => Promise<unknown> {
    return (side) => side.client.query('SELECT pg_cancel_backend($1)', [connection.pid]);
  }

  protected closeSide(side: PgConnection): Promise<void> {
    return this.close(side);
  }

  /** Destroys the socket: pg has no call that drops a connection busy with a query. */
  protected cut(connection: PgConnection): void {
    const stream = (connection.client as unknown as { connection?: { stream?: { destroy(): void } } })
      .connection?.stream;
    stream?.destroy();
  }
}
