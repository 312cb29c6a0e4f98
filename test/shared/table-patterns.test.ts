/** source.tables / source.exclude patterns: parsing with each dialect's quoting, matching, selection, formatting. */
import { describe, expect, test } from 'vitest';
import { parseQualifiedName, type IdentifierDialect } from '../../shared/qualified-name.js';
import {
  formatSourceTable,
  isTablePatternLiteral,
  matchesTablePattern,
  parseTablePattern,
  selectTables,
  type SourceTable,
  type TablePattern,
} from '../../shared/table-patterns.js';

function pattern(text: string, dialect: IdentifierDialect): TablePattern {
  const parsed = parseTablePattern(text, dialect);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.pattern;
}

function reason(text: string, dialect: IdentifierDialect): string {
  const parsed = parseTablePattern(text, dialect);
  return parsed.ok ? '' : parsed.reason;
}

const t = (schema: string, name: string): SourceTable => ({ schema, name });

function matches(
  text: string,
  dialect: IdentifierDialect,
  table: SourceTable,
  defaultSchema = 'public',
): boolean {
  return matchesTablePattern(pattern(text, dialect), table, { defaultSchema, ignoreCase: false });
}

describe('parseTablePattern', () => {
  test('PostgreSQL folds unquoted parts (wildcards included) and keeps quoted ones', () => {
    expect(pattern('Sales.Order_*', 'postgres')).toEqual({
      text: 'Sales.Order_*',
      schema: 'sales',
      name: 'order_*',
    });
    expect(pattern('"Sales"."Order*"', 'postgres')).toEqual({
      text: '"Sales"."Order*"',
      schema: 'Sales',
      name: 'Order*',
    });
    expect(pattern('orders', 'postgres')).toEqual({ text: 'orders', schema: null, name: 'orders' });
    expect(pattern('"a.b".*', 'postgres')).toEqual({ text: '"a.b".*', schema: 'a.b', name: '*' });
  });

  test('MySQL and SQL Server keep unquoted parts as written; each dialect has its own quotes', () => {
    expect(pattern('Shop.Order_*', 'mysql')).toMatchObject({ schema: 'Shop', name: 'Order_*' });
    expect(pattern('`other db`.`Order ``x``*`', 'mysql')).toMatchObject({
      schema: 'other db',
      name: 'Order `x`*',
    });
    expect(pattern('[Sales EU].[Q?]', 'sqlserver')).toMatchObject({ schema: 'Sales EU', name: 'Q?' });
    expect(pattern('dbo."Order *"', 'sqlserver')).toMatchObject({ schema: 'dbo', name: 'Order *' });
    expect(pattern('Dbo.Orders', 'sqlserver')).toMatchObject({ schema: 'Dbo', name: 'Orders' });
  });

  test('errors say what is wrong, never throw', () => {
    expect(reason('db.sales.*', 'postgres')).toBe(
      '3 name parts; a table pattern has 1 or 2 (table or schema.table): a pattern cannot name another database',
    );
    expect(reason('a.b.c', 'mysql')).toBe('3 name parts; at most 2 (database.table)');
    expect(reason('[db].[dbo].[t*]', 'sqlserver')).toContain(
      'a table pattern has 1 or 2 (table or schema.table)',
    );
    expect(reason('sales.', 'postgres')).toBe('empty name part (two dots, or a dot at an end)');
    expect(reason('"sales.*', 'postgres')).toBe('unterminated quoted name starting at "sales.*');
    expect(reason('sales."x"y', 'postgres')).toBe('unexpected "y" after a quoted name');
    expect(reason('sales.Or"der*', 'postgres')).toContain('has a stray "');
    expect(reason('`db`.x`y', 'mysql')).toContain('has a stray `');
    expect(reason('""', 'postgres')).toBe('a quoted name must not be empty');
    expect(reason('', 'postgres')).toBe('empty name part (two dots, or a dot at an end)');
  });

  test('a literal has no wildcard in any part', () => {
    expect(isTablePatternLiteral(pattern('sales.orders', 'postgres'))).toBe(true);
    expect(isTablePatternLiteral(pattern('orders', 'postgres'))).toBe(true);
    expect(isTablePatternLiteral(pattern('"Order Items"', 'postgres'))).toBe(true);
    expect(isTablePatternLiteral(pattern('sales.*', 'postgres'))).toBe(false);
    expect(isTablePatternLiteral(pattern('s?les.orders', 'postgres'))).toBe(false);
    expect(isTablePatternLiteral(pattern('"Order?"', 'postgres'))).toBe(false);
  });
});

