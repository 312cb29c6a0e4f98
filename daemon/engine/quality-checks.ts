/**
 * Judges a pipeline's data quality checks (`checks:`, shared/config/checks-schema.ts) on the staged
 * batch: a table of the run's staging DuckDB holding the rows about to be committed, with the
 * load's final columns.
 *
 * Decisions:
 * - One scan for every check an aggregate can answer (row counts, NULL counts and shares, rows
 *   outside accepted values or a range, rows failing a SQL expression, the newest value); `unique`
 *   and a `sql` query each need a statement of their own (a GROUP BY, the operator's query).
 * - Results never quote a row: a check reports counts, shares and ages, and DuckDB's messages go
 *   through `withoutRowData` (a failing cast inside an operator's SQL would quote the value).
 * - Bounds and accepted values are cast to the column's staging type, so `min: 0` compares with a
 *   DECIMAL column as a number and `min: "2024-01-01"` with a DATE column as a date.
 * - Quarantine: rows failing a row check with `on_fail: quarantine` move from the batch to a
 *   `quarantine` table, with `_etl_check` listing the checks each failed; the caller loads both.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityCheck } from '../../shared/config/checks-schema.js';
import { CHECK_BATCH_RELATION } from '../../shared/config/checks-schema.js';
import { formatDuration } from '../../shared/config/duration.js';
import { EtlError } from '../../shared/errors.js';
import type { CheckResult } from '../../shared/protocol.js';
import type { ColumnSchema } from '../../shared/types.js';
import { withoutRowData } from '../logging/row-data.js';
import { quoteIdent, quoteLiteral, queryStrings } from './duck-sql.js';
import { stagingDuckType } from './staging-types.js';

/** The quarantine table of the staging database, and the column naming the checks a row failed. */
export const QUARANTINE_TABLE = 'quarantine';
export const QUARANTINE_CHECK_COLUMN = '_etl_check';

export interface CheckBatch {
  readonly connection: DuckDBConnection;
  /** The (quoted) staging table holding the batch. */
  readonly table: string;
  readonly columns: readonly ColumnSchema[];
  /** Rows read from the source by this run and by the last successful run (`row_count_change`). */
  readonly rowsExtracted: number;
  readonly previousRowsExtracted: number | null;
  readonly now: Date;
}

export interface CheckVerdict {
  readonly results: CheckResult[];
  /** The checks with `on_fail: fail` that failed (the run must stop before writing anything). */
  readonly failed: CheckResult[];
  /** Rows moved to `QUARANTINE_TABLE` (0: no table was created). */
  readonly quarantined: number;
}

/** A row check compiled: the SQL predicate true for a failing row. */
interface RowPredicate {
  readonly check: QualityCheck;
  readonly failing: string;
}

