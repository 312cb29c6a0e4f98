import { describe, expect, it } from 'vitest';
import { BIGQUERY_SCHEMA_RULES } from '../../daemon/destinations/bigquery/bigquery-schema.js';
import { deltaTypeToString, planSchemaChange } from '../../daemon/destinations/delta/delta-schema.js';
import type { StructType } from '../../daemon/destinations/delta/delta-schema.js';
import { POSTGRES_SCHEMA_RULES } from '../../daemon/destinations/postgres/postgres-schema.js';
import {
  columnKey,
  diffSchema,
  sameNativeTypeRules,
  type NameMatching,
  type NativeColumn,
  type SchemaPolicy,
} from '../../daemon/destinations/schema-diff.js';
import { EtlError } from '../../shared/errors.js';
import { typeToString, type ColumnSchema } from '../../shared/types.js';
import { col } from '../conformance/staged-batch.js';

/** A destination whose native type names are the canonical ones in upper case. */
function rules(names: NameMatching = 'case-sensitive') {
  return sameNativeTypeRules((c) => typeToString(c.type).toUpperCase(), names);
}

function native(name: string, nativeType: string): NativeColumn {
  return { name, nativeType };
}

function diff(
  existing: readonly NativeColumn[] | null,
  incoming: readonly ColumnSchema[],
  policy: SchemaPolicy = 'add_columns',
  names: NameMatching = 'case-sensitive',
) {
  return diffSchema({ target: 'db.t', existing, incoming, policy, rules: rules(names) });
}

