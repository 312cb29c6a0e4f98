/** The column_names policy (shared/column-names.ts) and what config validation tells from it. */
import { describe, expect, test } from 'vitest';
import { bigQueryNameProblem, loadedColumnNames, snakeCaseName } from '../../shared/column-names.js';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';

describe('snake_case', () => {
  test('lower case, runs of other characters as one _, accents dropped, _ before a digit', () => {
    const cases: [string, string][] = [
      ['Customer Name', 'customer_name'],
      ['order-id', 'order_id'],
      ['größe', 'grosse'],
      ['Ærø Ø', 'aero_o'],
      ['Łódź', 'lodz'],
      ['a,b', 'a_b'],
      ['x;y', 'x_y'],
      ['(paren)', '_paren'],
      ['tab\there', 'tab_here'],
      ['dot.name', 'dot_name'],
      ['2fa code', '_2fa_code'],
      ['OrderID', 'orderid'],
      ['already_snake', 'already_snake'],
      ['_private', '_private'],
      ['price €', 'price'],
      ['名前 x', '_x'],
      ['%', ''],
    ];
    for (const [name, expected] of cases) expect(snakeCaseName(name), name).toBe(expected);
  });

  test('two columns that become one name, or a name with nothing left, are refused by name', () => {
    expect(loadedColumnNames(['A B', 'a_b'], 'snake_case')).toEqual({
      ok: false,
      problem: 'column "a_b" and column "A B" both become a_b under column_names: snake_case',
    });
    expect(loadedColumnNames(['%'], 'snake_case')).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/"%" has no letter or digit/),
    });
    expect(loadedColumnNames(['ETL run id', '_ETL run id'], 'snake_case', ['_etl_run_id'])).toMatchObject({
      ok: false,
      problem: expect.stringMatching(
        /"_ETL run id" and the metadata column _etl_run_id both become _etl_run_id/,
      ),
    });
    expect(loadedColumnNames(['A B', 'a_b'], 'keep')).toEqual({ ok: true, names: ['A B', 'a_b'] });
  });

  test('seeded random names: snake_case output is always a BigQuery name, and idempotent', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const alphabet = [...'aZ09 _-.,;(){}=\t\nßöÆ名€', 'é'];
    for (let i = 0; i < 1000; i++) {
      const name = Array.from({ length: 1 + next(12) }, () => alphabet[next(alphabet.length)]).join('');
      const snake = snakeCaseName(name);
      if (snake.length === 0) continue;
      expect(bigQueryNameProblem(snake), JSON.stringify(name)).toBeUndefined();
      expect(snakeCaseName(snake)).toBe(snake);
    }
  });
});

describe('BigQuery column names', () => {
  test('letters, digits and _, not a digit first', () => {
    expect(bigQueryNameProblem('order_id')).toBeUndefined();
    expect(bigQueryNameProblem('_x')).toBeUndefined();
    expect(bigQueryNameProblem('Customer Name')).toMatch(
      /"Customer Name" is not a BigQuery column name.*column_names: snake_case/,
    );
    expect(bigQueryNameProblem('1x')).toBeDefined();
    expect(bigQueryNameProblem('größe')).toBeDefined();
  });
});

describe('column_names in pipeline files', () => {
  const base = {
    name: 'names',
    source: { type: 'postgres', connection: { host: 'db' }, table: 't', columns: ['id', 'Customer Name'] },
    load: { mode: 'full' },
  };
  const issues = (destination: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] => {
    const result = pipelineSchema.safeParse({ ...base, destination, ...extra });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const bigquery = { type: 'bigquery', project: 'p', dataset: 'd', table: 't' };

  test('BigQuery under keep refuses a listed column or transform target it cannot take, naming it', () => {
    expect(issues(bigquery)).toEqual([
      expect.stringMatching(
        /^source\.columns\.1: column "Customer Name" is not a BigQuery column name.*snake_case/,
      ),
    ]);
    expect(issues({ ...bigquery, column_names: 'snake_case' })).toEqual([]);
    expect(
      issues({ ...bigquery, column_names: 'keep' }, { transform: [{ target: 'Full Name', from: 'id' }] }),
    ).toContainEqual(expect.stringMatching(/^transform\.0\.target: column "Full Name"/));
  });

  test('snake_case refuses listed columns that become one name, for every destination', () => {
    const source = { ...base.source, columns: ['id', 'Customer Name', 'customer_name'] };
    for (const destination of [
      { type: 'delta', path: 'x' },
      { type: 'duckdb', path: 'x.duckdb', table: 't' },
      { type: 'postgres', connection: { host: 'db' }, table: 't' },
      bigquery,
    ]) {
      expect(issues({ ...destination, column_names: 'snake_case' }, { source })).toEqual([
        'destination.column_names: column "customer_name" and column "Customer Name" both become customer_name under column_names: snake_case',
      ]);
    }
  });
});
