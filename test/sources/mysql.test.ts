import type { ResolvedConnection } from '../../daemon/config/resolved-connection.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mysqlDialect } from '../../daemon/sources/mysql/mysql-dialect.js';
import type { MysqlDriver } from '../../daemon/sources/mysql/mysql-driver.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString } from '../../shared/types.js';
import {
  baseOptions,
  extractToFile,
  runSourceConformance,
  type SourceFixture,
} from '../conformance/source.case.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';

const DB = 'source_my';
let server: MariaDbServer | undefined;
let starting: Promise<MariaDbServer> | undefined;

const TRICKY = 'emoji 😀 CJK 漢字 "quotes", commas,\nnewline\ttab \\ backslash, \r\n';

/** One MariaDB for the conformance suite and the MySQL-specific tests of this file. */
function sharedServer(): Promise<MariaDbServer> {
  starting ??= (async () => {
    const started = await startMariaDb();
    server = started;
    await started.createDatabase(DB);
    const statements = [
      `CREATE TABLE round_trip (
        id INT PRIMARY KEY, flag TINYINT(1), ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT,
        i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, de DECIMAL(38,10), f FLOAT, dbl DOUBLE, bits BIT(10), b64 BIT(64),
        yr YEAR, t TEXT, vc VARCHAR(20), ch CHAR(5), en ENUM('sad','happy'), st SET('a','b'), bin VARBINARY(10), bl BLOB, j JSON,
        d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(6), u UUID
      ) DEFAULT CHARSET = utf8mb4`,
      // Inserted at +05:00 so that TIMESTAMP's conversion to UTC is visible; zero dates need a lax sql_mode.
      `SET time_zone = '+05:00'; SET sql_mode = ''; INSERT INTO round_trip VALUES
        (1, 1, 127, 255, 32767, 65535, 8388607, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
         9999999999999999999999999999.9999999999, 1.2345678, 1.7976931348623157e308, b'1111111111', b'${'1'.repeat(64)}', 2155,
         ?, '', 'ab', 'happy', 'a,b', X'00FF41', X'00', '{"a": [1, 2.5, "x"]}',
         '1969-07-20', '1960-01-01 00:00:00.000001', '2038-01-19 08:14:07.999999', '23:59:59.999999', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (2, 0, -128, 0, -32768, 0, -8388608, -2147483648, 0, -9223372036854775808, 0,
         -9999999999999999999999999999.9999999999, -1.5, 0.1, 0, 0, 1901,
         '', ' padded ', 'x', 'sad', '', X'', X'', '[]',
         '1000-01-01', '1000-01-01 00:00:00', '1970-01-01 05:00:01', '00:00:00', '00000000-0000-0000-0000-000000000000'),
        (3, NULL, 0, 0, 0, 0, 0, 0, 0, 9007199254740993, 9223372036854775808,
         0.0000000001, 0, 3.4e38, 5, 1, 2000,
         'NULL', ',', '"', NULL, NULL, X'0A0D2C22', NULL, 'null',
         '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '12:00:00', NULL),
        (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      `CREATE TABLE consistency (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL)`,
      `INSERT INTO consistency SELECT seq, 'old' FROM seq_1_to_100`,
      `CREATE TABLE unsupported (id INT, geo POINT)`,
      `CREATE TABLE too_precise (id INT, big DECIMAL(65,2))`,
      `CREATE TABLE bad_bool (id INT, flag TINYINT(1))`,
      `INSERT INTO bad_bool VALUES (1, 1), (2, 2)`,
      `CREATE USER 'etld_limited'@'%'`,
      `GRANT SELECT ON ${DB}.consistency TO 'etld_limited'@'%'`,
    ];
    for (const sql of statements) await started.query(sql, sql.includes('?') ? [TRICKY] : [], DB);
    return started;
  })();
  return starting;
}

function connection(s: MariaDbServer, user = 'root'): ResolvedConnection {
  return { host: s.host, port: s.port, database: DB, user };
}

runSourceConformance({
  name: 'MariaDB',
  setup: async (): Promise<SourceFixture> => {
    const s = await sharedServer();
    return {
      dialect: mysqlDialect,
      connection: connection(s),
      exec: async (sql) => {
        await s.query(sql, [], DB);
      },
      roundTrip: {
        table: 'round_trip',
        key: 'id',
        types: {
          id: 'int32',
          flag: 'bool',
          ti: 'int16',
          tiu: 'int16',
          si: 'int16',
          siu: 'int32',
          mi: 'int32',
          i: 'int32',
          iu: 'int64',
          bi: 'int64',
          biu: 'decimal(20,0)',
          de: 'decimal(38,10)',
          f: 'float32',
          dbl: 'float64',
          bits: 'int64',
          b64: 'decimal(20,0)',
          yr: 'int16',
          t: 'text',
          vc: 'text',
          ch: 'text',
          en: 'text',
          st: 'text',
          bin: 'bytes',
          bl: 'bytes',
          j: 'json',
          d: 'date',
          dt: 'timestamp',
          ts: 'timestamptz',
          tm: 'time',
          u: 'uuid',
        },
        rows: [
          {
            id: '1',
            flag: 'true',
            ti: '127',
            tiu: '255',
            si: '32767',
            siu: '65535',
            mi: '8388607',
            i: '2147483647',
            iu: '4294967295',
            bi: '9223372036854775807',
            biu: '18446744073709551615',
            de: '9999999999999999999999999999.9999999999',
            f: '1.2345678',
            dbl: '1.7976931348623157e+308',
            bits: '1023',
            b64: '18446744073709551615',
            yr: '2155',
            t: TRICKY,
            vc: '',
            ch: 'ab',
            en: 'happy',
            st: 'a,b',
            bin: '00ff41',
            bl: '00',
            j: '{"a": [1, 2.5, "x"]}',
            d: '1969-07-20',
            dt: '1960-01-01 00:00:00.000001',
            ts: '2038-01-19 03:14:07.999999+00',
            tm: '23:59:59.999999',
            u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          },
          {
            id: '2',
            flag: 'false',
            ti: '-128',
            tiu: '0',
            si: '-32768',
            siu: '0',
            mi: '-8388608',
            i: '-2147483648',
            iu: '0',
            bi: '-9223372036854775808',
            biu: '0',
            de: '-9999999999999999999999999999.9999999999',
            f: '-1.5',
            dbl: '0.1',
            bits: '0',
            b64: '0',
            yr: '1901',
            t: '',
            vc: ' padded ',
            ch: 'x',
            en: 'sad',
            st: '',
            bin: '',
            bl: '',
            j: '[]',
            d: '1000-01-01',
            dt: '1000-01-01 00:00:00',
            ts: '1970-01-01 00:00:01+00',
            tm: '00:00:00',
            u: '00000000-0000-0000-0000-000000000000',
          },
          {
            id: '3',
            flag: null,
            bi: '9007199254740993',
            biu: '9223372036854775808',
            de: '0.0000000001',
            f: '0.0',
            dbl: '3.4e+38',
            bits: '5',
            b64: '1',
            t: 'NULL',
            vc: ',',
            ch: '"',
            en: null,
            bin: '0a0d2c22',
            j: 'null',
            d: null,
            dt: null,
            ts: null,
            tm: '12:00:00',
            u: null,
          },
          {
            id: '4',
            flag: null,
            ti: null,
            bi: null,
            biu: null,
            de: null,
            f: null,
            dbl: null,
            bits: null,
            b64: null,
            yr: null,
            t: null,
            vc: null,
            ch: null,
            en: null,
            st: null,
            bin: null,
            bl: null,
            j: null,
            d: null,
            dt: null,
            ts: null,
            tm: null,
            u: null,
          },
        ],
      },
      consistencyTable: 'consistency',
      concurrentWrite: [
        `INSERT INTO consistency VALUES (1000, 'late')`,
        `UPDATE consistency SET v = 'new' WHERE id = 75`,
      ],
      heavyQuery: (marker) => `SELECT /* ${marker} */ seq AS n FROM seq_1_to_2000000000`,
      runningQueries: async (marker) => {
        const rows = await s.query(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()`,
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

describe('MySQL/MariaDB specifics', () => {
  let s: MariaDbServer;
  let driver: MysqlDriver;
  let dir: string;

  beforeAll(async () => {
    s = await sharedServer();
    driver = mysqlDialect.createDriver(connection(s), baseOptions);
    await driver.init();
    dir = mkdtempSync(join(tmpdir(), 'etld-my-'));
  });

  afterAll(async () => {
    await driver?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.destroy();
  });

  async function extractAll(d: MysqlDriver, table: string, file: string): Promise<unknown> {
    const relation = { table };
    const columns = await mysqlDialect.createIntrospector(d).describe(relation);
    return extractToFile(
      d,
      mysqlDialect.createAdapter().buildSelect({ relation, columns, where: [] }),
      columns,
      join(dir, file),
    ).catch((e: unknown) => e);
  }

  test("zero dates with zero_dates: 'error' fail with SOURCE_DATA naming the column", async () => {
    const strict = mysqlDialect.createDriver(connection(s), { ...baseOptions, zeroDates: 'error' });
    try {
      const error = await extractAll(strict, 'round_trip', 'zero.csv');
      expect(error).toBeInstanceOf(EtlError);
      expect((error as EtlError).code).toBe('SOURCE_DATA');
      expect((error as EtlError).message).toContain('"d"');
      expect((error as EtlError).message).toContain('0000-00-00');
    } finally {
      await strict.destroy();
    }
  });

  test('a tinyint(1) holding something other than 0/1 fails instead of becoming a wrong bool', async () => {
    const error = await extractAll(driver, 'bad_bool', 'bool.csv');
    expect((error as EtlError).code).toBe('SOURCE_DATA');
    expect((error as EtlError).message).toContain('"flag"');
  });

  test('decimal precision above 38 is refused, naming the column', async () => {
    const error = await mysqlDialect
      .createIntrospector(driver)
      .describe({ table: 'too_precise' })
      .catch((e: unknown) => e);
    expect((error as EtlError).code).toBe('SOURCE_QUERY');
    expect((error as EtlError).message).toContain('"big"');
  });

  test('a query relation recognises MariaDB JSON from the result metadata', async () => {
    const columns = await mysqlDialect
      .createIntrospector(driver)
      .describe({ query: 'SELECT id, j, biu FROM round_trip' });
    expect(columns.map((c) => [c.name, typeToString(c.type), c.nullable])).toEqual([
      ['id', 'int32', true],
      ['j', 'json', true],
      ['biu', 'decimal(20,0)', true],
    ]);
    expect(
      await mysqlDialect.createIntrospector(driver).estimateRows({ table: 'consistency' }),
    ).toBeGreaterThan(0);
  });

  test('the statement time limit surfaces as SOURCE_TIMEOUT', async () => {
    const slow = mysqlDialect.createDriver({ ...connection(s), queryTimeoutMs: 200 }, baseOptions);
    try {
      const error = await slow
        .queryText('SELECT COUNT(*) FROM seq_1_to_100000000000 WHERE seq % 7 = 3')
        .catch((e: unknown) => e);
      expect((error as EtlError).code).toBe('SOURCE_TIMEOUT');
    } finally {
      await slow.destroy();
    }
  });

  test('a login without RELOAD reads through one connection, so every chunk still sees one snapshot', async () => {
    const limited = mysqlDialect.createDriver(connection(s, 'etld_limited'), baseOptions);
    try {
      const session = await limited.openReadSession(2);
      expect(session).toMatchObject({ consistent: true, readers: 1 });
      await session.close();
    } finally {
      await limited.destroy();
    }
  });

  test('a long statement holding the table: the global read lock is given up after 5 s and one reader keeps one snapshot', async () => {
    const blocker = mysqlDialect.createDriver(connection(s), baseOptions);
    await blocker.init();
    try {
      // A write running for 10 s: FLUSH TABLES WITH READ LOCK waits for running writes.
      const blocking = blocker
        .queryText(`UPDATE consistency SET v = v WHERE id = 1 AND SLEEP(10) = 0`)
        .catch(() => undefined);
      await s.statementRunning('SLEEP(10)', 'the blocking UPDATE to run', 'User sleep');
      const session = await driver.openReadSession(2);
      expect(session).toMatchObject({ consistent: true, readers: 1 });
      await session.close();
      await blocking;
    } finally {
      await blocker.destroy();
    }
  });
});
