/**
 * The text forms `extractFile` writes, type by type, for Parquet files written by DuckDB and by
 * pyarrow (an independent writer), each checked byte for byte and read back by the engine's
 * staging reader.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeFile, mergeFileSchemas } from '../../../daemon/sources/files/file-schema.js';
import { typeToString } from '../../../shared/types.js';
import {
  column,
  fileSpec,
  MODIFIED_AT,
  openWorkspace,
  runPyarrow,
  stageBack,
  type Workspace,
} from './file-reader-fixtures.js';

const PARQUET = fileSpec({ format: 'parquet' });
const META = `in/%s,2026-12-01 10:04:05.25+00`;

describe('extractFile text forms', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openWorkspace();
  });
  afterAll(() => ws?.close());

  // JSON columns keep their text as written; nested values are rendered by DuckDB's to_json.
  test('every canonical type from a DuckDB-written Parquet file, in the staging contract form', async () => {
    const path = `${ws.dir}/types.parquet`;
    await ws.connection.run(`COPY (SELECT * FROM (VALUES
      (1::SMALLINT, 2::INTEGER, 9007199254740993::BIGINT, 0.1::FLOAT, (0.1::DOUBLE + 0.2::DOUBLE),
       (-12.34)::DECIMAL(12,4), true, 'a"b,c' || chr(10) || 'd', '\\xAB\\x01'::BLOB, DATE '2024-01-02',
       TIME '01:02:03.000004', TIMESTAMP '2024-01-02 03:04:05.000006', TIMESTAMPTZ '2024-01-02 03:04:05.25+02',
       '{"a": [1, 2]}'::JSON, 'A2345678-1234-5678-1234-567812345678'::UUID, {'x': 1, 'y': 'q'}, [1, 2], 255::UTINYINT,
       18446744073709551615::UBIGINT, TIMESTAMP_NS '2024-01-02 03:04:05.123456789'),
      (NULL, NULL, NULL, 'nan'::FLOAT, 'inf'::DOUBLE, 0.5::DECIMAL(12,4), false, '', ''::BLOB, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, [], NULL, NULL, NULL),
      ((-32768)::SMALLINT, NULL, (-9223372036854775808)::BIGINT, '-inf'::FLOAT, '-0.0'::DOUBLE, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
    ) AS t(i16, i32, i64, f32, f64, dec, b, s, raw, d, tm, ts, tstz, js, u, st, li, ut, ub, tsns))
    TO '${path}' (FORMAT parquet)`);
    const described = await describeFile(ws.connection, path, PARQUET, 'in/types.parquet');
    expect(described.map((c) => `${c.name}:${typeToString(c.type)}:${c.sourceType}`)).toEqual([
      'i16:int16:SMALLINT',
      'i32:int32:INTEGER',
      'i64:int64:BIGINT',
      'f32:float32:FLOAT',
      'f64:float64:DOUBLE',
      'dec:decimal(12,4):DECIMAL(12,4)',
      'b:bool:BOOLEAN',
      's:text:VARCHAR',
      'raw:bytes:BLOB',
      'd:date:DATE',
      'tm:time:TIME',
      'ts:timestamp:TIMESTAMP',
      'tstz:timestamptz:TIMESTAMP WITH TIME ZONE',
      'js:json:JSON',
      'u:uuid:UUID',
      'st:json:STRUCT(x INTEGER, y VARCHAR)',
      'li:json:INTEGER[]',
      'ut:int16:UTINYINT',
      'ub:decimal(20,0):UBIGINT',
      'tsns:timestamp:TIMESTAMP_NS',
    ]);
    expect(described.every((c) => c.nullable)).toBe(true);
    const columns = mergeFileSchemas([{ file: 'in/types.parquet', columns: described }]);
    const out = await ws.extract(path, PARQUET, columns);
    const meta = META.replace('%s', 'types.parquet');
    expect(out.text).toBe(
      `1,2,9007199254740993,0.1,0.30000000000000004,-12.3400,t,"a""b,c\nd",ab01,2024-01-02,01:02:03.000004,` +
        `2024-01-02 03:04:05.000006,2024-01-02 01:04:05.25+00,"{""a"": [1, 2]}",a2345678-1234-5678-1234-567812345678,` +
        `"{""x"":1,""y"":""q""}","[1,2]",255,18446744073709551615,2024-01-02 03:04:05.123456,${meta}\n` +
        `,,,NaN,Infinity,0.5000,f,"","",,,,,,,,[],,,,${meta}\n` +
        `-32768,,-9223372036854775808,-Infinity,-0.0,,,,,,,,,,,,,,,,${meta}\n`,
    );
    expect(out.rows).toBe(3);
    expect(out.bytes).toBe(Buffer.byteLength(out.text));

    const staged = await stageBack(ws.connection, out.outputPath, columns);
    expect(staged[0]?.slice(0, 8)).toEqual([
      '1',
      '2',
      '9007199254740993',
      '0.1',
      '0.30000000000000004',
      '-12.3400',
      'true',
      'a"b,c\nd',
    ]);
    expect(staged[0]?.[8]).toBe('ab01');
    expect(staged[0]?.[12]).toBe(String(Date.UTC(2024, 0, 2, 1, 4, 5, 250) * 1000));
    expect(staged[1]?.slice(3, 9)).toEqual(['nan', 'inf', '0.5000', 'false', '', '']);
    expect(staged[1]?.[0]).toBeNull();
    expect(staged[2]?.slice(-2)).toEqual([`in/types.parquet`, String(MODIFIED_AT.getTime() * 1000)]);
  });

  test('infinite dates and timestamps stay bare words, as the staging reader expects them', async () => {
    const path = `${ws.dir}/infinite.parquet`;
    await ws.connection.run(
      `COPY (SELECT 'infinity'::DATE AS d, '-infinity'::TIMESTAMP AS ts, 'infinity'::TIMESTAMPTZ AS tz) TO '${path}' (FORMAT parquet)`,
    );
    const columns = await describeFile(ws.connection, path, PARQUET, 'in/infinite.parquet');
    const out = await ws.extract(path, PARQUET, columns);
    expect(out.text).toBe(`infinity,-infinity,infinity,${META.replace('%s', 'infinite.parquet')}\n`);
  });

  test('a pyarrow-written Parquet file: unsigned, nanosecond, zoned, UUID, JSON, dictionary and nested columns', async () => {
    await runPyarrow(
      ws.dir,
      `
import sys, datetime, decimal, uuid
import pyarrow as pa, pyarrow.parquet as pq
t = pa.table({
  'u8': pa.array([255, None], pa.uint8()),
  'u16': pa.array([65535, None], pa.uint16()),
  'u32': pa.array([4294967295, None], pa.uint32()),
  'u64': pa.array([2**64 - 1, None], pa.uint64()),
  'f16': pa.array([1.5, None], pa.float16()),
  'dec': pa.array([decimal.Decimal('-0.0100'), None], pa.decimal128(38, 4)),
  'ls': pa.array(['long', ''], pa.large_string()),
  'bin': pa.array([b'\\x00\\xff', b''], pa.large_binary()),
  'tns': pa.array([datetime.time(1, 2, 3, 4), None], pa.time64('ns')),
  't32': pa.array([datetime.time(23, 59, 59), None], pa.time32('ms')),
  'tsns': pa.array([1704164645123456789, None], pa.timestamp('ns')),
  'tss': pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp('s')),
  'tstz': pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc), None], pa.timestamp('us', tz='Europe/Paris')),
  'u': pa.array([uuid.UUID('12345678-1234-5678-1234-567812345678').bytes, None], pa.uuid()),
  'js': pa.array(['{"k": "v"}', None], pa.json_(pa.string())),
  'dict': pa.array(['x', 'y']).dictionary_encode(),
  'mp': pa.array([[('k', 1)], None], pa.map_(pa.string(), pa.int32())),
  'nest': pa.array([{'a': [1, None], 'b': {'c': 'd'}}, None]),
})
pq.write_table(t, sys.argv[1] + '/arrow.parquet')
`,
    );
    const path = `${ws.dir}/arrow.parquet`;
    const columns = await describeFile(ws.connection, path, PARQUET, 'in/arrow.parquet');
    expect(columns.map((c) => typeToString(c.type))).toEqual([
      'int16',
      'int32',
      'int64',
      'decimal(20,0)',
      'float32',
      'decimal(38,4)',
      'text',
      'bytes',
      'time',
      'time',
      'timestamp',
      'timestamp',
      'timestamptz',
      'uuid',
      'json',
      'text',
      'json',
      'json',
    ]);
    const out = await ws.extract(path, PARQUET, columns);
    expect(out.text).toBe(
      `255,65535,4294967295,18446744073709551615,1.5,-0.0100,long,00ff,01:02:03.000004,23:59:59,` +
        `2024-01-02 03:04:05.123456,2024-01-02 03:04:05,2024-01-02 03:04:05.000006+00,` +
        `12345678-1234-5678-1234-567812345678,"{""k"": ""v""}",x,"{""k"":1}",` +
        `"{""a"":[1,null],""b"":{""c"":""d""}}",${META.replace('%s', 'arrow.parquet')}\n` +
        `,,,,,,"","",,,,,,,,y,,,${META.replace('%s', 'arrow.parquet')}\n`,
    );
    const staged = await stageBack(ws.connection, out.outputPath, columns);
    expect(staged).toHaveLength(2);
  });

  test('batch columns the file lacks are NULL, and widened types are cast (int32 into int64, float32 into float64)', async () => {
    const path = `${ws.dir}/narrow.parquet`;
    await ws.connection.run(
      `COPY (SELECT 7::INTEGER AS id, 0.5::FLOAT AS f, 1.5::DECIMAL(4,1) AS d) TO '${path}' (FORMAT parquet)`,
    );
    const columns = [
      column('extra', { kind: 'text' }),
      column('f', { kind: 'float64' }),
      column('id', { kind: 'int64' }),
      column('d', { kind: 'decimal', precision: 20, scale: 3 }),
    ];
    const out = await ws.extract(path, PARQUET, columns);
    expect(out.text).toBe(`,0.5,7,1.500,${META.replace('%s', 'narrow.parquet')}\n`);
  });
});
