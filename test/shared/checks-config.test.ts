import { describe, expect, test } from 'vitest';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { formatProblem, parseYamlWithSchema } from '../../shared/config/yaml-document.js';

const BASE = `name: orders
source:
  type: postgres
  connection: { host: db1, database: shop, user: etl }
  table: orders
  columns: [id, email, status, amount, updated_at]
  key: [id]
load: { mode: full }
transform:
  - { target: total, from: amount, type: "decimal(18,2)" }
destination: { type: delta, path: orders }
`;

function problems(checks: string): string[] {
  const result = parseYamlWithSchema('orders.yaml', `${BASE}checks:\n${checks}`, pipelineSchema);
  return result.ok ? [] : result.problems.map(formatProblem);
}

function parsed(checks: string): unknown {
  const result = parseYamlWithSchema('orders.yaml', `${BASE}checks:\n${checks}`, pipelineSchema);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.value.checks;
}

describe('checks: in pipeline files', () => {
  test('every check type parses into one normalised shape with default names and on_fail', () => {
    expect(
      parsed(`  - min_rows: 1
  - max_rows: 1000000
  - row_count_change: { max_pct: 50 }
  - not_null: email
    on_fail: quarantine
  - max_null_pct: { column: email, max_pct: 5 }
  - unique: [id, status]
  - accepted_values: { column: status, values: [new, paid, 3, true] }
  - range: { column: total, min: 0 }
    on_fail: warn
  - freshness_column: { column: updated_at, max_age: 2h }
  - sql: "amount >= 0"
    name: non_negative
  - sql: { query: "SELECT * FROM batch WHERE email NOT LIKE '%@%'" }
`),
    ).toEqual([
      { name: 'min_rows', on_fail: 'fail', type: 'min_rows', rows: 1 },
      { name: 'max_rows', on_fail: 'fail', type: 'max_rows', rows: 1000000 },
      { name: 'row_count_change', on_fail: 'fail', type: 'row_count_change', max_pct: 50 },
      { name: 'not_null(email)', on_fail: 'quarantine', type: 'not_null', column: 'email' },
      { name: 'max_null_pct(email)', on_fail: 'fail', type: 'max_null_pct', column: 'email', max_pct: 5 },
      { name: 'unique(id,status)', on_fail: 'fail', type: 'unique', columns: ['id', 'status'] },
      {
        name: 'accepted_values(status)',
        on_fail: 'fail',
        type: 'accepted_values',
        column: 'status',
        values: ['new', 'paid', 3, true],
      },
      { name: 'range(total)', on_fail: 'warn', type: 'range', column: 'total', min: 0 },
      {
        name: 'freshness(updated_at)',
        on_fail: 'fail',
        type: 'freshness_column',
        column: 'updated_at',
        max_age_ms: 7_200_000,
      },
      { name: 'non_negative', on_fail: 'fail', type: 'sql_expression', expression: 'amount >= 0' },
      {
        name: 'sql#11',
        on_fail: 'fail',
        type: 'sql_query',
        query: "SELECT * FROM batch WHERE email NOT LIKE '%@%'",
      },
    ]);
  });

  test('a pipeline without checks has none', () => {
    const result = parseYamlWithSchema('orders.yaml', BASE, pipelineSchema);
    expect(result.ok && result.value.checks).toEqual([]);
  });

  test('mistakes name the file, line and entry', () => {
    expect(problems('  - not_null: email\n    max_rows: 3\n')).toEqual([
      'orders.yaml:13:5 checks[0]: one check per list entry (this one names max_rows and not_null)',
    ]);
    expect(problems('  - on_fail: warn\n')).toEqual([
      expect.stringMatching(/^orders\.yaml:13:5 checks\[0\]: a check names one of min_rows, max_rows/),
    ]);
    expect(problems('  - min_rows: 1\n    on_fail: quarantine\n')).toEqual([
      expect.stringMatching(
        /^orders\.yaml:14:14 checks\[0\]\.on_fail: min_rows judges the whole batch, so it cannot quarantine rows/,
      ),
    ]);
    expect(problems('  - sql: { query: "SELECT 1" }\n    on_fail: quarantine\n')).toEqual([
      expect.stringMatching(/checks\[0\]\.on_fail: a sql query judges the whole batch/),
    ]);
    expect(problems('  - not_null: emial\n')).toEqual([
      'orders.yaml:13:5 checks[0]: check "not_null(emial)": unknown column "emial": not in source.columns (id, email, status, amount, updated_at) or a transform target',
    ]);
    expect(problems('  - not_null: email\n  - not_null: email\n')).toEqual([
      expect.stringMatching(/checks\[1\]\.name: duplicate check name "not_null\(email\)"/),
    ]);
    expect(problems('  - range: { column: amount }\n')).toEqual([
      expect.stringMatching(/give min, max or both/),
    ]);
    expect(problems('  - max_null_pct: { column: email, max_pct: 140 }\n')).toEqual([
      expect.stringMatching(/max_null_pct.max_pct: expected at most 100, got 140/),
    ]);
    expect(problems('  - not_nul: email\n')).toContain(
      'orders.yaml:13:5 checks[0]: unknown field "not_nul" (did you mean "not_null"?)',
    );
  });
});