function invalid(check: QualityCheck, message: string, cause?: unknown): EtlError {
  return new EtlError('CHECK_INVALID', `check "${check.name}": ${message}`, {
    retryable: false,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The batch column `name` names: exactly, else the only case-insensitive match. */
function resolveColumn(check: QualityCheck, name: string, columns: readonly ColumnSchema[]): ColumnSchema {
  const exact = columns.find((c) => c.name === name);
  if (exact !== undefined) return exact;
  const folded = columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  if (folded.length === 1 && folded[0] !== undefined) return folded[0];
  const hint = folded.length > 1 ? ` (ambiguous: ${folded.map((c) => c.name).join(', ')})` : '';
  throw invalid(
    check,
    `unknown column "${name}"${hint}; the batch has ${columns.map((c) => c.name).join(', ')}`,
  );
}

/** A bound or accepted value as a literal of the column's staging type. */
function typedLiteral(value: string | number | boolean, column: ColumnSchema): string {
  const literal = typeof value === 'string' ? quoteLiteral(value) : String(value);
  return `CAST(${literal} AS ${stagingDuckType(column.type)})`;
}

/** The typed literals of a check's bounds or accepted values. */
function boundLiterals(check: QualityCheck, columns: readonly ColumnSchema[]): string[] {
  if (check.type === 'accepted_values') {
    const column = resolveColumn(check, check.column, columns);
    return check.values.map((v) => typedLiteral(v, column));
  }
  if (check.type === 'range') {
    const column = resolveColumn(check, check.column, columns);
    return [check.min, check.max].flatMap((v) => (v === undefined ? [] : [typedLiteral(v, column)]));
  }
  return [];
}

function rowPredicate(check: QualityCheck, columns: readonly ColumnSchema[]): string | undefined {
  switch (check.type) {
    case 'not_null':
      return `${quoteIdent(resolveColumn(check, check.column, columns).name)} IS NULL`;
    case 'accepted_values': {
      const column = resolveColumn(check, check.column, columns);
      const values = check.values.map((v) => typedLiteral(v, column)).join(', ');
      return `${quoteIdent(column.name)} NOT IN (${values})`;
    }
    case 'range': {
      const column = resolveColumn(check, check.column, columns);
      const outside: string[] = [];
      if (check.min !== undefined)
        outside.push(`${quoteIdent(column.name)} < ${typedLiteral(check.min, column)}`);
      if (check.max !== undefined)
        outside.push(`${quoteIdent(column.name)} > ${typedLiteral(check.max, column)}`);
      return `(${outside.join(' OR ')})`;
    }
    case 'sql_expression':
      // SQL CHECK semantics: a row fails when the expression is false; NULL passes.
      return `NOT COALESCE(CAST((${check.expression}) AS BOOLEAN), TRUE)`;
    case 'unique': {
      const names = check.columns.map((c) => quoteIdent(resolveColumn(check, c, columns).name));
      const matches = names.map((n) => `d.${n} = b.${n}`).join(' AND ');
      return `EXISTS (SELECT 1 FROM (SELECT ${names.join(', ')} FROM ${CHECK_BATCH_RELATION} WHERE ${names.map((n) => `${n} IS NOT NULL`).join(' AND ')} GROUP BY ${names.join(', ')} HAVING count(*) > 1) AS d WHERE ${matches})`;
    }
    default:
      return undefined;
  }
}

function pct(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 100 * 100) / 100;
}

function rowsText(n: number): string {
  return `${n} row${n === 1 ? '' : 's'}`;
}

/** What a check measured, and whether that passes. */
interface Measure {
  readonly observed: number | null;
  readonly threshold: string;
  readonly passed: boolean;
  readonly detail: string;
}

function result(check: QualityCheck, measure: Measure): CheckResult {
  const status = measure.passed ? 'pass' : check.on_fail;
  return {
    name: check.name,
    type: check.type,
    status,
    on_fail: check.on_fail,
    observed: measure.observed,
    threshold: measure.threshold,
    detail: measure.passed
      ? `check "${check.name}" passed: ${measure.detail}`
      : `check "${check.name}" ${status === 'fail' ? 'failed' : status === 'warn' ? 'warns' : 'quarantined rows'}: ${measure.detail}`,
  };
}

async function run(
  check: QualityCheck,
  connection: DuckDBConnection,
  sql: string,
): Promise<(string | null)[][]> {
  try {
    return await queryStrings(connection, sql);
  } catch (error) {
    throw invalid(check, withoutRowData(error instanceof Error ? error.message : String(error)), error);
  }
}

/** Judges `checks` on the batch; moves quarantined rows out of it. Writes nothing anywhere else. */
export async function judgeChecks(checks: readonly QualityCheck[], batch: CheckBatch): Promise<CheckVerdict> {
  if (checks.length === 0) return { results: [], failed: [], quarantined: 0 };
  const { connection, columns } = batch;
  await connection.run(`CREATE OR REPLACE TEMP VIEW ${CHECK_BATCH_RELATION} AS SELECT * FROM ${batch.table}`);
  const predicates: RowPredicate[] = [];
  // One aggregate scan: `count(*)` first, then one expression per check that needs one.
  const aggregates: string[] = ['count(*)'];
  const slot = new Map<QualityCheck, number>();
  for (const check of checks) {
    const failing = rowPredicate(check, columns);
    if (failing !== undefined) predicates.push({ check, failing });
    let expression: string | undefined;
    if (failing !== undefined && check.type !== 'unique') expression = `count(*) FILTER (WHERE ${failing})`;
    if (check.type === 'max_null_pct')
      expression = `count(*) FILTER (WHERE ${quoteIdent(resolveColumn(check, check.column, columns).name)} IS NULL)`;
    if (check.type === 'freshness_column') {
      const column = resolveColumn(check, check.column, columns);
      if (!['date', 'timestamp', 'timestamptz'].includes(column.type.kind))
        throw invalid(check, `column "${column.name}" is ${column.type.kind}, not a date or timestamp`);
      expression = `epoch(CAST(max(${quoteIdent(column.name)}) AS TIMESTAMP))`;
    }
    const literals = boundLiterals(check, columns);
    // A bound that does not convert to the column's type fails only once rows are read: try it alone.
    if (literals.length > 0) await run(check, connection, `SELECT ${literals.join(', ')}`);
    if (expression === undefined) continue;
    // Each expression is tried alone first, so a check that does not bind is named.
    await run(check, connection, `SELECT ${expression} FROM ${CHECK_BATCH_RELATION} AS b LIMIT 0`);
    slot.set(check, aggregates.length);
    aggregates.push(expression);
  }
  const row =
    (
      await queryStrings(connection, `SELECT ${aggregates.join(', ')} FROM ${CHECK_BATCH_RELATION} AS b`)
    )[0] ?? [];
  const rows = Number(row[0] ?? 0);
  const value = (check: QualityCheck): string | null => row[slot.get(check) ?? -1] ?? null;

  const results: CheckResult[] = [];
  for (const check of checks) results.push(result(check, await measure(check, batch, rows, value(check))));
  const failed = results.filter((r) => r.status === 'fail');
  let quarantined = 0;
  if (failed.length === 0) {
    const moving = predicates.filter(
      (p) =>
        p.check.on_fail === 'quarantine' &&
        results.some((r) => r.name === p.check.name && r.status === 'quarantine'),
    );
    if (moving.length > 0) quarantined = await quarantine(batch, moving);
  }
  await connection.run(`DROP VIEW IF EXISTS ${CHECK_BATCH_RELATION}`);
  return { results, failed, quarantined };
}

async function measure(
  check: QualityCheck,
  batch: CheckBatch,
  rows: number,
  value: string | null,
): Promise<Measure> {
  const count = Number(value ?? 0);
  switch (check.type) {
    case 'min_rows':
      return {
        observed: rows,
        threshold: `≥ ${rowsText(check.rows)}`,
        passed: rows >= check.rows,
        detail: `the batch has ${rowsText(rows)} (at least ${check.rows} expected)`,
      };
    case 'max_rows':
      return {
        observed: rows,
        threshold: `≤ ${rowsText(check.rows)}`,
        passed: rows <= check.rows,
        detail: `the batch has ${rowsText(rows)} (at most ${check.rows} expected)`,
      };
    case 'row_count_change': {
      const previous = batch.previousRowsExtracted;
      const threshold = `≤ ${check.max_pct} %`;
      if (previous === null)
        return {
          observed: null,
          threshold,
          passed: true,
          detail: 'no earlier successful run to compare with',
        };
      if (previous === 0)
        return {
          observed: null,
          threshold,
          passed: true,
          detail: `the last successful run read no rows; this one read ${rowsText(batch.rowsExtracted)}`,
        };
      const change = pct(Math.abs(batch.rowsExtracted - previous), previous);
      return {
        observed: change,
        threshold,
        passed: change <= check.max_pct,
        detail: `${rowsText(batch.rowsExtracted)} read against ${previous} by the last successful run: a change of ${change} % (at most ${check.max_pct} % allowed)`,
      };
    }
    case 'not_null':
      return {
        observed: count,
        threshold: '0 rows',
        passed: count === 0,
        detail: `${rowsText(count)} of ${rows} ${count === 1 ? 'has' : 'have'} NULL in column "${check.column}"`,
      };
    case 'max_null_pct': {
      const share = pct(count, rows);
      return {
        observed: share,
        threshold: `≤ ${check.max_pct} %`,
        passed: share <= check.max_pct,
        detail: `${share} % of the batch (${rowsText(count)} of ${rows}) is NULL in column "${check.column}" (at most ${check.max_pct} % allowed)`,
      };
    }
    case 'accepted_values':
      return {
        observed: count,
        threshold: '0 rows',
        passed: count === 0,
        detail: `${rowsText(count)} of ${rows} hold a value of column "${check.column}" outside the ${check.values.length} accepted`,
      };
    case 'range': {
      const bounds = `${check.min === undefined ? '' : `min ${String(check.min)}`}${check.min !== undefined && check.max !== undefined ? ', ' : ''}${check.max === undefined ? '' : `max ${String(check.max)}`}`;
      return {
        observed: count,
        threshold: '0 rows',
        passed: count === 0,
        detail: `${rowsText(count)} of ${rows} hold a value of column "${check.column}" outside the range (${bounds})`,
      };
    }
    case 'sql_expression':
      return {
        observed: count,
        threshold: '0 rows',
        passed: count === 0,
        detail: `${rowsText(count)} of ${rows} fail the expression`,
      };
    case 'unique': {
      const names = check.columns.map((c) => quoteIdent(resolveColumn(check, c, batch.columns).name));
      const shared = await run(
        check,
        batch.connection,
        `SELECT COALESCE(sum(n), 0) FROM (SELECT count(*) AS n FROM ${CHECK_BATCH_RELATION} WHERE ${names.map((n) => `${n} IS NOT NULL`).join(' AND ')} GROUP BY ${names.join(', ')} HAVING count(*) > 1)`,
      );
      const duplicated = Number(shared[0]?.[0] ?? 0);
      return {
        observed: duplicated,
        threshold: '0 rows',
        passed: duplicated === 0,
        detail: `${rowsText(duplicated)} of ${rows} share their value of (${check.columns.join(', ')}) with another row`,
      };
    }
    case 'sql_query': {
      const found = await run(
        check,
        batch.connection,
        `SELECT count(*) FROM (${check.query}) AS failing_rows`,
      );
      const failing = Number(found[0]?.[0] ?? 0);
      return {
        observed: failing,
        threshold: '0 rows',
        passed: failing === 0,
        detail: `the query returned ${rowsText(failing)}`,
      };
    }
    case 'freshness_column': {
      const threshold = `age ≤ ${formatDuration(check.max_age_ms)}`;
      if (value === null)
        return {
          observed: null,
          threshold,
          passed: false,
          detail: `column "${check.column}" has no value in the batch (${rowsText(rows)})`,
        };
      const age = Math.max(0, Math.round(batch.now.getTime() / 1000 - Number(value)));
      return {
        observed: age,
        threshold,
        passed: age * 1000 <= check.max_age_ms,
        detail: `the newest value of column "${check.column}" is ${formatDuration(age * 1000)} old (at most ${formatDuration(check.max_age_ms)} allowed)`,
      };
    }
  }
}

/**
 * Evaluates `checks` on an empty table of the batch's columns, so a check that cannot be evaluated
 * (an unknown column, SQL that does not bind, a bound of the wrong type) fails the run with
 * CHECK_INVALID before anything is extracted, not after the whole batch was read.
 */
export async function probeChecks(
  checks: readonly QualityCheck[],
  connection: DuckDBConnection,
  columns: readonly ColumnSchema[],
): Promise<void> {
  if (checks.length === 0) return;
  const probe = 'etld_check_probe';
  const definitions = columns.map((c) => `${quoteIdent(c.name)} ${stagingDuckType(c.type)}`).join(', ');
  await connection.run(`CREATE TEMP TABLE ${probe} (${definitions})`);
  try {
    await judgeChecks(checks, {
      connection,
      table: probe,
      columns,
      rowsExtracted: 0,
      previousRowsExtracted: null,
      now: new Date(0),
    });
  } finally {
    await connection.run(`DROP TABLE ${probe}`);
  }
}

/** Moves the rows failing `moving` from the batch to `QUARANTINE_TABLE`; returns how many. */
async function quarantine(batch: CheckBatch, moving: readonly RowPredicate[]): Promise<number> {
  const { connection } = batch;
  const any = moving.map((p) => `(${p.failing})`).join(' OR ');
  const names = moving.map((p) => `CASE WHEN ${p.failing} THEN ${quoteLiteral(p.check.name)} END`).join(', ');
  // `b` is the batch row in the predicates of `unique` (see rowPredicate).
  await connection.run(
    `CREATE TABLE ${QUARANTINE_TABLE} AS SELECT b.*, concat_ws(',', ${names}) AS ${quoteIdent(QUARANTINE_CHECK_COLUMN)} FROM ${CHECK_BATCH_RELATION} AS b WHERE ${any}`,
  );
  const removed = await connection.run(
    `DELETE FROM ${batch.table} WHERE rowid IN (SELECT b.rowid FROM ${batch.table} AS b WHERE ${any})`,
  );
  const copied = Number(
    (await queryStrings(connection, `SELECT count(*) FROM ${QUARANTINE_TABLE}`))[0]?.[0] ?? 0,
  );
  if (copied !== removed.rowsChanged) {
    throw new EtlError(
      'RECONCILIATION_FAILED',
      `${copied} rows copied to quarantine but ${removed.rowsChanged} removed from the batch; nothing was committed`,
      { retryable: false },
    );
  }
  return copied;
}