describe('matchesTablePattern', () => {
  test('* is any run of characters (none included), ? exactly one', () => {
    expect(matches('sales.*', 'postgres', t('sales', 'orders'))).toBe(true);
    expect(matches('sales.order_*', 'postgres', t('sales', 'order_'))).toBe(true);
    expect(matches('sales.order_*', 'postgres', t('sales', 'order_items'))).toBe(true);
    expect(matches('sales.order_*', 'postgres', t('sales', 'orders'))).toBe(false);
    expect(matches('sales.*_items', 'postgres', t('sales', 'order_items'))).toBe(true);
    expect(matches('sales.*_items', 'postgres', t('sales', 'order_items_old'))).toBe(false);
    expect(matches('sales.*o*o*', 'postgres', t('sales', 'xoyoz'))).toBe(true);
    expect(matches('sales.*o*o*', 'postgres', t('sales', 'xoyz'))).toBe(false);
    expect(matches('sales.t?', 'postgres', t('sales', 't1'))).toBe(true);
    expect(matches('sales.t?', 'postgres', t('sales', 't'))).toBe(false);
    expect(matches('sales.t?', 'postgres', t('sales', 't12'))).toBe(false);
    expect(matches('sales.??', 'postgres', t('sales', '漢😀'))).toBe(true);
    expect(matches('*.*', 'postgres', t('any', 'thing'))).toBe(true);
    expect(matches('s*.orders', 'postgres', t('sales', 'orders'))).toBe(true);
    expect(matches('s*.orders', 'postgres', t('public', 'orders'))).toBe(false);
  });

  test('matching is exact after folding: quoted patterns reach mixed-case names, unquoted PostgreSQL ones do not', () => {
    expect(matches('"Sales"."Order*"', 'postgres', t('Sales', 'Order Items'))).toBe(true);
    expect(matches('Sales.Order*', 'postgres', t('Sales', 'Order Items'))).toBe(false);
    expect(matches('sales.order*', 'postgres', t('sales', 'order items'))).toBe(true);
    expect(matches('public."MiXed"', 'postgres', t('public', 'MiXed'))).toBe(true);
    expect(matches('public.mixed', 'postgres', t('public', 'MiXed'))).toBe(false);
    expect(matches('Shop.Order*', 'mysql', t('Shop', 'OrderLines'))).toBe(true);
    expect(matches('Shop.Order*', 'mysql', t('shop', 'OrderLines'))).toBe(false);
    expect(matches('[Sales EU].*', 'sqlserver', t('Sales EU', 'x'))).toBe(true);
  });

  test('wildcards never cross the dot between schema and table; a dot inside a quoted name is a character', () => {
    // 1-part: only the default schema, whatever the text looks like.
    expect(matches('sales*', 'postgres', t('sales', 'orders'))).toBe(false);
    expect(matches('*', 'postgres', t('sales', 'orders'))).toBe(false);
    expect(matches('*', 'postgres', t('public', 'orders'))).toBe(true);
    expect(matches('o*s', 'postgres', t('sales', 'orders'), 'sales')).toBe(true);
    // The schema part does not swallow part of the table name, nor the other way round.
    expect(matches('sal*', 'postgres', t('sal', 'es.orders'))).toBe(false);
    expect(matches('sales.*', 'postgres', t('sales.eu', 'orders'))).toBe(false);
    expect(matches('"sales.eu".*', 'postgres', t('sales.eu', 'orders'))).toBe(true);
    expect(matches('sales.*', 'postgres', t('sales', 'a.b'))).toBe(true);
    expect(matches('sales."a.*"', 'postgres', t('sales', 'a.b'))).toBe(true);
    expect(matches('"sales.a".*', 'postgres', t('sales', 'a.b'))).toBe(false);
  });

  test('a source that resolves names whatever their case matches them so, schema and default schema included', () => {
    const folded = (text: string, table: SourceTable, defaultSchema = 'shopdb'): boolean =>
      matchesTablePattern(pattern(text, 'mysql'), table, { defaultSchema, ignoreCase: true });
    expect(folded('OrderLines', t('shopdb', 'orderlines'))).toBe(true);
    expect(folded('Count*', t('shopdb', 'countries'))).toBe(true);
    expect(folded('ShopDb.ORDER?ines', t('shopdb', 'orderlines'))).toBe(true);
    expect(folded('orders', t('shopdb', 'Orders'), 'ShopDb')).toBe(true);
    expect(folded('Order*', t('other', 'orderlines'))).toBe(false);
    // As written, case counts.
    expect(matches('OrderLines', 'mysql', t('shopdb', 'orderlines'), 'shopdb')).toBe(false);
  });

  test('a 1-part pattern means the default schema it is given', () => {
    expect(matches('orders', 'postgres', t('public', 'orders'))).toBe(true);
    expect(matches('orders', 'postgres', t('sales', 'orders'))).toBe(false);
    expect(matches('orders', 'postgres', t('sales', 'orders'), 'sales')).toBe(true);
    expect(matches('Order*', 'mysql', t('shop', 'OrderLines'), 'shop')).toBe(true);
    expect(matches('Order*', 'mysql', t('other', 'OrderLines'), 'shop')).toBe(false);
    expect(matches('Order*', 'sqlserver', t('dbo', 'OrderLines'), 'dbo')).toBe(true);
  });
});