function failure(run: () => unknown): EtlError {
  try {
    run();
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error('expected a SCHEMA_MISMATCH');
}

const TABLE = [native('id', 'INT64'), native('amount', 'DECIMAL(10,2)')];
const ROWS = [col('id', 'int64'), col('amount', { kind: 'decimal', precision: 10, scale: 2 })];

describe('diffSchema (shared schema evolution)', () => {
  it('plans one create with column * for a missing table, listing the native definitions', () => {
    expect(diff(null, ROWS)).toEqual([
      { column: '*', change: 'create', detail: 'db.t with 2 columns: id INT64, amount DECIMAL(10,2)' },
    ]);
    expect(diff(null, ROWS, 'strict')).toHaveLength(1);
    expect(
      diffSchema({ target: 'db.t', existing: undefined, incoming: ROWS, policy: 'strict', rules: rules() }),
    ).toEqual([expect.objectContaining({ column: '*', change: 'create' })]);
  });

  it('returns nothing for the same columns, in any order, under either policy', () => {
    expect(diff(TABLE, ROWS)).toEqual([]);
    expect(diff(TABLE, [...ROWS].reverse(), 'strict')).toEqual([]);
  });

  it('plans one add per new column with the native type in detail', () => {
    expect(diff(TABLE, [...ROWS, col('note', 'text'), col('flag', 'bool')])).toEqual([
      { column: 'note', change: 'add', detail: 'TEXT' },
      { column: 'flag', change: 'add', detail: 'BOOL' },
    ]);
  });

  it('refuses a changed type naming the column and both types', () => {
    const error = failure(() =>
      diff(TABLE, [col('id', 'int64'), { ...col('amount', 'text'), sourceType: 'varchar(20)' }]),
    );
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'column "amount" is DECIMAL(10,2) in db.t but the incoming rows have text (TEXT, source varchar(20))',
    );
  });

  it('refuses a vanished column naming it and its type', () => {
    expect(failure(() => diff(TABLE, [col('id', 'int64')])).message).toBe(
      'column "amount" (DECIMAL(10,2) in db.t) is missing from the incoming rows',
    );
  });

  it('refuses every new column under strict', () => {
    const error = failure(() => diff(TABLE, [...ROWS, col('note', 'text'), col('flag', 'bool')], 'strict'));
    expect(error.message).toBe(
      'new column "note" (text (TEXT)) is not in db.t (schema_evolution: strict); ' +
        'new column "flag" (bool (BOOL)) is not in db.t (schema_evolution: strict)',
    );
  });

  it('reports every problem in one error, in table order, then new columns', () => {
    const table = [native('id', 'INT64'), native('gone', 'TEXT'), native('amount', 'DECIMAL(10,2)')];
    const error = failure(() =>
      diff(table, [col('id', 'int32'), col('amount', 'float64'), col('extra', 'date')], 'strict'),
    );
    expect(error.message.split('; ')).toEqual([
      'column "id" is INT64 in db.t but the incoming rows have int32 (INT32)',
      'column "gone" (TEXT in db.t) is missing from the incoming rows',
      'column "amount" is DECIMAL(10,2) in db.t but the incoming rows have float64 (FLOAT64)',
      'new column "extra" (date (DATE)) is not in db.t (schema_evolution: strict)',
    ]);
    // Under add_columns the new column is fine, the rest still fails together.
    expect(
      failure(() =>
        diff(table, [col('id', 'int32'), col('amount', 'float64'), col('extra', 'date')]),
      ).message.split('; '),
    ).toHaveLength(3);
  });

  it('matches names case-sensitively when the destination does', () => {
    const error = failure(() => diff(TABLE, [col('ID', 'int64'), ROWS[1] as ColumnSchema]));
    expect(error.message).toBe('column "id" (INT64 in db.t) is missing from the incoming rows');
    expect(diff(TABLE, [...ROWS, col('Id', 'int64')])).toEqual([
      { column: 'Id', change: 'add', detail: 'INT64' },
    ]);
  });

  it('matches names case-insensitively when the destination does, and refuses two incoming columns that are one', () => {
    expect(
      diff(
        TABLE,
        [col('ID', 'int64'), col('Amount', { kind: 'decimal', precision: 10, scale: 2 })],
        'strict',
        'case-insensitive',
      ),
    ).toEqual([]);
    const retyped = failure(() =>
      diff(TABLE, [col('ID', 'text'), ROWS[1] as ColumnSchema], 'add_columns', 'case-insensitive'),
    );
    expect(retyped.message).toBe('column "id" is INT64 in db.t but the incoming rows have text (TEXT)');
    const clash = failure(() =>
      diff(null, [col('a', 'int64'), col('A', 'int64')], 'add_columns', 'case-insensitive'),
    );
    expect(clash.message).toBe(
      'incoming columns "a" and "A" are one column in db.t (column names are case-insensitive there)',
    );
    expect(failure(() => diff(TABLE, [...ROWS, col('id', 'int64')])).message).toBe(
      'the incoming rows have column "id" twice',
    );
    expect(columnKey('case-insensitive', 'MiXed')).toBe(columnKey('case-insensitive', 'mixed'));
    expect(columnKey('case-sensitive', 'MiXed')).not.toBe(columnKey('case-sensitive', 'mixed'));
  });

  it('tells a type accepted only under add_columns apart under strict', () => {
    const widening = {
      ...rules(),
      accepts: (existing: NativeColumn, incoming: ColumnSchema, policy: SchemaPolicy) =>
        existing.nativeType === 'INT64' && incoming.type.kind === 'int32'
          ? policy === 'add_columns'
          : existing.nativeType === typeToString(incoming.type).toUpperCase(),
    };
    const incoming = [col('id', 'int32'), ROWS[1] as ColumnSchema];
    expect(
      diffSchema({ target: 'db.t', existing: TABLE, incoming, policy: 'add_columns', rules: widening }),
    ).toEqual([]);
    expect(
      failure(() =>
        diffSchema({ target: 'db.t', existing: TABLE, incoming, policy: 'strict', rules: widening }),
      ).message,
    ).toBe(
      'column "id" is INT64 in db.t but the incoming rows have int32 (INT32) (schema_evolution: strict wants the same type)',
    );
  });
});

