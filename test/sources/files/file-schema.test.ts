/**
 * describeFile (DuckDB's DESCRIBE mapped to canonical types, nested values as JSON or refused,
 * unsupported types refused by name) and mergeFileSchemas (union by name, widening, a changed
 * type refused naming both files), on real files.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readDuckType } from '../../../daemon/sources/files/file-type-map.js';
import { describeFile, mergeFileSchemas } from '../../../daemon/sources/files/file-schema.js';
import { typeToString, type CanonicalType, type ColumnSchema } from '../../../shared/types.js';
import {
  column,
  failure,
  fileSpec,
  openWorkspace,
  runPyarrow,
  type Workspace,
} from './file-reader-fixtures.js';

const NDJSON = fileSpec({ format: 'ndjson' });
const PARQUET = fileSpec({ format: 'parquet' });

function shape(columns: readonly ColumnSchema[]): string[] {
  return columns.map((c) => `${c.name}:${typeToString(c.type)}`);
}

const int = (kind: 'int16' | 'int32' | 'int64'): CanonicalType => ({ kind });
const dec = (precision: number, scale: number): CanonicalType => ({ kind: 'decimal', precision, scale });

describe('describeFile', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openWorkspace();
  });
  afterAll(() => ws?.close());

  test('NDJSON: scalar fields typed, nested objects and arrays as json', async () => {
    const path = ws.write(
      'events.ndjson',
      '{"id": 1, "at": "2024-01-02 03:04:05", "ok": true, "tags": ["a"], "who": {"n": "x"}, "mixed": 1}\n' +
        '{"id": 2, "at": "2024-01-03 00:00:00", "ok": false, "tags": [], "who": {"n": "y"}, "mixed": "one"}\n',
    );
    const columns = await describeFile(ws.connection, path, NDJSON, 'in/events.ndjson');
    expect(shape(columns)).toEqual([
      'id:int64',
      'at:timestamp',
      'ok:bool',
      'tags:json',
      'who:json',
      'mixed:json',
    ]);
    expect(columns.find((c) => c.name === 'who')?.sourceType).toBe('STRUCT(n VARCHAR)');
  });

  test("nested values under nested: 'refuse' are SOURCE_DATA naming the file, the column and the setting", async () => {
    const path = ws.write('nested.ndjson', '{"id": 1, "tags": ["a", "b"]}\n');
    const error = await failure(
      describeFile(ws.connection, path, fileSpec({ format: 'ndjson', nested: 'refuse' }), 'in/nested.ndjson'),
    );
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toBe(
      `in/nested.ndjson: column "tags" holds nested values (VARCHAR[]) and nested is 'refuse'; set nested to 'json' to load them as JSON text`,
    );
  });

  test('Parquet nested columns (struct, list, map) as json, or refused', async () => {
    const path = `${ws.dir}/nested.parquet`;
    await ws.connection.run(
      `COPY (SELECT {'a': 1} AS s, [1, 2] AS l, MAP {'k': 1} AS m, [1, 2]::INTEGER[2] AS fixed) TO '${path}' (FORMAT parquet)`,
    );
    expect(shape(await describeFile(ws.connection, path, PARQUET, 'in/nested.parquet'))).toEqual([
      's:json',
      'l:json',
      'm:json',
      'fixed:json',
    ]);
    const error = await failure(
      describeFile(
        ws.connection,
        path,
        fileSpec({ format: 'parquet', nested: 'refuse' }),
        'in/nested.parquet',
      ),
    );
    expect(error.message).toContain('in/nested.parquet: column "s" holds nested values');
  });

  test('a type etld does not load (INTERVAL, TIME WITH TIME ZONE) is refused by name', async () => {
    const path = `${ws.dir}/odd.parquet`;
    await ws.connection.run(`COPY (SELECT 1 AS id, INTERVAL 2 DAY AS wait) TO '${path}' (FORMAT parquet)`);
    const error = await failure(describeFile(ws.connection, path, PARQUET, 'in/odd.parquet'));
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toContain(
      'in/odd.parquet: column "wait" has type INTERVAL, which etld cannot load',
    );
    const zoned = `${ws.dir}/timetz.parquet`;
    await ws.connection.run(`COPY (SELECT TIMETZ '12:00:00+02' AS t) TO '${zoned}' (FORMAT parquet)`);
    expect(
      (await failure(describeFile(ws.connection, zoned, PARQUET, 'in/timetz.parquet'))).message,
    ).toContain('has type TIME WITH TIME ZONE');
  });

  test('a Parquet decimal of more than 38 digits is refused instead of being read as a wrong DOUBLE', async () => {
    await runPyarrow(
      ws.dir,
      `
import sys, decimal
import pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({'big': pa.array([decimal.Decimal('1.5')], pa.decimal256(40, 2))}), sys.argv[1] + '/wide.parquet')
`,
    );
    const error = await failure(
      describeFile(ws.connection, `${ws.dir}/wide.parquet`, PARQUET, 'in/wide.parquet'),
    );
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toContain('in/wide.parquet: column "big" is a Parquet DECIMAL(40,2)');
  });

  test('Parquet with an outer compression is a configuration error', async () => {
    const path = `${ws.dir}/plain.parquet`;
    await ws.connection.run(`COPY (SELECT 1 AS id) TO '${path}' (FORMAT parquet)`);
    const error = await failure(
      describeFile(
        ws.connection,
        path,
        fileSpec({ format: 'parquet', compression: 'gzip' }),
        'in/plain.parquet',
      ),
    );
    expect(error.code).toBe('CONFIG_INVALID');
  });

  test('an empty NDJSON file (or one of blank lines) has no columns', async () => {
    expect(
      await describeFile(ws.connection, ws.write('empty.ndjson', ''), NDJSON, 'in/empty.ndjson'),
    ).toEqual([]);
    expect(
      await describeFile(ws.connection, ws.write('blank.ndjson', '\n \n'), NDJSON, 'in/blank.ndjson'),
    ).toEqual([]);
  });

  test('NDJSON fields evolving across files: a new field joins the batch, a changed type is refused', async () => {
    const first = ws.write('day1.ndjson', '{"id": 1, "amount": 10}\n{"id": 2, "amount": 12}\n');
    const second = ws.write('day2.ndjson', '{"id": 3, "amount": 7, "coupon": "X1"}\n');
    const third = ws.write('day3.ndjson', '{"id": 4, "amount": "seven"}\n');
    const described: { file: string; columns: ColumnSchema[] }[] = [];
    for (const [file, path] of [
      ['in/day1.ndjson', first],
      ['in/day2.ndjson', second],
    ] as const) {
      described.push({ file, columns: await describeFile(ws.connection, path, NDJSON, file) });
    }
    const merged = mergeFileSchemas(described);
    expect(shape(merged)).toEqual(['id:int64', 'amount:int64', 'coupon:text']);
    expect(merged.every((c) => c.nullable)).toBe(true);
    const out = await ws.extract(first, NDJSON, merged);
    expect(out.text.split('\n')[0]).toBe('1,10,,in/day1.ndjson,2026-12-01 10:04:05.25+00');

    described.push({
      file: 'in/day3.ndjson',
      columns: await describeFile(ws.connection, third, NDJSON, 'in/day3.ndjson'),
    });
    const error = await failure(Promise.resolve().then(() => mergeFileSchemas(described)));
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('column "amount" is int64 in in/day1.ndjson but text in in/day3.ndjson');
  });
});

describe('mergeFileSchemas', () => {
  const merge = (a: CanonicalType, b: CanonicalType): string =>
    shape(
      mergeFileSchemas([
        { file: 'a', columns: [column('x', a)] },
        { file: 'b', columns: [column('x', b)] },
      ]),
    )[0] ?? '';

  test('a union by name in first-seen order; every column nullable', () => {
    const merged = mergeFileSchemas([
      {
        file: 'a',
        columns: [column('id', int('int64')), { ...column('name', { kind: 'text' }), nullable: false }],
      },
      { file: 'b', columns: [column('extra', { kind: 'bool' }), column('id', int('int64'))] },
      { file: 'c', columns: [] },
    ]);
    expect(shape(merged)).toEqual(['id:int64', 'name:text', 'extra:bool']);
    expect(merged.every((c) => c.nullable)).toBe(true);
  });

  test('widenings: integers, floats, decimals, integers into decimals', () => {
    expect(merge(int('int16'), int('int64'))).toBe('x:int64');
    expect(merge(int('int64'), int('int32'))).toBe('x:int64');
    expect(merge({ kind: 'float32' }, { kind: 'float64' })).toBe('x:float64');
    expect(merge(dec(10, 2), dec(12, 4))).toBe('x:decimal(12,4)');
    expect(merge(dec(20, 0), dec(10, 8))).toBe('x:decimal(28,8)');
    expect(merge(int('int32'), dec(10, 2))).toBe('x:decimal(12,2)');
    expect(merge(dec(4, 1), int('int64'))).toBe('x:decimal(20,1)');
  });

  test('a widened column keeps the source type of the file whose type won', () => {
    const merged = mergeFileSchemas([
      { file: 'a', columns: [{ ...column('x', int('int32')), sourceType: 'INTEGER' }] },
      { file: 'b', columns: [{ ...column('x', int('int64')), sourceType: 'BIGINT' }] },
      { file: 'c', columns: [{ ...column('y', dec(4, 1)), sourceType: 'DECIMAL(4,1)' }] },
      { file: 'd', columns: [{ ...column('y', dec(4, 3)), sourceType: 'DECIMAL(4,3)' }] },
    ]);
    expect(merged.map((c) => c.sourceType)).toEqual(['BIGINT', 'DECIMAL(6,3)']);
  });

  test('anything else is SCHEMA_MISMATCH naming the column, both types and both files', () => {
    const cases: [CanonicalType, CanonicalType][] = [
      [int('int64'), { kind: 'text' }],
      [int('int64'), { kind: 'float64' }],
      [dec(10, 2), { kind: 'float64' }],
      [dec(38, 0), dec(10, 5)],
      [int('int64'), dec(38, 20)],
      [{ kind: 'timestamp' }, { kind: 'timestamptz' }],
      [{ kind: 'json' }, { kind: 'text' }],
    ];
    for (const [a, b] of cases) {
      let thrown: unknown;
      try {
        merge(a, b);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({
        code: 'SCHEMA_MISMATCH',
        message: expect.stringContaining(`column "x" is ${typeToString(a)} in a but ${typeToString(b)} in b`),
      });
    }
  });
});

describe('readDuckType', () => {
  test('the mapping of types no test file writes', () => {
    expect(readDuckType('HUGEINT')).toEqual({ kind: 'canonical', type: dec(38, 0) });
    expect(readDuckType('USMALLINT')).toEqual({ kind: 'canonical', type: int('int32') });
    expect(readDuckType('UINTEGER')).toEqual({ kind: 'canonical', type: int('int64') });
    expect(readDuckType('TIMESTAMP_MS')).toEqual({ kind: 'canonical', type: { kind: 'timestamp' } });
    expect(readDuckType("ENUM('a', 'b')")).toEqual({ kind: 'canonical', type: { kind: 'text' } });
    expect(readDuckType('STRUCT(a INTEGER)[]')).toEqual({ kind: 'nested' });
    expect(readDuckType('MAP(VARCHAR, INTEGER)')).toEqual({ kind: 'nested' });
    for (const refused of [
      'UHUGEINT',
      'BIT',
      'UNION(a INTEGER, b VARCHAR)',
      'VARIANT',
      'INTERVAL',
      'BIGNUM',
    ]) {
      expect(readDuckType(refused)).toEqual({ kind: 'unsupported' });
    }
  });
});