describe('selectTables', () => {
  const tables = [
    t('sales', 'orders'),
    t('public', 'users'),
    t('sales', 'order_items'),
    t('public', 'order_log'),
    t('Sales', 'Order Items'),
    t('sales', 'orders'),
    t('archive', 'orders_2020'),
  ];
  const list = (texts: string[]): TablePattern[] => texts.map((text) => pattern(text, 'postgres'));

  test('keeps tables matching an include and no exclude, sorted by schema then name, without duplicates', () => {
    expect(
      selectTables(tables, list(['sales.*', 'sales.orders', 'users']), [], {
        defaultSchema: 'public',
        ignoreCase: false,
      }),
    ).toEqual([t('public', 'users'), t('sales', 'order_items'), t('sales', 'orders')]);
    expect(
      selectTables(tables, list(['*.*']), list(['*.order_*', 'archive.*']), {
        defaultSchema: 'public',
        ignoreCase: false,
      }),
    ).toEqual([t('Sales', 'Order Items'), t('public', 'users'), t('sales', 'orders')]);
    expect(
      selectTables(tables, list(['"Sales".*', 'order_*']), [], {
        defaultSchema: 'public',
        ignoreCase: false,
      }),
    ).toEqual([t('Sales', 'Order Items'), t('public', 'order_log')]);
  });

  test('an exclude wins over an include of the same table; a 1-part exclude uses the default schema', () => {
    expect(
      selectTables(tables, list(['sales.orders']), list(['sales.orders']), {
        defaultSchema: 'public',
        ignoreCase: false,
      }),
    ).toEqual([]);
    expect(
      selectTables(tables, list(['sales.*']), list(['orders']), {
        defaultSchema: 'sales',
        ignoreCase: false,
      }),
    ).toEqual([t('sales', 'order_items')]);
    expect(
      selectTables(tables, list(['sales.*']), list(['orders']), {
        defaultSchema: 'public',
        ignoreCase: false,
      }),
    ).toEqual([t('sales', 'order_items'), t('sales', 'orders')]);
  });

  test('no include selects nothing; the input is left as it was', () => {
    const copy = [...tables];
    expect(selectTables(tables, [], list(['*.*']), { defaultSchema: 'public', ignoreCase: false })).toEqual(
      [],
    );
    selectTables(tables, list(['*.*']), [], { defaultSchema: 'public', ignoreCase: false });
    expect(tables).toEqual(copy);
  });
});

describe('formatSourceTable', () => {
  test('quotes a part only when the dialect needs it', () => {
    expect(formatSourceTable(t('public', 'orders'), 'postgres')).toBe('public.orders');
    expect(formatSourceTable(t('public', 'MiXed'), 'postgres')).toBe('public."MiXed"');
    expect(formatSourceTable(t('Sales', 'Order "Items"'), 'postgres')).toBe('"Sales"."Order ""Items"""');
    expect(formatSourceTable(t('s', 'a.b'), 'postgres')).toBe('s."a.b"');
    expect(formatSourceTable(t('s', '_x$1'), 'postgres')).toBe('s._x$1');
    expect(formatSourceTable(t('s', '1x'), 'postgres')).toBe('s."1x"');
    expect(formatSourceTable(t('Shop', 'OrderLines'), 'mysql')).toBe('Shop.OrderLines');
    expect(formatSourceTable(t('shop', '2024'), 'mysql')).toBe('shop.`2024`');
    expect(formatSourceTable(t('shop', '2024x'), 'mysql')).toBe('shop.2024x');
    expect(formatSourceTable(t('other db', 'a`b'), 'mysql')).toBe('`other db`.`a``b`');
    expect(formatSourceTable(t('dbo', 'Order#1'), 'sqlserver')).toBe('dbo.Order#1');
    expect(formatSourceTable(t('dbo', 'a]b'), 'sqlserver')).toBe('dbo.[a]]b]');
    expect(formatSourceTable(t('Sales EU', '1st'), 'sqlserver')).toBe('[Sales EU].[1st]');
  });

  test('round trip: parseQualifiedName reads any formatted name back to exactly [schema, name]', () => {
    // A seeded generator (mulberry32) so a failure reproduces.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = [...'aZ_$#@09. "`[]\'-*?é漢😀', 'ab', 'Order', ' .'];
    const name = (): string => {
      const length = 1 + Math.floor(random() * 8);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)] ?? '';
      return text;
    };
    const dialects: IdentifierDialect[] = ['postgres', 'mysql', 'sqlserver'];
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const table = t(name(), name());
      for (const dialect of dialects) {
        const text = formatSourceTable(table, dialect);
        const parsed = parseQualifiedName(text, dialect);
        expect(parsed, `${dialect}: ${text}`).toEqual({ ok: true, parts: [table.schema, table.name] });
        checked++;
      }
    }
    expect(checked).toBe(9000);
  });
});
