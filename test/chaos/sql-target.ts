/**
 * One interface over the two source servers (and the PostgreSQL destination database) for the
 * harness's own SQL: pooled statements per database, dedicated sessions for transactions that
 * stay open across a run step, database create/drop.
 *
 * Decisions:
 * - The harness talks to the servers directly, never through the fault proxies.
 * - PostgreSQL sessions use TimeZone UTC (the server is started with it too); MariaDB pools
 *   return every value as a string (`dateStrings`, big numbers as strings), though the source
 *   reader casts to text anyway.
 * - Pools are per database and ended before that database is dropped.
 */
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SourceKind } from './world.js';

export type Row = Record<string, unknown>;

export interface SqlSession {
  run(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export interface SqlTarget {
  readonly kind: SourceKind;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The n-th (1-based) parameter placeholder. */
  placeholder(n: number): string;
  quote(identifier: string): string;
  run(database: string, sql: string, params?: readonly unknown[]): Promise<Row[]>;
  session(database: string): Promise<SqlSession>;
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  close(): Promise<void>;
}

export function postgresTarget(host: string, port: number, user: string): SqlTarget {
  const pools = new Map<string, pg.Pool>();
  const pool = (database: string): pg.Pool => {
    let p = pools.get(database);
    if (p === undefined) {
      p = new pg.Pool({ host, port, user, database, max: 3, options: '-c TimeZone=UTC -c DateStyle=ISO' });
      p.on('error', () => undefined);
      pools.set(database, p);
    }
    return p;
  };
  const endPool = async (database: string): Promise<void> => {
    const p = pools.get(database);
    pools.delete(database);
    await p?.end().catch(() => undefined);
  };
  return {
    kind: 'postgres',
    host,
    port,
    user,
    placeholder: (n) => `$${n}`,
    quote: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
    run: async (database, sql, params = []) => (await pool(database).query(sql, [...params])).rows as Row[],
    session: async (database) => {
      const client = new pg.Client({
        host,
        port,
        user,
        database,
        options: '-c TimeZone=UTC -c DateStyle=ISO',
      });
      client.on('error', () => undefined);
      await client.connect();
      return {
        run: async (sql, params = []) => (await client.query(sql, [...params])).rows as Row[],
        close: () => client.end().catch(() => undefined),
      };
    },
    createDatabase: async (name) => {
      await pool('postgres').query(`CREATE DATABASE "${name}"`);
    },
    dropDatabase: async (name) => {
      await endPool(name);
      await pool('postgres').query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    close: async () => {
      for (const name of [...pools.keys()]) await endPool(name);
    },
  };
}

export function mariaDbTarget(host: string, port: number, user: string): SqlTarget {
  const pools = new Map<string, mysql.Pool>();
  const options = (database: string | undefined) => ({
    host,
    port,
    user,
    ...(database === undefined ? {} : { database }),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
  });
  const pool = (database: string): mysql.Pool => {
    let p = pools.get(database);
    if (p === undefined) {
      p = mysql.createPool({ ...options(database), connectionLimit: 3 });
      pools.set(database, p);
    }
    return p;
  };
  const admin = async (sql: string): Promise<void> => {
    const connection = await mysql.createConnection(options(undefined));
    try {
      await connection.query(sql);
    } finally {
      await connection.end();
    }
  };
  const rowsOf = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : []);
  return {
    kind: 'mysql',
    host,
    port,
    user,
    placeholder: () => '?',
    quote: (identifier) => `\`${identifier.replaceAll('`', '``')}\``,
    run: async (database, sql, params = []) => {
      const [rows] = await pool(database).query(sql, [...params]);
      return rowsOf(rows);
    },
    session: async (database) => {
      const connection = await mysql.createConnection(options(database));
      connection.on('error', () => undefined);
      return {
        run: async (sql, params = []) => {
          const [rows] = await connection.query(sql, [...params]);
          return rowsOf(rows);
        },
        close: () => connection.end().catch(() => undefined),
      };
    },
    createDatabase: (name) =>
      admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`),
    dropDatabase: async (name) => {
      const p = pools.get(name);
      pools.delete(name);
      await p?.end().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS \`${name}\``);
    },
    close: async () => {
      for (const p of pools.values()) await p.end().catch(() => undefined);
      pools.clear();
    },
  };
}
