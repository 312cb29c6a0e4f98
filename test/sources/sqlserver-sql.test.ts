/**
 * SQL Server cannot run on this machine: these tests pin the generated T-SQL, the type mapping and
 * the error classification; the connect-retry path runs against a real local TCP server.
 * `sqlserver.integration.test.ts` exercises the dialect against a real server when one is configured.
 */
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { sqlServerDialect } from '../../daemon/sources/sqlserver/sqlserver-dialect.js';
import { mapSqlServerError } from '../../daemon/sources/sqlserver/sqlserver-errors.js';
import { SqlServerIntrospector } from '../../daemon/sources/sqlserver/sqlserver-introspector.js';
import { SqlServerDriver } from '../../daemon/sources/sqlserver/sqlserver-driver.js';
import { SqlServerAdapter } from '../../daemon/sources/sqlserver/sqlserver-adapter.js';
import { mapSqlServerType } from '../../daemon/sources/sqlserver/sqlserver-types.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString, type CanonicalType, type ColumnSchema } from '../../shared/types.js';
import { freePort } from '../helpers/free-port.js';

const adapter = new SqlServerAdapter();
const column = (name: string, type: CanonicalType, sourceType: string): ColumnSchema => ({
  name,
  type,
  nullable: true,
  sourceType,
});

