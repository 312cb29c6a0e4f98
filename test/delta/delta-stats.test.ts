import { DuckDBInstance } from '@duckdb/node-api';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StructField, StructType } from '../../daemon/destinations/delta/delta-schema.js';
import {
  encodeStats,
  leafKey,
  leafStatsFromJson,
  parseStatsKey,
  truncateMax,
  truncateMin,
} from '../../daemon/destinations/delta/delta-stats.js';
import { fixture, tempDir } from './fixtures.js';

/** Renames every field to its column-mapping physical name, as the data files and stats use them. */
function physical(fields: readonly StructField[]): StructField[] {
  return fields.map((f) => {
    const mapped = f.metadata['delta.columnMapping.physicalName'];
    const name = typeof mapped === 'string' ? mapped : f.name;
    const type =
      typeof f.type === 'object' && f.type.type === 'struct'
        ? { type: 'struct' as const, fields: physical(f.type.fields) }
        : f.type;
    return { ...f, name, type };
  });
}

describe('delta stats encoder', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('stats'));
  });
  afterAll(async () => cleanup());

  it('reproduces Spark stats of stats-writing-all-types exactly', async () => {
    const table = fixture('stats-writing-all-types', 'delta');
    const lines = (await readFile(join(table, '_delta_log', '00000000000000000000.json'), 'utf8'))
      .trim()
      .split('\n');
    const meta = lines
      .map((l) => JSON.parse(l) as { metaData?: { schemaString: string } })
      .find((a) => a.metaData)?.metaData;
    const commit = (await readFile(join(table, '_delta_log', '00000000000000000001.json'), 'utf8'))
      .trim()
      .split('\n');
    const add = commit
      .map((l) => JSON.parse(l) as { add?: { path: string; stats: string } })
      .find((a) => a.add)?.add;
    expect(meta).toBeDefined();
    expect(add).toBeDefined();
    if (!meta || !add) return;
    const logical = JSON.parse(meta.schemaString) as StructType;
    const schema: StructType = { type: 'struct', fields: physical(logical.fields) };

    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      await connection.run("SET TimeZone='UTC'");
      const source = `read_parquet('${join(table, add.path)}')`;
      // Spark wrote the `timestamp` column as INT96, which DuckDB reads as TIMESTAMP; our writer
      // always holds Delta timestamps as TIMESTAMPTZ.
      const tsField = schema.fields.find((f) => f.type === 'timestamp');
      const select = `SELECT * REPLACE (CAST("${tsField?.name}" AS TIMESTAMPTZ) AS "${tsField?.name}") FROM ${source}`;
      const result = await connection.runAndReadAll(
        `COPY (${select}) TO '${join(dir, 'golden.parquet')}' (FORMAT parquet, COMPRESSION snappy, RETURN_STATS)`,
      );
      const row = result.getRowObjectsJson()[0];
      expect(row).toBeDefined();
      const nested = new Map<string, number>();
      for (const field of schema.fields) {
        if (typeof field.type === 'object' && field.type.type !== 'struct') {
          const counted = await connection.runAndReadAll(
            `SELECT count(*) - count("${field.name}") AS n FROM ${source}`,
          );
          nested.set(leafKey([field.name]), Number(counted.getRowObjectsJson()[0]?.n));
        }
      }
      const stats = encodeStats(schema, Number(row?.count), leafStatsFromJson(row?.column_statistics), {
        numIndexedCols: 32,
        nestedNullCounts: nested,
      });
      expect(stats).toBe(add.stats);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  it('keeps int64 and decimal digits, floors timestamps (also before 1970) and drops NaN bounds', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'big', type: 'long', nullable: true, metadata: {} },
        { name: 'dec', type: 'decimal(38,10)', nullable: true, metadata: {} },
        { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
        { name: 'ntz', type: 'timestamp_ntz', nullable: true, metadata: {} },
        { name: 'f', type: 'double', nullable: true, metadata: {} },
        { name: 'allnull', type: 'string', nullable: true, metadata: {} },
        { name: 'b', type: 'boolean', nullable: true, metadata: {} },
      ],
    };
    const leaves = new Map<string, Record<string, string>>([
      ['big', { min: '-9223372036854775808', max: '9223372036854775807', null_count: '0' }],
      ['dec', { min: '-9999999999999999999999999999.9999999999', max: '0.0000000001', null_count: '1' }],
      ['ts', { min: '1969-12-31 23:59:59.9995+00', max: '2023-06-15 12:30:00.9985+00', null_count: '0' }],
      ['ntz', { min: '2000-01-01 00:00:00', max: '2000-01-01 00:00:00.000999', null_count: '0' }],
      ['f', { min: '1.5', max: '2.5', null_count: '0', has_nan: 'true' }],
      ['allnull', { null_count: '3' }],
      ['b', { min: '0', max: '1', null_count: '0' }],
    ]);
    const stats = encodeStats(schema, 3, leaves, { numIndexedCols: 32 });
    expect(stats).toBe(
      '{"numRecords":3,' +
        '"minValues":{"big":-9223372036854775808,"dec":-9999999999999999999999999999.9999999999,"ts":"1969-12-31T23:59:59.999Z","ntz":"2000-01-01T00:00:00.000"},' +
        '"maxValues":{"big":9223372036854775807,"dec":0.0000000001,"ts":"2023-06-15T12:30:00.998Z","ntz":"2000-01-01T00:00:00.000"},' +
        '"nullCount":{"big":0,"dec":1,"ts":0,"ntz":0,"f":0,"allnull":3,"b":0}}',
    );
    // Parsing as JSON with a lossy reader still sees a valid document.
    expect(() => JSON.parse(stats) as unknown).not.toThrow();
  });

  it('limits stats to the first indexed columns', () => {
    const schema: StructType = {
      type: 'struct',
      fields: ['a', 'b', 'c'].map((name) => ({ name, type: 'integer', nullable: true, metadata: {} })),
    };
    const leaves = new Map(['a', 'b', 'c'].map((n) => [n, { min: '1', max: '2', null_count: '0' }]));
    expect(encodeStats(schema, 2, leaves, { numIndexedCols: 2 })).toBe(
      '{"numRecords":2,"minValues":{"a":1,"b":1},"maxValues":{"a":2,"b":2},"nullCount":{"a":0,"b":0}}',
    );
  });

  it('refuses bounds it cannot encode faithfully', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        { name: 'd', type: 'double', nullable: true, metadata: {} },
        { name: 't', type: 'timestamp', nullable: true, metadata: {} },
      ],
    };
    const leaves = new Map([
      ['d', { min: '-inf', max: 'inf', null_count: '0' }],
      ['t', { min: '0044-03-15 (BC) 12:00:00+00', max: '2000-01-01 00:00:00', null_count: '0' }],
    ]);
    expect(encodeStats(schema, 1, leaves, { numIndexedCols: 32 })).toBe(
      '{"numRecords":1,"minValues":{},"maxValues":{},"nullCount":{"d":0,"t":0}}',
    );
  });

  it('truncates strings like Spark', () => {
    const long = 'a'.repeat(40);
    expect(truncateMin(long)).toBe('a'.repeat(32));
    expect(truncateMax(long)).toBe('a'.repeat(32) + '\u007f');
    expect(truncateMax('short')).toBe('short');
    const accented = 'a'.repeat(32) + 'é' + 'b';
    expect(truncateMax(accented)).toBe('a'.repeat(32) + '\u{10ffff}');
    // Cut characters that already sort last push the cut further; past 64 characters max is dropped.
    expect(truncateMax('a'.repeat(32) + '\u{10ffff}'.repeat(40))).toBeUndefined();
    expect(truncateMin('é'.repeat(40))).toBe('é'.repeat(32));
  });

  it('parses DuckDB stats keys', () => {
    expect(parseStatsKey('"a"')).toEqual(['a']);
    expect(parseStatsKey('"s"."in""ner"')).toEqual(['s', 'in"ner']);
    expect(parseStatsKey('"col-1".element')).toEqual(['col-1', 'element']);
  });
});
