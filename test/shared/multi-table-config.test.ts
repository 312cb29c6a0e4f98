/**
 * The configuration of multi-table pipelines (docs/multi-table.md): `source.tables` / `exclude`
 * patterns, the `tables:` settings map, destination templates; each mistake named by file, line
 * and field.
 */
import { describe, expect, test } from 'vitest';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { renderTemplate, templateProblem } from '../../shared/config/tables-schema.js';
import { formatProblem, parseYamlWithSchema } from '../../shared/config/yaml-document.js';

const VALID = `name: shop
source:
  type: postgres
  connection: { host: db1, database: shop, user: etl }
  tables: ["public.*", 'sales.order_*', '"Sales"."Order*"']
  exclude: [public.tmp_*]
load: { mode: incremental, cursor: updated_at }
tables:
  public.countries: { mode: full }
  sales.order_items: { key: [order_id, line], mode: merge, chunk_rows: 100000 }
  '"Sales"."Order Lines"': { cursor: changed_at, columns: [id, changed_at, total] }
on_table_error: fail_run
table_parallelism: 4
destination: { type: delta, path: "lake/{schema}/{table}" }
`;

function problems(text: string): string[] {
  const result = parseYamlWithSchema('shop.yaml', text, pipelineSchema);
  return result.ok ? [] : result.problems.map(formatProblem);
}

describe('multi-table configuration', () => {
  test('a complete multi-table file is valid, with its defaults', () => {
    expect(problems(VALID)).toEqual([]);
    const parsed = parseYamlWithSchema('shop.yaml', VALID, pipelineSchema);
    if (!parsed.ok) throw new Error('invalid');
    expect(parsed.value.on_table_error).toBe('fail_run');
    const minimal = parseYamlWithSchema(
      'shop.yaml',
      VALID.replace('on_table_error: fail_run\ntable_parallelism: 4\n', ''),
      pipelineSchema,
    );
    if (!minimal.ok) throw new Error('invalid');
    expect([minimal.value.on_table_error, minimal.value.table_parallelism]).toEqual(['continue', 2]);
  });

  test('merge without a key is left to each table (its primary key)', () => {
    expect(problems(VALID.replace('mode: incremental, cursor: updated_at', 'mode: merge'))).toEqual([]);
  });

  test('source.chunk_rows without a key is left to each table (its primary key)', () => {
    expect(problems(VALID.replace('  exclude:', '  chunk_rows: 50000\n  exclude:'))).toEqual([]);
    const single = VALID.replace(
      / {2}tables: \[.*\]\n {2}exclude: .*\n/,
      '  table: public.orders\n  chunk_rows: 50000\n',
    );
    expect(
      problems(
        single.replace(/^tables:\n(?: {2}.*\n)+/m, '').replace('lake/{schema}/{table}', 'lake/orders'),
      ),
    ).toEqual(['shop.yaml:6:15 source.chunk_rows: chunk_rows needs key: chunks are key ranges']);
  });

  test('table and tables together are refused', () => {
    expect(problems(VALID.replace('  exclude:', '  table: public.orders\n  exclude:'))).toEqual([
      'shop.yaml:6:10 source.table: give exactly one of table, tables or query',
    ]);
  });

  test('a bad pattern names the entry', () => {
    expect(problems(VALID.replace("'sales.order_*'", "'a.b.c.d'"))[0]).toMatch(
      /^shop\.yaml:5:\d+ source\.tables\[1\]: 4 name parts/,
    );
    expect(problems(VALID.replace('[public.tmp_*]', '["public.\\"tmp"]'))[0]).toMatch(
      /^shop\.yaml:6:\d+ source\.exclude\[0\]: unterminated quoted name/,
    );
  });

  test('exclude needs tables; columns are per table; tables: needs source.tables', () => {
    const single = VALID.replace(/ {2}tables: \[.*\]\n/, '  table: public.orders\n');
    expect(problems(single)).toContain(
      'shop.yaml:6:12 source.exclude: exclude narrows source.tables: give tables',
    );
    expect(
      problems(single).some((p) => p.includes('tables: per-table settings belong to a multi-table pipeline')),
    ).toBe(true);
    expect(problems(VALID.replace('  exclude:', '  columns: [id]\n  exclude:'))).toContain(
      'shop.yaml:6:12 source.columns: a multi-table pipeline lists columns per table (tables.<name>.columns)',
    );
  });

  test('an unknown per-table setting is refused by name', () => {
    expect(problems(VALID.replace('{ mode: full }', '{ mode: full, shards: 2 }'))[0]).toContain(
      'tables.public.countries',
    );
  });

  test('the destination template needs {table}, knows its placeholders, and single tables have none', () => {
    expect(problems(VALID.replace('lake/{schema}/{table}', 'lake/{schema}'))).toEqual([
      'shop.yaml:14:35 destination.path: a multi-table pipeline names each table in the destination: the template needs {table} (e.g. "{schema}_{table}")',
    ]);
    expect(problems(VALID.replace('lake/{schema}/{table}', 'lake/{db}/{table}'))[0]).toContain(
      'unknown placeholder {db}',
    );
    const single = `name: one
source: { type: postgres, connection: { host: db1 }, table: public.orders }
load: { mode: full }
destination: { type: duckdb, path: x.duckdb, table: "t_{table}" }
`;
    expect(problems(single)[0]).toContain('placeholders ({table}) name tables of a multi-table pipeline');
    const bigquery = VALID.replace(
      'destination: { type: delta, path: "lake/{schema}/{table}" }',
      'destination: { type: bigquery, project: p, dataset: d, table: "{schema}_{table}" }',
    );
    expect(problems(bigquery)).toEqual([]);
  });

  test('a files source has no tables', () => {
    const files = `name: drops
source: { type: files, url: /data, tables: [a] }
load: { mode: incremental }
destination: { type: duckdb, path: x.duckdb, table: t }
`;
    expect(problems(files)[0]).toContain(
      'source.tables: tables is a field of database sources, not of files',
    );
  });

  test('templates render safe names', () => {
    const values = { schema: 'Sales', table: 'Order Items/../x', shard: 'eu' };
    expect(renderTemplate('{schema}_{table}', values, 'identifier')).toBe('Sales_Order_Items____x');
    expect(renderTemplate('lake/{schema}/{table}', values, 'path')).toBe('lake/Sales/Order Items_.._x');
    expect(renderTemplate('lake/{table}', { ...values, table: '..' }, 'path')).toBe('lake/_');
    expect(templateProblem('{shard}_{table}', true)).toBeUndefined();
  });
});
