/**
 * The data quality checks of `npm run bench -- --checks`: what a pipeline of the bench table would
 * realistically check, one check of each common kind on the table's own columns (dataset.ts).
 *
 * Every check passes on the generated rows, with the default `on_fail: fail`: a run that
 * succeeded with every row loaded (run-case.ts checks both) therefore judged every check and
 * failed none, so the measured cost is judging the batch, never failing or quarantining it.
 */
import { parse } from 'yaml';
import { checksSchema } from '../shared/config/checks-schema.js';

/** The pipelines measured a second time with the checks: etld's single-stream PostgreSQL cases. */
export const CHECKED_PIPELINES: ReadonlySet<string> = new Set(['pg_delta', 'pg_duckdb']);

/** Appended to a checked case's name (and `--only` matches it, e.g. `--only checks`). */
export const CHECKED_SUFFIX = ' + checks';

/** The `checks:` block, indented for the top level of a pipeline file. */
export const BENCH_CHECKS_YAML = `checks:
  # The batch is the whole table: a full load of an empty table is a broken source.
  - min_rows: 1
  # The key; the one check here that needs a statement of its own (a GROUP BY over the batch).
  - unique: id
  - not_null: account_id
  # ((id * 104729) % 10000000) / 100: from 0 to 99,999.99.
  - range: { column: amount, min: 0, max: 100000 }
  - accepted_values: { column: status, values: [new, paid, shipped, cancelled] }
  # NULL when id % 7 = 0: about 14 % of the rows.
  - max_null_pct: { column: region, max_pct: 20 }
  # A rule across columns; the dates start at 2020-01-01.
  - sql: "quantity >= 0 AND order_date >= DATE '2020-01-01'"
    name: plausible_order
`;

/**
 * The checks' names as etld reports them (e.g. `unique(id)`), for the report. Parsing them with
 * etld's own schema also refuses, at the start, a block every checked run would fail on.
 */
export function benchCheckNames(): string[] {
  const document: unknown = parse(BENCH_CHECKS_YAML);
  const entries =
    typeof document === 'object' && document !== null ? (document as { checks?: unknown }).checks : [];
  return checksSchema.parse(entries).map((check) => check.name);
}
