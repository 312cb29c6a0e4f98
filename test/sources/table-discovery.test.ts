/**
 * Table discovery and primary keys against real PostgreSQL and MariaDB: base tables only (no
 * views, sequences, partitions or system schemas), names with mixed case, spaces and dots, keys
 * in key order, and the patterns of shared/table-patterns.ts over what the source listed.
 */
import type { ResolvedConnection } from '../../daemon/config/resolved-connection.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mysqlDialect } from '../../daemon/sources/mysql/mysql-dialect.js';
import type { MysqlDriver } from '../../daemon/sources/mysql/mysql-driver.js';
import { postgresDialect } from '../../daemon/sources/postgres/postgres-dialect.js';
import type { PostgresDriver } from '../../daemon/sources/postgres/postgres-driver.js';
import type { SourceIntrospector } from '../../daemon/sources/source.js';
import { EtlError } from '../../shared/errors.js';
import type { IdentifierDialect } from '../../shared/qualified-name.js';
import {
  formatSourceTable,
  parseTablePattern,
  selectTables,
  type SourceTable,
  type TablePattern,
} from '../../shared/table-patterns.js';
import { baseOptions } from '../conformance/source.case.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

const t = (schema: string, name: string): SourceTable => ({ schema, name });

function patterns(texts: readonly string[], dialect: IdentifierDialect): TablePattern[] {
  return texts.map((text) => {
    const parsed = parseTablePattern(text, dialect);
    if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
    return parsed.pattern;
  });
}

/** Every listed table's key, read back through the name a user would write for it. */
async function keysOf(
  introspector: SourceIntrospector,
  tables: readonly SourceTable[],
  dialect: IdentifierDialect,
): Promise<Record<string, string[] | null>> {
  const keys: Record<string, string[] | null> = {};
  for (const table of tables) {
    const name = formatSourceTable(table, dialect);
    keys[name] = await introspector.primaryKey(name);
  }
  return keys;
}

async function missingTableError(introspector: SourceIntrospector, table: string): Promise<EtlError> {
  const error = await introspector.primaryKey(table).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof EtlError))
    throw new Error(`expected an EtlError for ${table}, got ${String(error)}`);
  return error;
}

