/**
 * SQL Server table discovery and primary keys: no server runs here, so these pin the generated
 * T-SQL and what the introspector makes of the rows a fake driver returns.
 */
import { describe, expect, test } from 'vitest';
import type { TextRow } from '../../daemon/sources/source.js';
import { SqlServerAdapter } from '../../daemon/sources/sqlserver/sqlserver-adapter.js';
import { sqlServerDialect } from '../../daemon/sources/sqlserver/sqlserver-dialect.js';
import type { SqlServerDriver } from '../../daemon/sources/sqlserver/sqlserver-driver.js';
import { SqlServerIntrospector } from '../../daemon/sources/sqlserver/sqlserver-introspector.js';
import { EtlError } from '../../shared/errors.js';

const introspector = new SqlServerIntrospector(
  sqlServerDialect.createDriver(
    { host: '127.0.0.1' },
    { label: 'x', connectAttempts: 1, connectDelayMs: 0, zeroDates: 'null' },
  ),
  new SqlServerAdapter(),
);

/** An introspector over a driver that answers each SQL text from `answers` and records what it ran. */
function scripted(answers: Readonly<Record<string, TextRow[]>>): {
  introspector: SqlServerIntrospector;
  ran: string[];
} {
  const ran: string[] = [];
  const driver = {
    what: 'SQL Server source "x"',
    queryText: (sql: string): Promise<TextRow[]> => {
      ran.push(sql);
      const rows = answers[sql];
      return rows === undefined ? Promise.reject(new Error(`unexpected SQL: ${sql}`)) : Promise.resolve(rows);
    },
  } as unknown as SqlServerDriver;
  return { introspector: new SqlServerIntrospector(driver, new SqlServerAdapter()), ran };
}

describe('SQL Server discovery SQL', () => {
  test('lists user tables of every schema and asks for the login default schema', () => {
    expect(introspector.namingSql()).toBe(
      "SELECT SCHEMA_NAME(), CASE WHEN CONVERT(nvarchar(128), DATABASEPROPERTYEX(DB_NAME(), 'Collation')) LIKE '%[_]CI[_]%' THEN 1 ELSE 0 END",
    );
    expect(introspector.listTablesSql()).toBe(
      'SELECT s.name, t.name FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE t.is_ms_shipped = 0',
    );
  });

  test('primary key columns by key ordinal of the quoted table; existence through OBJECT_ID', () => {
    expect(introspector.primaryKeySql('[Sales EU].[Order ]]Lines]')).toBe(
      'SELECT c.name FROM sys.indexes i ' +
        'JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ' +
        'JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ' +
        "WHERE i.object_id = OBJECT_ID(N'[Sales EU].[Order ]]Lines]') AND i.is_primary_key = 1 AND ic.key_ordinal > 0 " +
        'ORDER BY ic.key_ordinal',
    );
    expect(introspector.primaryKeySql('dbo."it\'s"')).toContain("OBJECT_ID(N'[dbo].[it''s]')");
    expect(introspector.primaryKeySql('orders')).toContain("OBJECT_ID(N'[orders]')");
    expect(introspector.tableExistsSql('dbo.orders')).toBe(
      "SELECT 1 WHERE OBJECT_ID(N'[dbo].[orders]') IS NOT NULL",
    );
  });

  test('a 3-part name reads the key from that database catalog views', () => {
    expect(introspector.primaryKeySql('[Shop DB].dbo.orders')).toBe(
      'SELECT c.name FROM [Shop DB].sys.indexes i ' +
        'JOIN [Shop DB].sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id ' +
        'JOIN [Shop DB].sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id ' +
        "WHERE i.object_id = OBJECT_ID(N'[Shop DB].[dbo].[orders]') AND i.is_primary_key = 1 AND ic.key_ordinal > 0 " +
        'ORDER BY ic.key_ordinal',
    );
  });
});

describe('SQL Server discovery results', () => {
  test('listTables sorts by schema then name (code units) and keeps the default schema and collation case', async () => {
    const { introspector: i } = scripted({
      [introspector.namingSql()]: [['dbo', '1']],
      [introspector.listTablesSql()]: [
        ['sales', 'orders'],
        ['dbo', 'b'],
        ['Sales', 'Order Items'],
        ['dbo', 'B'],
      ],
    });
    expect(await i.listTables()).toEqual({
      defaultSchema: 'dbo',
      namesIgnoreCase: true,
      tables: [
        { schema: 'Sales', name: 'Order Items' },
        { schema: 'dbo', name: 'B' },
        { schema: 'dbo', name: 'b' },
        { schema: 'sales', name: 'orders' },
      ],
    });
  });

  test('primaryKey: the columns in key order, null without a key, an error naming a missing table', async () => {
    const withKey = scripted({ [introspector.primaryKeySql('dbo.lines')]: [['order_id'], ['line_no']] });
    expect(await withKey.introspector.primaryKey('dbo.lines')).toEqual(['order_id', 'line_no']);
    expect(withKey.ran).toHaveLength(1);

    const noKey = scripted({
      [introspector.primaryKeySql('dbo.heap')]: [],
      [introspector.tableExistsSql('dbo.heap')]: [['1']],
    });
    expect(await noKey.introspector.primaryKey('dbo.heap')).toBeNull();

    const missing = scripted({
      [introspector.primaryKeySql('dbo.gone')]: [],
      [introspector.tableExistsSql('dbo.gone')]: [],
    });
    const error = await missing.introspector.primaryKey('dbo.gone').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).code).toBe('SOURCE_QUERY');
    expect((error as EtlError).message).toBe(
      'SQL Server source "x": table "dbo.gone" does not exist or the login cannot see it',
    );
  });
});
