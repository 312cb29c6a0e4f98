import type { ResolvedConnection } from '../../daemon/config/resolved-connection.js';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresDialect } from '../../daemon/sources/postgres/postgres-dialect.js';
import type { PostgresDriver } from '../../daemon/sources/postgres/postgres-driver.js';
import { EtlError } from '../../shared/errors.js';
import {
  baseOptions,
  extractToFile,
  loadStaged,
  runSourceConformance,
  type SourceFixture,
} from '../conformance/source.case.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

const DB = 'source_pg';
let server: PostgresServer | undefined;
let starting: Promise<PostgresServer> | undefined;

/** One server for the conformance suite and the PostgreSQL-specific tests of this file. */
function sharedServer(): Promise<PostgresServer> {
  starting ??= (async () => {
    const started = await startPostgres();
    server = started;
    await started.createDatabase(DB);
    const statements = [
      `CREATE TYPE mood AS ENUM ('sad', 'happy')`,
      `CREATE TABLE round_trip (
        id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, n numeric(38,10), n_free numeric, n_small numeric(5,-2),
        m money, f4 real, f8 double precision, b boolean, t text, vc varchar(20), ch char(5), by bytea,
        d date, tm time, ts timestamp, tstz timestamptz, j json, jb jsonb, u uuid, arr int[], tarr text[],
        e mood, bits bit(4), iv interval, ip inet)`,
      `INSERT INTO round_trip VALUES
        (1, 32767, 2147483647, 9223372036854775807, 9999999999999999999999999999.9999999999, 12345678901234567890.0123456789, 1234500,
         1234.56, 3.4028235e38, 1.7976931348623157e308, true,
         E'emoji 😀 CJK 漢字 "quotes", commas,\nnewline\ttab \\\\ backslash, \\r\\n', '', 'ab', '\\x00ff41',
         '1969-07-20', '23:59:59.999999', '1960-01-01 00:00:00.000001', '2020-02-29 23:59:59.123456+05',
         '{"a": [1, 2.5, "x"]}', '{"b": {"c": null}}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', '{"a,b","c\\"d"}',
         'happy', B'1010', '1 year 2 months 3 days 04:05:06.5', '192.168.0.1/24'),
        (2, -32768, -2147483648, -9223372036854775808, -9999999999999999999999999999.9999999999, -0.0000000001, -9999900,
         -0.01, 'NaN', '-Infinity', false,
         '', ' padded ', 'x', '\\x',
         '0001-01-01', '00:00:00', '1969-12-31 23:59:59.999999', '1900-01-01 00:00:00+00',
         '[]', '"s"', '00000000-0000-0000-0000-000000000000', '{}', '{}',
         'sad', B'0000', '-1 days', '::1'),
        (3, 0, 0, 9007199254740993, 0.0000000001, 0, 0,
         0, 0.1, 0.1, NULL,
         'NULL', ',', '"', '\\x0a0d2c22',
         '2262-04-11', '12:00:00', '2262-04-11 23:47:16.854775', '1970-01-01 00:00:00.000001+00',
         'null', '[1, "2"]', NULL, NULL, NULL,
         NULL, NULL, NULL, NULL),
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      `CREATE TABLE consistency (id int PRIMARY KEY, v text NOT NULL)`,
      `INSERT INTO consistency SELECT g, 'old' FROM generate_series(1, 100) g`,
      `ANALYZE consistency`,
      `CREATE TABLE unsupported (id int, geo point)`,
      `CREATE TABLE too_precise (id int, big numeric(40,2))`,
      `CREATE TABLE lossy (id int, amount numeric)`,
      `INSERT INTO lossy VALUES (1, 1.5), (2, 0.12345678901)`,
      `CREATE ROLE etld_limited LOGIN`,
    ];
    for (const sql of statements) await started.query(sql, [], DB);
    return started;
  })();
  return starting;
}

function connection(s: PostgresServer, user = 'postgres'): ResolvedConnection {
  return { host: s.host, port: s.port, database: DB, user };
}

runSourceConformance({
  name: 'PostgreSQL',
  setup: async (): Promise<SourceFixture> => {
    const s = await sharedServer();
    return {
      dialect: postgresDialect,
      connection: connection(s),
      exec: async (sql) => {
        await s.query(sql, [], DB);
      },
      roundTrip: {
        table: 'round_trip',
        key: 'id',
        types: {
          id: 'int32',
          i2: 'int16',
          i4: 'int32',
          i8: 'int64',
          n: 'decimal(38,10)',
          n_free: 'decimal(38,10)',
          n_small: 'decimal(7,0)',
          m: 'decimal(19,2)',
          f4: 'float32',
          f8: 'float64',
          b: 'bool',
          t: 'text',
          vc: 'text',
          ch: 'text',
          by: 'bytes',
          d: 'date',
          tm: 'time',
          ts: 'timestamp',
          tstz: 'timestamptz',
          j: 'json',
          jb: 'json',
          u: 'uuid',
          arr: 'json',
          tarr: 'json',
          e: 'text',
          bits: 'text',
          iv: 'text',
          ip: 'text',
        },
        rows: [
          {
            id: '1',
            i2: '32767',
            i4: '2147483647',
            i8: '9223372036854775807',
            n: '9999999999999999999999999999.9999999999',
            n_free: '12345678901234567890.0123456789',
            n_small: '1234500',
            m: '1234.56',
            f4: '3.4028235e+38',
            f8: '1.7976931348623157e+308',
            b: 'true',
            t: 'emoji 😀 CJK 漢字 "quotes", commas,\nnewline\ttab \\ backslash, \r\n',
            vc: '',
            ch: 'ab   ',
            by: '00ff41',
            d: '1969-07-20',
            tm: '23:59:59.999999',
            ts: '1960-01-01 00:00:00.000001',
            tstz: '2020-02-29 18:59:59.123456+00',
            j: '{"a": [1, 2.5, "x"]}',
            jb: '{"b": {"c": null}}',
            u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            arr: '[1,null,3]',
            tarr: '["a,b","c\\"d"]',
            e: 'happy',
            bits: '1010',
            iv: 'P1Y2M3DT4H5M6.5S',
            ip: '192.168.0.1/24',
          },
          {
            id: '2',
            i2: '-32768',
            i4: '-2147483648',
            i8: '-9223372036854775808',
            n: '-9999999999999999999999999999.9999999999',
            n_free: '-0.0000000001',
            n_small: '-9999900',
            m: '-0.01',
            f4: 'nan',
            f8: '-inf',
            b: 'false',
            t: '',
            vc: ' padded ',
            ch: 'x    ',
            by: '',
            d: '0001-01-01',
            tm: '00:00:00',
            ts: '1969-12-31 23:59:59.999999',
            tstz: '1900-01-01 00:00:00+00',
            j: '[]',
            jb: '"s"',
            u: '00000000-0000-0000-0000-000000000000',
            arr: '[]',
            tarr: '[]',
            e: 'sad',
            bits: '0000',
            iv: 'P-1D',
            ip: '::1',
          },
          {
            id: '3',
            i8: '9007199254740993',
            n: '0.0000000001',
            n_free: '0.0000000000',
            f4: '0.1',
            f8: '0.1',
            b: null,
            t: 'NULL',
            vc: ',',
            ch: '"    ',
            by: '0a0d2c22',
            d: '2262-04-11',
            tm: '12:00:00',
            ts: '2262-04-11 23:47:16.854775',
            tstz: '1970-01-01 00:00:00.000001+00',
            j: 'null',
            jb: '[1, "2"]',
            u: null,
            arr: null,
          },
          {
            id: '4',
            i2: null,
            i4: null,
            i8: null,
            n: null,
            n_free: null,
            n_small: null,
            m: null,
            f4: null,
            f8: null,
            b: null,
            t: null,
            vc: null,
            ch: null,
            by: null,
            d: null,
            tm: null,
            ts: null,
            tstz: null,
            j: null,
            jb: null,
            u: null,
            arr: null,
            tarr: null,
            e: null,
            bits: null,
            iv: null,
            ip: null,
          },
        ],
      },
      consistencyTable: 'consistency',
      concurrentWrite: [
        `INSERT INTO consistency VALUES (1000, 'late')`,
        `UPDATE consistency SET v = 'new' WHERE id = 75`,
      ],
      heavyQuery: (marker) => `SELECT /* ${marker} */ generate_series(1, 2000000000)::int8 AS n`,
      runningQueries: async (marker) => {
        const rows = await s.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()`,
          [`%${marker}%`],
        );
        return Number(rows[0]?.n ?? 0);
      },
      restrictedConnection: connection(s, 'etld_limited'),
      unsupported: { table: 'unsupported', column: 'geo' },
      close: () => Promise.resolve(),
    };
  },
});