describe('destination rules', () => {
  it('PostgreSQL: lossless widenings under either policy, case-sensitive names', () => {
    const existing = [
      { name: 'id', type: 'bigint' },
      { name: 'amount', type: 'numeric(12,2)' },
    ];
    const incoming = [col('id', 'int16'), col('amount', { kind: 'decimal', precision: 8, scale: 2 })];
    const run = (cols: readonly ColumnSchema[], policy: SchemaPolicy) =>
      diffSchema({ target: 'public.t', existing, incoming: cols, policy, rules: POSTGRES_SCHEMA_RULES });
    expect(run(incoming, 'strict')).toEqual([]);
    expect(run([...incoming, col('note', 'text')], 'add_columns')).toEqual([
      { column: 'note', change: 'add', detail: 'text' },
    ]);
    expect(
      failure(() =>
        run([col('id', 'int64'), col('amount', { kind: 'decimal', precision: 12, scale: 4 })], 'add_columns'),
      ).message,
    ).toBe(
      'column "amount" is numeric(12,2) in public.t but the incoming rows have decimal(12,4) (numeric(12,4))',
    );
    expect(
      failure(() => run([col('ID', 'int64'), incoming[1] as ColumnSchema], 'add_columns')).message,
    ).toContain('column "id" (bigint in public.t) is missing');
  });

  it('BigQuery: compatible decimals, REPEATED refused, case-insensitive names', () => {
    const existing = [
      { name: 'ID', type: 'INTEGER', mode: 'NULLABLE' },
      { name: 'amount', type: 'BIGNUMERIC', mode: 'NULLABLE' },
      { name: 'tags', type: 'STRING', mode: 'REPEATED' },
    ];
    const run = (cols: readonly ColumnSchema[], policy: SchemaPolicy) =>
      diffSchema({ target: 'p.d.t', existing, incoming: cols, policy, rules: BIGQUERY_SCHEMA_RULES });
    const amount = col('amount', { kind: 'decimal', precision: 18, scale: 2 });
    const error = failure(() => run([col('id', 'int64'), amount, col('tags', 'text')], 'strict'));
    expect(error.message).toBe(
      'column "tags" is ARRAY<STRING> in p.d.t but the incoming rows have text (STRING)',
    );
    const scalar = existing.slice(0, 2);
    expect(
      diffSchema({
        target: 'p.d.t',
        existing: scalar,
        incoming: [col('id', 'int64'), amount, col('Note', 'text')],
        policy: 'add_columns',
        rules: BIGQUERY_SCHEMA_RULES,
      }),
    ).toEqual([{ column: 'Note', change: 'add', detail: 'STRING' }]);
    const narrower = col('amount', { kind: 'decimal', precision: 12, scale: 4 });
    expect(
      failure(() =>
        diffSchema({
          target: 'p.d.t',
          existing: [{ name: 'amount', type: 'NUMERIC', mode: 'NULLABLE', precision: '10', scale: '2' }],
          incoming: [narrower],
          policy: 'add_columns',
          rules: BIGQUERY_SCHEMA_RULES,
        }),
      ).message,
    ).toBe(
      'column "amount" is NUMERIC(10,2) in p.d.t but the incoming rows have decimal(12,4) (NUMERIC(12,4))',
    );
    const missing = failure(() => run([col('id', 'int64'), amount], 'add_columns'));
    expect(missing.message).toBe('column "tags" (ARRAY<STRING> in p.d.t) is missing from the incoming rows');
  });

  it('Delta: integer widening only under add_columns, added columns nullable, case-insensitive names', () => {
    const existing: StructType = {
      type: 'struct',
      fields: [
        { name: 'Id', type: 'integer', nullable: false, metadata: {} },
        { name: 'amount', type: 'decimal(12,2)', nullable: true, metadata: {} },
      ],
    };
    const incoming = [col('id', 'int16', false), col('amount', { kind: 'decimal', precision: 12, scale: 2 })];
    const plan = planSchemaChange(
      existing,
      [...incoming, col('note', 'text', false)],
      'add_columns',
      '/lake/t',
    );
    expect(plan.changes).toEqual([{ column: 'note', change: 'add', detail: 'string (nullable)' }]);
    expect(plan.schema.fields.map((f) => `${f.name}:${deltaTypeToString(f.type)}:${f.nullable}`)).toEqual([
      'Id:integer:false',
      'amount:decimal(12,2):true',
      'note:string:true',
    ]);
    expect(plan.changed).toBe(true);
    expect(failure(() => planSchemaChange(existing, incoming, 'strict', '/lake/t')).message).toBe(
      'column "Id" is integer in Delta table /lake/t but the incoming rows have int16 (short) (schema_evolution: strict wants the same type)',
    );
    const created = planSchemaChange(undefined, incoming, 'strict', '/lake/t');
    expect(created.changes).toEqual([
      {
        column: '*',
        change: 'create',
        detail: 'Delta table /lake/t with 2 columns: id short not null, amount decimal(12,2)',
      },
    ]);
    expect(created.schema.fields.map((f) => f.nullable)).toEqual([false, true]);
    const several = failure(() =>
      planSchemaChange(existing, [col('id', 'int64'), col('x', 'text')], 'strict', '/lake/t'),
    );
    expect(several.message.split('; ')).toEqual([
      'column "Id" is integer in Delta table /lake/t but the incoming rows have int64 (long)',
      'column "amount" (decimal(12,2) in Delta table /lake/t) is missing from the incoming rows',
      'new column "x" (text (string)) is not in Delta table /lake/t (schema_evolution: strict)',
    ]);
  });
});