describe('SQL Server adapter', () => {
  test('brackets identifiers, doubling a closing bracket, and quotes each part of schema.table', () => {
    expect(adapter.quoteIdentifier('a]b')).toBe('[a]]b]');
    expect(adapter.quoteIdentifier('with space')).toBe('[with space]');
    expect(adapter.quoteTable('dbo.orders')).toBe('[dbo].[orders]');
  });

  test('source.table with bracketed or double-quoted parts resolves to the same relation', () => {
    expect(adapter.quoteTable('[dbo].[Order Lines]')).toBe('[dbo].[Order Lines]');
    expect(adapter.quoteTable('dbo."Order Lines"')).toBe('[dbo].[Order Lines]');
    expect(adapter.quoteTable('[Sales.EU]."Q1 ""final"""')).toBe('[Sales.EU].[Q1 "final"]');
    expect(adapter.quoteTable('[a]]b].[c]')).toBe('[a]]b].[c]');
    // Unquoted parts keep their case (SQL Server does not fold; the collation decides matching).
    expect(adapter.quoteTable('Shop.Dbo.OrderLines')).toBe('[Shop].[Dbo].[OrderLines]');
    const id = column('id', { kind: 'int64' }, 'bigint');
    expect(
      adapter.buildSelect({ relation: { table: '[dbo].[Order Lines]' }, columns: [id], where: [] }),
    ).toBe('SELECT CONVERT(varchar(40), [id]) AS [id] FROM [dbo].[Order Lines]');
    expect(adapter.buildCount({ table: 'dbo."Order Lines"' }, [])).toBe(
      'SELECT COUNT_BIG(*) FROM [dbo].[Order Lines]',
    );
    expect(() => adapter.quoteTable('[dbo].[Order Lines')).toThrow(/source\.table .*unterminated/);
  });

  test('renders every canonical type to its staging-CSV text form in T-SQL', () => {
    const cases: [ColumnSchema, string][] = [
      [column('i', { kind: 'int32' }, 'int'), 'CONVERT(varchar(40), [i]) AS [i]'],
      [column('b', { kind: 'int64' }, 'bigint'), 'CONVERT(varchar(40), [b]) AS [b]'],
      [
        column('d', { kind: 'decimal', precision: 38, scale: 10 }, 'decimal(38,10)'),
        'CONVERT(varchar(48), [d]) AS [d]',
      ],
      [
        column('m', { kind: 'decimal', precision: 19, scale: 4 }, 'money'),
        'CONVERT(varchar(40), CAST([m] AS decimal(19,4))) AS [m]',
      ],
      [column('f', { kind: 'float64' }, 'float'), 'CONVERT(varchar(30), [f], 3) AS [f]'],
      [column('r', { kind: 'float32' }, 'real'), 'CONVERT(varchar(30), [r], 3) AS [r]'],
      [
        column('ok', { kind: 'bool' }, 'bit'),
        "CASE WHEN [ok] = 1 THEN 't' WHEN [ok] = 0 THEN 'f' END AS [ok]",
      ],
      [column('s', { kind: 'text' }, 'nvarchar(50)'), '[s] AS [s]'],
      [column('x', { kind: 'text' }, 'xml'), 'CONVERT(nvarchar(max), [x]) AS [x]'],
      [
        column('bin', { kind: 'bytes' }, 'varbinary(max)'),
        'LOWER(CONVERT(varchar(max), CONVERT(varbinary(max), [bin]), 2)) AS [bin]',
      ],
      [column('u', { kind: 'uuid' }, 'uniqueidentifier'), 'LOWER(CONVERT(char(36), [u])) AS [u]'],
      [column('dt', { kind: 'date' }, 'date'), 'CONVERT(char(10), [dt], 23) AS [dt]'],
      [column('t', { kind: 'time' }, 'time(7)'), 'LEFT(CONVERT(varchar(16), [t]), 15) AS [t]'],
      [
        column('ts', { kind: 'timestamp' }, 'datetime2(7)'),
        'LEFT(CONVERT(varchar(27), [ts], 121), 26) AS [ts]',
      ],
      [column('old', { kind: 'timestamp' }, 'datetime'), 'CONVERT(varchar(23), [old], 121) AS [old]'],
      [
        column('tz', { kind: 'timestamptz' }, 'datetimeoffset(7)'),
        "LEFT(CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET([tz], '+00:00')), 121), 26) + '+00' AS [tz]",
      ],
      [column('j', { kind: 'json' }, 'json'), 'CONVERT(nvarchar(max), [j]) AS [j]'],
    ];
    for (const [c, expected] of cases) expect(adapter.selectExpression(c), c.name).toBe(expected);
  });

  test('builds SELECT, MAX and COUNT_BIG over tables and queries', () => {
    const id = column('id', { kind: 'int64' }, 'bigint');
    const at = column('at', { kind: 'timestamp' }, 'datetime2(7)');
    const where = [`[at] > ${adapter.literal('2024-01-02 03:04:05.123456', at.type)}`, '[id] <= 10'];
    expect(adapter.buildSelect({ relation: { table: 'dbo.t' }, columns: [id], where })).toBe(
      "SELECT CONVERT(varchar(40), [id]) AS [id] FROM [dbo].[t] WHERE ([at] > CAST('2024-01-02 03:04:05.123456' AS datetime2(7))) AND ([id] <= 10)",
    );
    expect(adapter.buildMax({ query: 'SELECT * FROM t;' }, at, [])).toBe(
      'SELECT LEFT(CONVERT(varchar(27), MAX([at]), 121), 26) FROM (SELECT * FROM t\n) AS etld_q',
    );
    expect(adapter.buildCount({ table: 't' }, [])).toBe('SELECT COUNT_BIG(*) FROM [t]');
  });

  test('literals are validated before they reach SQL', () => {
    expect(adapter.literal("O'Brien", { kind: 'text' })).toBe("N'O''Brien'");
    expect(adapter.literal('42', { kind: 'int64' })).toBe('42');
    expect(adapter.literal('-12.50', { kind: 'decimal', precision: 10, scale: 2 })).toBe('-12.50');
    expect(adapter.literal('true', { kind: 'bool' })).toBe('1');
    expect(adapter.literal('00FF', { kind: 'bytes' })).toBe('0x00ff');
    expect(adapter.literal('A0EEBC999C0B4EF8BB6D6BB9BD380A11', { kind: 'uuid' })).toBe(
      "CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS uniqueidentifier)",
    );
    expect(adapter.literal('2024-03-01T01:30:00+02:00', { kind: 'timestamptz' })).toBe(
      "CAST('2024-02-29 23:30:00 +00:00' AS datetimeoffset(7))",
    );
    expect(adapter.literal('2023-01-01', { kind: 'timestamp' })).toBe(
      "CAST('2023-01-01 00:00:00' AS datetime2(7))",
    );
    for (const [text, type] of [
      ['1; DROP TABLE t', { kind: 'int64' }],
      ["1' OR '1'='1", { kind: 'date' }],
      ['NaN', { kind: 'float64' }],
      ['2024-01-01 10:00:00+02', { kind: 'timestamp' }],
      ['xyz', { kind: 'bytes' }],
      ['maybe', { kind: 'bool' }],
    ] as [string, CanonicalType][]) {
      expect(() => adapter.literal(text, type), text).toThrow(EtlError);
    }
  });
});

