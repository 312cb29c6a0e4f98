/**
 * The conformance suite against a real SQL Server. SQL Server cannot run on the CI machine (no
 * Linux package in our registries, and it needs 2 GB of RAM), so this suite runs only when
 * ETLD_TEST_MSSQL_URL points at a server, for example
 *   ETLD_TEST_MSSQL_URL='mssql://sa:Passw0rd!@127.0.0.1:1433/master?trust_server_certificate=true' npx vitest run test/sources/sqlserver.integration.test.ts
 * The login must be able to create a database, logins and tables.
 */
import type { ResolvedConnection } from '../../daemon/config/resolved-connection.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { sqlServerDialect } from '../../daemon/sources/sqlserver/sqlserver-dialect.js';
import type { SourceDriver } from '../../daemon/sources/source.js';
import { baseOptions, runSourceConformance, type SourceFixture } from '../conformance/source.case.js';

const url = process.env.ETLD_TEST_MSSQL_URL;

function parse(text: string): ResolvedConnection {
  const u = new URL(text);
  return {
    host: u.hostname,
    port: u.port === '' ? 1433 : Number(u.port),
    database: u.pathname.replace(/^\//, '') || 'master',
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    ssl: u.searchParams.get('encrypt') !== 'false',
    trustServerCertificate: u.searchParams.get('trust_server_certificate') === 'true',
  };
}

const TRICKY = 'emoji 😀 CJK 漢字 "quotes", commas,\nnewline\ttab \\ backslash, \r\n';
const tsql = (text: string): string => `N'${text.replaceAll("'", "''")}'`;

async function setup(): Promise<SourceFixture> {
  const server = parse(url ?? '');
  const database = `etld_test_${randomBytes(4).toString('hex')}`;
  const master = sqlServerDialect.createDriver(server, baseOptions);
  await master.queryText(`CREATE DATABASE [${database}]`);
  await master.queryText(`ALTER DATABASE [${database}] SET ALLOW_SNAPSHOT_ISOLATION ON`);
  const login = `etld_limited_${randomBytes(3).toString('hex')}`;
  const loginPassword = `Lim-${randomBytes(9).toString('base64url')}1a!`;
  await master.queryText(
    `CREATE LOGIN [${login}] WITH PASSWORD = ${tsql(loginPassword)}, CHECK_POLICY = OFF`,
  );
  const connection: ResolvedConnection = { ...server, database };
  const admin: SourceDriver = sqlServerDialect.createDriver(connection, baseOptions);
  const statements = [
    `CREATE USER [${login}] FOR LOGIN [${login}]`,
    `CREATE TABLE round_trip (id int PRIMARY KEY, ti tinyint, si smallint, i int, bi bigint, de decimal(38,10), m money, r real, f float,
      b bit, t nvarchar(max), vc varchar(20), bin varbinary(20), u uniqueidentifier, d date, tm time(7), dt datetime, dt2 datetime2(7),
      dto datetimeoffset(7), x xml)`,
    `INSERT INTO round_trip VALUES
      (1, 255, 32767, 2147483647, 9223372036854775807, 9999999999999999999999999999.9999999999, 922337203685477.5807, 1.2345678,
       1.7976931348623157e308, 1, ${tsql(TRICKY)}, '', 0x00FF41, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '0001-01-01', '23:59:59.9999999',
       '1960-01-01 00:00:00.997', '1960-01-01 00:00:00.0000019', '2020-02-29 23:59:59.1234567 +05:00', N'<a>1</a>'),
      (2, 0, -32768, -2147483648, -9223372036854775808, -9999999999999999999999999999.9999999999, -922337203685477.5808, -1.5,
       0.1, 0, N'', ' padded ', 0x, '00000000-0000-0000-0000-000000000000', '9999-12-31', '00:00:00',
       '1753-01-01 00:00:00', '1969-12-31 23:59:59.9999999', '1900-01-01 00:00:00 +00:00', NULL),
      (3, NULL, NULL, NULL, 9007199254740993, 0.0000000001, NULL, NULL, NULL, NULL, N'NULL', ',', 0x0A0D2C22, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    `CREATE TABLE consistency (id int PRIMARY KEY, v nvarchar(10) NOT NULL)`,
    `INSERT INTO consistency SELECT TOP (100) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)), N'old' FROM sys.all_columns`,
    `CREATE TABLE unsupported (id int, geo geography)`,
  ];
  for (const sql of statements) await admin.queryText(sql);
  return {
    dialect: sqlServerDialect,
    connection,
    exec: async (sql) => {
      await admin.queryText(sql);
    },
    roundTrip: {
      table: 'round_trip',
      key: 'id',
      types: {
        id: 'int32',
        ti: 'int16',
        si: 'int16',
        i: 'int32',
        bi: 'int64',
        de: 'decimal(38,10)',
        m: 'decimal(19,4)',
        r: 'float32',
        f: 'float64',
        b: 'bool',
        t: 'text',
        vc: 'text',
        bin: 'bytes',
        u: 'uuid',
        d: 'date',
        tm: 'time',
        dt: 'timestamp',
        dt2: 'timestamp',
        dto: 'timestamptz',
        x: 'text',
      },
      rows: [
        {
          id: '1',
          ti: '255',
          si: '32767',
          i: '2147483647',
          bi: '9223372036854775807',
          de: '9999999999999999999999999999.9999999999',
          m: '922337203685477.5807',
          r: '1.2345678',
          f: '1.7976931348623157e+308',
          b: 'true',
          t: TRICKY,
          vc: '',
          bin: '00ff41',
          u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          d: '0001-01-01',
          tm: '23:59:59.999999',
          dt: '1960-01-01 00:00:00.997',
          dt2: '1960-01-01 00:00:00.000001',
          dto: '2020-02-29 18:59:59.123456+00',
          x: '<a>1</a>',
        },
        {
          id: '2',
          ti: '0',
          si: '-32768',
          i: '-2147483648',
          bi: '-9223372036854775808',
          de: '-9999999999999999999999999999.9999999999',
          m: '-922337203685477.5808',
          r: '-1.5',
          f: '0.1',
          b: 'false',
          t: '',
          vc: ' padded ',
          bin: '',
          u: '00000000-0000-0000-0000-000000000000',
          d: '9999-12-31',
          tm: '00:00:00',
          dt: '1753-01-01 00:00:00',
          dt2: '1969-12-31 23:59:59.999999',
          dto: '1900-01-01 00:00:00+00',
          x: null,
        },
        {
          id: '3',
          bi: '9007199254740993',
          de: '0.0000000001',
          t: 'NULL',
          vc: ',',
          bin: '0a0d2c22',
          b: null,
          u: null,
        },
        {
          id: '4',
          ti: null,
          bi: null,
          de: null,
          m: null,
          r: null,
          f: null,
          b: null,
          t: null,
          vc: null,
          bin: null,
          u: null,
          d: null,
          tm: null,
          dto: null,
        },
      ],
    },
    snapshotReaders: 1,
    consistencyTable: 'consistency',
    concurrentWrite: [
      `INSERT INTO consistency VALUES (1000, N'late')`,
      `UPDATE consistency SET v = N'new' WHERE id = 75`,
    ],
    heavyQuery: (marker) =>
      `SELECT /* ${marker} */ CONVERT(varchar(20), ROW_NUMBER() OVER (ORDER BY (SELECT NULL))) AS n ` +
      'FROM sys.all_columns a CROSS JOIN sys.all_columns b CROSS JOIN sys.all_columns c',
    runningQueries: async (marker) => {
      const rows = await admin.queryText(
        `SELECT COUNT(*) FROM sys.dm_exec_requests r CROSS APPLY sys.dm_exec_sql_text(r.sql_handle) t ` +
          `WHERE t.text LIKE ${tsql(`%${marker}%`)} AND r.session_id <> @@SPID`,
      );
      return Number(rows[0]?.[0] ?? 0);
    },
    restrictedConnection: { ...connection, user: login, password: loginPassword },
    unsupported: { table: 'unsupported', column: 'geo' },
    close: async () => {
      await admin.destroy();
      await master
        .queryText(`ALTER DATABASE [${database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`)
        .catch(() => undefined);
      await master.queryText(`DROP DATABASE [${database}]`).catch(() => undefined);
      await master.queryText(`DROP LOGIN [${login}]`).catch(() => undefined);
      await master.destroy();
    },
  };
}

// Without a configured server there is nothing to connect to; the SQL generation and mapping are
// covered by sqlserver-sql.test.ts in every run.
describe.skipIf(url === undefined)('SQL Server against a real server', () => {
  runSourceConformance({ name: 'SQL Server', setup });

  test('several readers cannot share a snapshot on SQL Server and say so', async () => {
    const driver = sqlServerDialect.createDriver(parse(url ?? ''), baseOptions);
    try {
      const session = await driver.openReadSession(2);
      expect(session.consistent).toBe(false);
      await session.close();
    } finally {
      await driver.destroy();
    }
  });
});
