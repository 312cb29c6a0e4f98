/**
 * Data quality checks of a pipeline file (`checks:`), judged on the staged batch before the commit.
 *
 * Each list entry names exactly one check and may add `name` and `on_fail`:
 *
 *     checks:
 *       - min_rows: 1
 *       - not_null: email
 *         on_fail: quarantine
 *       - sql: "amount >= 0 OR status = 'refund'"
 *         name: non_negative_amount
 *
 * Decisions:
 * - Parsed into one normalised shape (`QualityCheck`, a `type` plus its parameters) so the engine,
 *   `plan` and the documentation see one form whatever shorthand the file used.
 * - Row checks (`not_null`, `unique`, `accepted_values`, `range`, a `sql` expression) judge single
 *   rows and may quarantine them; batch checks (row counts, null share, freshness, a `sql` query)
 *   judge the whole batch, so `on_fail: quarantine` is refused for them by name.
 * - NULL follows SQL CHECK semantics: `accepted_values`, `range` and a `sql` expression pass a row
 *   whose value (or result) is NULL; `not_null` and `max_null_pct` are the checks for NULLs.
 */
import { z } from 'zod';
import { durationSchema } from './common-schema.js';

export const CHECK_TYPES = [
  'min_rows',
  'max_rows',
  'row_count_change',
  'not_null',
  'max_null_pct',
  'unique',
  'accepted_values',
  'range',
  'freshness_column',
  'sql',
] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

export const CHECK_ACTIONS = ['fail', 'warn', 'quarantine'] as const;
export type CheckAction = (typeof CHECK_ACTIONS)[number];

/** The relation a `sql` check reads: the staged batch, with the load's final column names. */
export const CHECK_BATCH_RELATION = 'batch';

const column = z.string().min(1, 'expected a column name').describe('The column checked');
const percent = z
  .number()
  .min(0, 'expected a percentage from 0 to 100')
  .max(100, 'expected a percentage from 0 to 100');
const bound = z.union([z.number(), z.string().min(1)]);
const rowCount = z.number().int('expected a whole number of rows').min(0, 'expected 0 or more rows');

const entrySchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.()#,-]+$/, 'expected a check name of letters, digits and _ . ( ) # , -')
      .optional()
      .describe(
        "The check's name in results and alerts (default: the type and its columns, e.g. not_null(email))",
      ),
    on_fail: z
      .enum(CHECK_ACTIONS)
      .default('fail')
      .describe(
        'fail: the run fails, nothing is committed; warn: commit and alert; quarantine: failing rows go to a quarantine table',
      ),
    min_rows: rowCount.optional().describe('The batch has at least this many rows'),
    max_rows: rowCount.optional().describe('The batch has at most this many rows'),
    row_count_change: z
      .strictObject({
        max_pct: z
          .number()
          .min(0, 'expected a percentage of 0 or more')
          .describe('The largest change allowed, in percent'),
      })
      .optional()
      .describe("The row count changes at most max_pct percent from the last successful run's"),
    not_null: column.optional().describe('No row has NULL in this column'),
    max_null_pct: z
      .strictObject({ column, max_pct: percent.describe('The largest share of NULLs allowed, in percent') })
      .optional()
      .describe('At most this share of rows has NULL in the column'),
    unique: z
      .union([column, z.array(column).min(1)])
      .optional()
      .describe('No two rows share a value of this column (or these columns together)'),
    accepted_values: z
      .strictObject({
        column,
        values: z
          .array(z.union([z.string(), z.number(), z.boolean()]))
          .min(1)
          .describe('The values allowed'),
      })
      .optional()
      .describe('Every non-NULL value of the column is one of values'),
    range: z
      .strictObject({
        column,
        min: bound.optional().describe('The smallest value allowed (a number, or a date/time as text)'),
        max: bound.optional().describe('The largest value allowed'),
      })
      .refine((r) => r.min !== undefined || r.max !== undefined, { error: 'give min, max or both' })
      .optional()
      .describe('Every non-NULL value of the column lies within min and max'),
    freshness_column: z
      .strictObject({
        column,
        max_age: durationSchema.describe('How old the newest value may be'),
      })
      .optional()
      .describe('The newest value of a date/time column is at most max_age old'),
    sql: z
      .union([
        z.string().min(1),
        z.strictObject({ expression: z.string().min(1) }),
        z.strictObject({ query: z.string().min(1) }),
      ])
      .optional()
      .describe(
        `A boolean expression every row must satisfy, or { query: ... } returning the failing rows of "${CHECK_BATCH_RELATION}"`,
      ),
  })
  .superRefine((entry, ctx) => {
    const given = CHECK_TYPES.filter((type) => entry[type] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `a check names one of ${CHECK_TYPES.join(', ')}`
            : `one check per list entry (this one names ${given.join(' and ')})`,
      });
      return;
    }
    const type = given[0] as CheckType;
    if (entry.on_fail === 'quarantine' && !judgesRows(type, entry.sql)) {
      ctx.addIssue({
        code: 'custom',
        path: ['on_fail'],
        message: `${type === 'sql' ? 'a sql query' : type} judges the whole batch, so it cannot quarantine rows: use fail or warn (quarantine works with not_null, unique, accepted_values, range and a sql expression)`,
      });
    }
  });

