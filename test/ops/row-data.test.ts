import { describe, expect, it } from 'vitest';
import { withoutRowData } from '../../daemon/logging/row-data.js';

const SECRET = 'PII-4111-1111-1111-1111';

describe('withoutRowData', () => {
  it.each([
    [
      'DuckDB CSV reader',
      `Conversion Error: CSV Error on Line: 3\nOriginal Line: 3,${SECRET}\nError when converting column "c2". Could not convert string "${SECRET}" to 'INTEGER'\n\nColumn c2 is being converted as type INTEGER`,
    ],
    [
      'DuckDB cast',
      `Conversion Error: Could not convert string '${SECRET}' to INT32\n\nLINE 1: select CAST('${SECRET}' AS INTEGER)\n               ^`,
    ],
    ['PostgreSQL input syntax', `invalid input syntax for type integer: "${SECRET}"`],
    [
      'PostgreSQL COPY context',
      `value too long for type character varying(3) (COPY t, line 2, column v: "${SECRET}")`,
    ],
    [
      'PostgreSQL check violation',
      `new row for relation "t" violates check constraint "c" (Failing row contains (1, ${SECRET}).)`,
    ],
    [
      'PostgreSQL unique violation',
      `duplicate key value violates unique constraint "t_pkey" (Key (id)=(${SECRET}) already exists.)`,
    ],
    ['PostgreSQL out of range', `date/time field value out of range: "${SECRET}"`],
    [
      'MySQL incorrect value',
      `Incorrect integer value: '${SECRET}' for column \`shop\`.\`t\`.\`n\` at row 1`,
    ],
    ['MySQL duplicate entry', `Duplicate entry '${SECRET}' for key 'PRIMARY'`],
    [
      'BigQuery parse error',
      `invalid at id: Could not parse '${SECRET}' as INT64 for field id (position 0) starting at location 0`,
    ],
  ])('%s: the value is gone, the error kind and where stay', (_what, message) => {
    const clean = withoutRowData(message);
    expect(clean).not.toContain(SECRET);
    expect(clean.length).toBeGreaterThan(10);
  });

  it('keeps the line, column and type that locate the row', () => {
    expect(withoutRowData(`Conversion Error: CSV Error on Line: 3\nOriginal Line: 3,${SECRET}`)).toBe(
      'Conversion Error: CSV Error on Line: 3',
    );
    expect(withoutRowData(`COPY t, line 2, column v: "${SECRET}"`)).toBe('COPY t, line 2, column v: "…"');
    expect(withoutRowData(`Incorrect integer value: '${SECRET}' for column 'n' at row 7`)).toBe(
      `Incorrect integer value for column 'n' at row 7`,
    );
  });

  it('leaves messages without row data alone', () => {
    const plain = 'postgres source "default" (127.0.0.1:5432/shop): Connection terminated unexpectedly';
    expect(withoutRowData(plain)).toBe(plain);
  });
});
