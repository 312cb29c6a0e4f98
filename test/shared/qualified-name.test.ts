/** source.table as each database reads it: quoted parts, doubled quotes, dots inside quotes, folding. */
import { describe, expect, test } from 'vitest';
import { parseQualifiedName, type IdentifierDialect } from '../../shared/qualified-name.js';

function parts(text: string, dialect: IdentifierDialect): readonly string[] {
  const parsed = parseQualifiedName(text, dialect);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.parts;
}

function reason(text: string, dialect: IdentifierDialect): string {
  const parsed = parseQualifiedName(text, dialect);
  return parsed.ok ? '' : parsed.reason;
}

describe('parseQualifiedName', () => {
  test('PostgreSQL: quoted parts keep their spelling, unquoted ones fold to lower case', () => {
    expect(parts('sales."Customer Accounts"', 'postgres')).toEqual(['sales', 'Customer Accounts']);
    expect(parts('"My Schema"."Order Lines"', 'postgres')).toEqual(['My Schema', 'Order Lines']);
    expect(parts('public."MixedCase"', 'postgres')).toEqual(['public', 'MixedCase']);
    expect(parts('Public.MixedCase', 'postgres')).toEqual(['public', 'mixedcase']);
    expect(parts('"a.b"."c ""d"" e"', 'postgres')).toEqual(['a.b', 'c "d" e']);
    expect(parts(' orders ', 'postgres')).toEqual(['orders']);
    expect(parts('db.s.t', 'postgres')).toEqual(['db', 's', 't']);
    // Names written before quoting was understood keep working (folded).
    expect(parts('public.My Table', 'postgres')).toEqual(['public', 'my table']);
  });

  test('MySQL/MariaDB: backticks, unquoted parts as written', () => {
    expect(parts('`db`.`Order Lines`', 'mysql')).toEqual(['db', 'Order Lines']);
    expect(parts('Shop.`a``b.c`', 'mysql')).toEqual(['Shop', 'a`b.c']);
    expect(parts('Orders', 'mysql')).toEqual(['Orders']);
    expect(reason('a.b.c', 'mysql')).toMatch(/at most 2 \(database\.table\)/);
    expect(reason('"db"."t"', 'mysql')).toMatch(/stray "/);
  });

  test('SQL Server: brackets and double quotes, unquoted parts as written', () => {
    expect(parts('[dbo].[Order Lines]', 'sqlserver')).toEqual(['dbo', 'Order Lines']);
    expect(parts('dbo."Order Lines"', 'sqlserver')).toEqual(['dbo', 'Order Lines']);
    expect(parts('[a]]b].[c.d]', 'sqlserver')).toEqual(['a]b', 'c.d']);
    expect(parts('Shop.dbo.Orders', 'sqlserver')).toEqual(['Shop', 'dbo', 'Orders']);
    expect(reason('srv.db.dbo.t', 'sqlserver')).toMatch(/4 name parts/);
  });

  test('malformed names are refused with a reason', () => {
    expect(reason('sales."unterminated', 'postgres')).toMatch(/unterminated quoted name/);
    expect(reason('[dbo].[x', 'sqlserver')).toMatch(/unterminated/);
    expect(reason('a..b', 'postgres')).toMatch(/empty name part/);
    expect(reason('a.', 'mysql')).toMatch(/empty name part/);
    expect(reason('""', 'postgres')).toMatch(/must not be empty/);
    expect(reason('"a"b', 'postgres')).toMatch(/unexpected "b" after a quoted name/);
    expect(reason('sa"les.t', 'postgres')).toMatch(/stray "/);
  });

  test('seeded random names round-trip through quoting', () => {
    let seed = 20240611;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'Z', ' ', '.', '"', '`', ']', '[', 'ö', '_', '1', ';'];
    const quoters: Record<IdentifierDialect, (name: string) => string> = {
      postgres: (n) => `"${n.replaceAll('"', '""')}"`,
      mysql: (n) => `\`${n.replaceAll('`', '``')}\``,
      sqlserver: (n) => `[${n.replaceAll(']', ']]')}]`,
    };
    for (let round = 0; round < 500; round++) {
      const dialect = (['postgres', 'mysql', 'sqlserver'] as const)[random(3)] ?? 'postgres';
      const count = 1 + random(2);
      const names = Array.from({ length: count }, () =>
        Array.from({ length: 1 + random(8) }, () => alphabet[random(alphabet.length)]).join(''),
      );
      const text = names.map(quoters[dialect]).join('.');
      expect(parts(text, dialect), text).toEqual(names);
    }
  });
});