function judgesRows(type: CheckType, sql: unknown): boolean {
  if (type === 'sql')
    return typeof sql === 'string' || (typeof sql === 'object' && sql !== null && 'expression' in sql);
  return type === 'not_null' || type === 'unique' || type === 'accepted_values' || type === 'range';
}

type Entry = z.output<typeof entrySchema>;

interface CheckCommon {
  /** Unique within the pipeline; defaults to the type and its column(s), e.g. `not_null(email)`. */
  readonly name: string;
  readonly on_fail: CheckAction;
}

export type QualityCheck = CheckCommon &
  (
    | { readonly type: 'min_rows'; readonly rows: number }
    | { readonly type: 'max_rows'; readonly rows: number }
    | { readonly type: 'row_count_change'; readonly max_pct: number }
    | { readonly type: 'not_null'; readonly column: string }
    | { readonly type: 'max_null_pct'; readonly column: string; readonly max_pct: number }
    | { readonly type: 'unique'; readonly columns: readonly string[] }
    | {
        readonly type: 'accepted_values';
        readonly column: string;
        readonly values: readonly (string | number | boolean)[];
      }
    | {
        readonly type: 'range';
        readonly column: string;
        readonly min?: number | string;
        readonly max?: number | string;
      }
    | { readonly type: 'freshness_column'; readonly column: string; readonly max_age_ms: number }
    | { readonly type: 'sql_expression'; readonly expression: string }
    | { readonly type: 'sql_query'; readonly query: string }
  );

/** The columns a check names (not those inside its SQL). */
export function checkColumns(check: QualityCheck): readonly string[] {
  switch (check.type) {
    case 'not_null':
    case 'max_null_pct':
    case 'accepted_values':
    case 'range':
    case 'freshness_column':
      return [check.column];
    case 'unique':
      return check.columns;
    default:
      return [];
  }
}

function normalise(entry: Entry, index: number): QualityCheck {
  const common = (fallback: string): CheckCommon => ({
    name: entry.name ?? fallback,
    on_fail: entry.on_fail,
  });
  if (entry.min_rows !== undefined) return { ...common('min_rows'), type: 'min_rows', rows: entry.min_rows };
  if (entry.max_rows !== undefined) return { ...common('max_rows'), type: 'max_rows', rows: entry.max_rows };
  if (entry.row_count_change !== undefined)
    return {
      ...common('row_count_change'),
      type: 'row_count_change',
      max_pct: entry.row_count_change.max_pct,
    };
  if (entry.not_null !== undefined)
    return { ...common(`not_null(${entry.not_null})`), type: 'not_null', column: entry.not_null };
  if (entry.max_null_pct !== undefined) {
    const { column: name, max_pct } = entry.max_null_pct;
    return { ...common(`max_null_pct(${name})`), type: 'max_null_pct', column: name, max_pct };
  }
  if (entry.unique !== undefined) {
    const columns = typeof entry.unique === 'string' ? [entry.unique] : entry.unique;
    return { ...common(`unique(${columns.join(',')})`), type: 'unique', columns };
  }
  if (entry.accepted_values !== undefined) {
    const { column: name, values } = entry.accepted_values;
    return { ...common(`accepted_values(${name})`), type: 'accepted_values', column: name, values };
  }
  if (entry.range !== undefined) {
    const { column: name, min, max } = entry.range;
    return {
      ...common(`range(${name})`),
      type: 'range',
      column: name,
      ...(min === undefined ? {} : { min }),
      ...(max === undefined ? {} : { max }),
    };
  }
  if (entry.freshness_column !== undefined) {
    const { column: name, max_age } = entry.freshness_column;
    return { ...common(`freshness(${name})`), type: 'freshness_column', column: name, max_age_ms: max_age };
  }
  const sql = entry.sql ?? '';
  if (typeof sql === 'object' && 'query' in sql)
    return { ...common(`sql#${index + 1}`), type: 'sql_query', query: sql.query };
  const expression = typeof sql === 'string' ? sql : sql.expression;
  return { ...common(`sql#${index + 1}`), type: 'sql_expression', expression };
}

export const checksSchema = z
  .array(entrySchema)
  .default([])
  .transform((entries) => entries.map(normalise))
  .superRefine((checks, ctx) => {
    const seen = new Set<string>();
    checks.forEach((check, index) => {
      if (seen.has(check.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate check name "${check.name}": give each check its own name`,
        });
      }
      seen.add(check.name);
    });
  });