describe('PostgreSQL table discovery', () => {
  const DB = 'discovery_pg';
  let server: PostgresServer | undefined;
  let driver: PostgresDriver | undefined;
  let introspector: SourceIntrospector;

  beforeAll(async () => {
    const s = await startPostgres();
    server = s;
    await s.createDatabase(DB);
    const statements = [
      `CREATE SCHEMA sales`,
      `CREATE SCHEMA "Other Schema"`,
      `CREATE TABLE sales.orders (id int PRIMARY KEY, note text)`,
      `CREATE TABLE sales."Order Items" (line_no int, order_id int, qty int, PRIMARY KEY (order_id, line_no))`,
      `CREATE TABLE sales."MiXed" (v text)`,
      `CREATE TABLE sales."a.b" ("Key Col" int PRIMARY KEY)`,
      `CREATE TABLE sales.events (day date, id int, PRIMARY KEY (id, day)) PARTITION BY RANGE (day)`,
      `CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
      `CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
      `CREATE VIEW sales.order_view AS SELECT id FROM sales.orders`,
      `CREATE MATERIALIZED VIEW sales.order_totals AS SELECT count(*) AS n FROM sales.orders`,
      `CREATE SEQUENCE sales.order_seq`,
      `CREATE TABLE "Other Schema".t1 (id bigint PRIMARY KEY)`,
      `CREATE TABLE "Other Schema".mixed (b int, a int, c int, PRIMARY KEY (c, a, b))`,
      `CREATE TABLE public.users (id int PRIMARY KEY)`,
      `CREATE TABLE public.notes (body text)`,
      `CREATE VIEW public.user_view AS SELECT id FROM public.users`,
    ];
    for (const sql of statements) await s.query(sql, [], DB);
    const connection: ResolvedConnection = { host: s.host, port: s.port, database: DB, user: 'postgres' };
    driver = postgresDialect.createDriver(connection, baseOptions);
    await driver.init();
    introspector = postgresDialect.createIntrospector(driver);
  });

  afterAll(async () => {
    await driver?.destroy();
    await server?.destroy();
  });

  test('lists base tables and partitioned parents of every user schema, sorted, with the default schema', async () => {
    expect(await introspector.listTables()).toEqual({
      defaultSchema: 'public',
      namesIgnoreCase: false,
      tables: [
        t('Other Schema', 'mixed'),
        t('Other Schema', 't1'),
        t('public', 'notes'),
        t('public', 'users'),
        t('sales', 'MiXed'),
        t('sales', 'Order Items'),
        t('sales', 'a.b'),
        t('sales', 'events'),
        t('sales', 'orders'),
      ],
    });
  });

  test('primary keys in key order (not column order), null without one, for every listed name', async () => {
    const { tables } = await introspector.listTables();
    expect(await keysOf(introspector, tables, 'postgres')).toEqual({
      '"Other Schema".mixed': ['c', 'a', 'b'],
      '"Other Schema".t1': ['id'],
      'public.notes': null,
      'public.users': ['id'],
      'sales."MiXed"': null,
      'sales."Order Items"': ['order_id', 'line_no'],
      'sales."a.b"': ['Key Col'],
      'sales.events': ['id', 'day'],
      'sales.orders': ['id'],
    });
    // 1-part names resolve through the search path, unquoted ones fold.
    expect(await introspector.primaryKey('users')).toEqual(['id']);
    expect(await introspector.primaryKey('Sales.Orders')).toEqual(['id']);
    expect(await introspector.primaryKey('sales.events_2024')).toEqual(['id', 'day']);
    expect(await introspector.primaryKey('sales.order_view')).toBeNull();
  });

  test('a table that does not exist is an error naming it', async () => {
    const error = await missingTableError(introspector, 'sales.mixed');
    expect(error.code).toBe('SOURCE_QUERY');
    expect(error.message).toContain('table "sales.mixed" does not exist or the login cannot see it');
  });

  test('include and exclude patterns over the listed tables', async () => {
    const { defaultSchema, namesIgnoreCase, tables } = await introspector.listTables();
    const select = (include: string[], exclude: string[] = []): SourceTable[] =>
      selectTables(tables, patterns(include, 'postgres'), patterns(exclude, 'postgres'), {
        defaultSchema,
        ignoreCase: namesIgnoreCase,
      });
    expect(select(['sales.*', '"Other Schema".*', 'users'], ['sales.order*', '*."MiXed"'])).toEqual([
      t('Other Schema', 'mixed'),
      t('Other Schema', 't1'),
      t('public', 'users'),
      t('sales', 'Order Items'),
      t('sales', 'a.b'),
      t('sales', 'events'),
    ]);
    expect(select(['*'])).toEqual([t('public', 'notes'), t('public', 'users')]);
    expect(select(['"Sales".*', 'sales.events_*', 'sales.order_view'])).toEqual([]);
    expect(select(['*.?i*'], ['"Other Schema".*'])).toEqual([t('sales', 'MiXed')]);
  });
});