describe('SQL Server type mapping', () => {
  test('maps system type names to canonical types', () => {
    const table: [string, string][] = [
      ['tinyint', 'int16'],
      ['smallint', 'int16'],
      ['int', 'int32'],
      ['bigint', 'int64'],
      ['bit', 'bool'],
      ['decimal(38,10)', 'decimal(38,10)'],
      ['numeric(5,0)', 'decimal(5,0)'],
      ['money', 'decimal(19,4)'],
      ['smallmoney', 'decimal(10,4)'],
      ['real', 'float32'],
      ['float', 'float64'],
      ['nvarchar(max)', 'text'],
      ['varchar(10)', 'text'],
      ['nchar(3)', 'text'],
      ['ntext', 'text'],
      ['xml', 'text'],
      ['sysname', 'text'],
      ['varbinary(max)', 'bytes'],
      ['binary(16)', 'bytes'],
      ['image', 'bytes'],
      ['timestamp', 'bytes'],
      ['uniqueidentifier', 'uuid'],
      ['date', 'date'],
      ['time(7)', 'time'],
      ['datetime', 'timestamp'],
      ['smalldatetime', 'timestamp'],
      ['datetime2(3)', 'timestamp'],
      ['datetimeoffset(7)', 'timestamptz'],
      ['json', 'json'],
    ];
    for (const [name, expected] of table)
      expect(typeToString(mapSqlServerType(name, 'c')), name).toBe(expected);
  });

  test('unsupported types are refused naming the column', () => {
    for (const name of ['geography', 'geometry', 'sql_variant', 'hierarchyid']) {
      expect(() => mapSqlServerType(name, 'shape')).toThrow(/column "shape" has type/);
    }
  });

  test('the description query uses the result-set metadata function with the quoted relation', () => {
    const introspector = sqlServerDialect.createIntrospector(
      sqlServerDialect.createDriver(
        { host: '127.0.0.1' },
        { label: 'x', connectAttempts: 1, connectDelayMs: 0, zeroDates: 'null' },
      ),
    );
    expect(introspector).toBeInstanceOf(SqlServerIntrospector);
    expect((introspector as SqlServerIntrospector).describeSql({ table: "dbo.it's" })).toBe(
      "SELECT name, is_nullable, system_type_name FROM sys.dm_exec_describe_first_result_set(N'SELECT * FROM [dbo].[it''s]', NULL, 0) WHERE is_hidden = 0 ORDER BY column_ordinal",
    );
    const sqlServer = introspector as SqlServerIntrospector;
    expect(sqlServer.describeSql({ table: '[dbo].[Order Lines]' })).toBe(
      "SELECT name, is_nullable, system_type_name FROM sys.dm_exec_describe_first_result_set(N'SELECT * FROM [dbo].[Order Lines]', NULL, 0) WHERE is_hidden = 0 ORDER BY column_ordinal",
    );
    expect(sqlServer.estimateSql('dbo."Order Lines"')).toBe(
      "SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = OBJECT_ID(N'[dbo].[Order Lines]') AND p.index_id IN (0, 1)",
    );
  });
});

describe('SQL Server errors', () => {
  test('classifies tedious and server errors', () => {
    const cases: [object, string, boolean][] = [
      [{ code: 'ESOCKET', message: 'Connection lost' }, 'SOURCE_CONNECTION', true],
      [{ code: 'ELOGIN', message: "Login failed for user 'etl'." }, 'SOURCE_PERMISSION', false],
      [{ code: 'ECANCEL', message: 'Canceled.' }, 'CANCELLED', false],
      [{ code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 200ms' }, 'SOURCE_TIMEOUT', true],
      [{ code: 'ETIMEOUT', message: 'Failed to connect to db1:1433 in 15000ms' }, 'SOURCE_CONNECTION', true],
      [{ code: 'EREQUEST', number: 208, message: "Invalid object name 'nope'." }, 'SOURCE_QUERY', false],
      [
        { code: 'EREQUEST', number: 229, message: 'The SELECT permission was denied' },
        'SOURCE_PERMISSION',
        false,
      ],
      [{ code: 'EREQUEST', number: 1205, message: 'deadlock victim' }, 'SOURCE_QUERY', true],
      [{ code: 'EREQUEST', number: 4060, message: 'Cannot open database' }, 'SOURCE_CONNECTION', false],
    ];
    for (const [error, code, retryable] of cases) {
      const mapped = mapSqlServerError(error, 'sqlserver source "s1" (db1:1433/shop)');
      expect([mapped.code, mapped.retryable], JSON.stringify(error)).toEqual([code, retryable]);
      expect(mapped.message).toContain('sqlserver source "s1"');
    }
  });
});

describe('SQL Server driver without a server', () => {
  test('retries the configured number of times, then fails with SOURCE_CONNECTION', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const driver = new SqlServerDriver(
        { host: '127.0.0.1', port, user: 'sa', password: 'Secret-Never-Shown1' },
        { label: 's1', connectAttempts: 3, connectDelayMs: 10, zeroDates: 'null' },
      );
      const error = (await driver.init().catch((e: unknown) => e)) as EtlError;
      expect(error).toBeInstanceOf(EtlError);
      expect(error.code).toBe('SOURCE_CONNECTION');
      expect(error.message).toContain('after 3 attempts');
      expect(error.message).not.toContain('Secret-Never-Shown1');
      expect(accepted).toBe(3);
      await driver.destroy();
    } finally {
      server.close();
    }
    const refused = new SqlServerDriver(
      { host: '127.0.0.1', port: await freePort() },
      { label: 's1', connectAttempts: 1, connectDelayMs: 0, zeroDates: 'null' },
    );
    expect(((await refused.init().catch((e: unknown) => e)) as EtlError).code).toBe('SOURCE_CONNECTION');
  });

  test('an aborted init rejects CANCELLED', async () => {
    const controller = new AbortController();
    controller.abort();
    const driver = new SqlServerDriver(
      { host: '127.0.0.1', port: await freePort() },
      { label: 's1', connectAttempts: 3, connectDelayMs: 10, zeroDates: 'null' },
    );
    expect(((await driver.init(controller.signal).catch((e: unknown) => e)) as EtlError).code).toBe(
      'CANCELLED',
    );
  });
});