describe('PostgreSQL specifics', () => {
  let s: PostgresServer;
  let driver: PostgresDriver;
  let duck: DuckDBConnection;
  let dir: string;

  beforeAll(async () => {
    s = await sharedServer();
    driver = postgresDialect.createDriver(connection(s), baseOptions);
    await driver.init();
    duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run("SET TimeZone = 'UTC'");
    dir = mkdtempSync(join(tmpdir(), 'etld-pg-'));
  });

  afterAll(async () => {
    await driver?.destroy();
    duck?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.destroy();
  });

  test('numeric with precision above 38 is refused, naming the column', async () => {
    const error = await postgresDialect
      .createIntrospector(driver)
      .describe({ table: 'too_precise' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).message).toContain('"big"');
    expect((error as EtlError).message).toContain('numeric(40,2)');
  });

  test('unconstrained numeric that would be rounded fails with SOURCE_DATA naming the column', async () => {
    const relation = { table: 'lossy' };
    const columns = await postgresDialect.createIntrospector(driver).describe(relation);
    const sql = postgresDialect.createAdapter().buildSelect({ relation, columns, where: [] });
    const error = await extractToFile(driver, sql, columns, join(dir, 'lossy.csv')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).code).toBe('SOURCE_DATA');
    expect((error as EtlError).message).toContain('"amount"');
    expect((error as EtlError).message).not.toContain('0.12345678901');
    const ok = await extractToFile(
      driver,
      postgresDialect.createAdapter().buildSelect({ relation, columns, where: ['id = 1'] }),
      columns,
      join(dir, 'ok.csv'),
    );
    expect(ok.rows).toBe(1);
    expect(await loadStaged(duck, [join(dir, 'ok.csv')], columns, 'id')).toEqual([
      { id: '1', amount: '1.5000000000' },
    ]);
  });

  test('statement timeout surfaces as SOURCE_TIMEOUT', async () => {
    const slow = postgresDialect.createDriver({ ...connection(s), queryTimeoutMs: 200 }, baseOptions);
    try {
      const error = await slow.queryText('SELECT pg_sleep(5)').catch((e: unknown) => e);
      expect((error as EtlError).code).toBe('SOURCE_TIMEOUT');
      expect((error as EtlError).retryable).toBe(true);
    } finally {
      await slow.destroy();
    }
  });

  test('a query relation: types, nullability and a planner estimate', async () => {
    const introspector = postgresDialect.createIntrospector(driver);
    const relation = { query: 'SELECT id, v, length(v) AS len, now() AS at FROM consistency WHERE id < 10' };
    const columns = await introspector.describe(relation);
    expect(columns.map((c) => [c.name, c.type.kind, c.nullable])).toEqual([
      ['id', 'int32', true],
      ['v', 'text', true],
      ['len', 'int32', true],
      ['at', 'timestamptz', true],
    ]);
    expect(await introspector.estimateRows(relation)).toBeGreaterThan(0);
    expect(await introspector.estimateRows({ table: 'consistency' })).toBeGreaterThanOrEqual(100);
  });

  test('several extracts run concurrently on one session, each into its own file', async () => {
    const adapter = postgresDialect.createAdapter();
    const relation = { table: 'consistency' };
    const columns = await postgresDialect.createIntrospector(driver).describe(relation);
    const session = await driver.openReadSession(2);
    try {
      const parts = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          session.extract(
            adapter.buildSelect({ relation, columns, where: [`id % 4 = ${i}`] }),
            columns,
            createWriteStream(join(dir, `part-${i}.csv`)),
            new AbortController().signal,
            () => undefined,
          ),
        ),
      );
      expect(parts.reduce((sum, p) => sum + p.rows, 0)).toBe(
        await driver.queryText('SELECT count(*) FROM consistency').then((r) => Number(r[0]?.[0])),
      );
    } finally {
      await session.close();
    }
  });
});