describe('MariaDB table discovery', () => {
  const DB = 'discovery_my';
  let server: MariaDbServer | undefined;
  let driver: MysqlDriver | undefined;
  let introspector: SourceIntrospector;

  beforeAll(async () => {
    const s = await startMariaDb();
    server = s;
    await s.createDatabase(DB);
    await s.createDatabase('OtherDb');
    const statements = [
      `CREATE TABLE orders (id INT PRIMARY KEY, note TEXT)`,
      'CREATE TABLE `Order Items` (line_no INT, order_id INT, qty INT, PRIMARY KEY (order_id, line_no))',
      // Two tables whose names differ only in case (lower_case_table_names = 0 on Linux).
      'CREATE TABLE `MiXed` (a INT PRIMARY KEY, b INT)',
      'CREATE TABLE `mixed` (b INT, c INT, d INT, PRIMARY KEY (c, b))',
      'CREATE TABLE `a.b` (v TEXT)',
      `CREATE TABLE parted (id INT, day DATE, PRIMARY KEY (id, day)) PARTITION BY RANGE (YEAR(day)) (
        PARTITION p2024 VALUES LESS THAN (2025), PARTITION p2025 VALUES LESS THAN (2026))`,
      `CREATE TABLE history (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING`,
      `CREATE VIEW order_view AS SELECT id FROM orders`,
      `CREATE SEQUENCE order_seq`,
      'CREATE TABLE `OtherDb`.t1 (id BIGINT PRIMARY KEY)',
      'CREATE TABLE `OtherDb`.`Notes` (body TEXT)',
      `CREATE USER 'etld_limited'@'%'`,
      "GRANT SELECT ON `OtherDb`.t1 TO 'etld_limited'@'%'",
    ];
    for (const sql of statements) await s.query(sql, [], DB);
    driver = mysqlDialect.createDriver(connection(s), baseOptions);
    await driver.init();
    introspector = mysqlDialect.createIntrospector(driver);
  });

  function connection(s: MariaDbServer, user = 'root'): ResolvedConnection {
    return { host: s.host, port: s.port, database: DB, user };
  }

  afterAll(async () => {
    await driver?.destroy();
    await server?.destroy();
  });

  test('lists base tables of every non-system database, sorted, with the connection database', async () => {
    expect(await introspector.listTables()).toEqual({
      defaultSchema: DB,
      namesIgnoreCase: false,
      tables: [
        t('OtherDb', 'Notes'),
        t('OtherDb', 't1'),
        t(DB, 'MiXed'),
        t(DB, 'Order Items'),
        t(DB, 'a.b'),
        t(DB, 'history'),
        t(DB, 'mixed'),
        t(DB, 'orders'),
        t(DB, 'parted'),
      ],
    });
  });

  test('only what the login can see', async () => {
    const s = server;
    if (s === undefined) throw new Error('no server');
    const limited = mysqlDialect.createDriver(
      { ...connection(s, 'etld_limited'), database: 'OtherDb' },
      baseOptions,
    );
    try {
      await limited.init();
      const seen = mysqlDialect.createIntrospector(limited);
      expect(await seen.listTables()).toEqual({
        defaultSchema: 'OtherDb',
        namesIgnoreCase: false,
        tables: [t('OtherDb', 't1')],
      });
      expect(await seen.primaryKey('t1')).toEqual(['id']);
      expect((await missingTableError(seen, 'Notes')).message).toContain('table "Notes" does not exist');
    } finally {
      await limited.destroy();
    }
  });

  test('primary keys in key order, exact about case, null without one, for every listed name', async () => {
    const { tables } = await introspector.listTables();
    expect(await keysOf(introspector, tables, 'mysql')).toEqual({
      'OtherDb.Notes': null,
      'OtherDb.t1': ['id'],
      [`${DB}.MiXed`]: ['a'],
      [`${DB}.\`Order Items\``]: ['order_id', 'line_no'],
      [`${DB}.\`a.b\``]: null,
      [`${DB}.history`]: ['id'],
      [`${DB}.mixed`]: ['c', 'b'],
      [`${DB}.orders`]: ['id'],
      [`${DB}.parted`]: ['id', 'day'],
    });
    // 1-part names are tables of the connection's database.
    expect(await introspector.primaryKey('mixed')).toEqual(['c', 'b']);
    expect(await introspector.primaryKey('`MiXed`')).toEqual(['a']);
    expect(await introspector.primaryKey('order_view')).toBeNull();
  });

  test('a table that does not exist (here: another case of a name) is an error naming it', async () => {
    const error = await missingTableError(introspector, 'ORDERS');
    expect(error.code).toBe('SOURCE_QUERY');
    expect(error.message).toContain('table "ORDERS" does not exist or the login cannot see it');
    expect((await missingTableError(introspector, 'otherdb.t1')).message).toContain('"otherdb.t1"');
  });

  test('include and exclude patterns over the listed tables', async () => {
    const { defaultSchema, namesIgnoreCase, tables } = await introspector.listTables();
    const select = (include: string[], exclude: string[] = []): SourceTable[] =>
      selectTables(tables, patterns(include, 'mysql'), patterns(exclude, 'mysql'), {
        defaultSchema,
        ignoreCase: namesIgnoreCase,
      });
    expect(select(['*'], ['Mi*', '`a.b`'])).toEqual([
      t(DB, 'Order Items'),
      t(DB, 'history'),
      t(DB, 'mixed'),
      t(DB, 'orders'),
      t(DB, 'parted'),
    ]);
    expect(select(['OtherDb.*', 'mi?ed'])).toEqual([
      t('OtherDb', 'Notes'),
      t('OtherDb', 't1'),
      t(DB, 'mixed'),
    ]);
    expect(select(['otherdb.*', 'order_*', `${DB}.order_view`])).toEqual([]);
    expect(select(['*.*'], [`${DB}.*`, '*.N*'])).toEqual([t('OtherDb', 't1')]);
  });
});
