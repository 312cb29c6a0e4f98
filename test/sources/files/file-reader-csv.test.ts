/**
 * CSV files through describeFile + extractFile: dialects (quoted newlines, quotes, BOM, latin-1,
 * UTF-16, semicolons, no header, a null string), compression, batch columns in another order
 * or missing from the file, and file names DuckDB would otherwise read as glob patterns.
 */
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CSV_OPTIONS, type CsvOptions } from '../../../daemon/sources/files/file-read-spec.js';
import { describeFile } from '../../../daemon/sources/files/file-schema.js';
import { typeToString, type ColumnSchema } from '../../../shared/types.js';
import {
  column,
  failure,
  fileSpec,
  openWorkspace,
  stageBack,
  type Workspace,
} from './file-reader-fixtures.js';

const meta = (name: string): string => `in/${name},2026-12-01 10:04:05.25+00`;

function csvSpec(csv: Partial<CsvOptions> = {}, compression: 'none' | 'gzip' | 'zstd' = 'none') {
  return fileSpec({ format: 'csv', compression, csv: { ...DEFAULT_CSV_OPTIONS, ...csv } });
}

function shape(columns: readonly ColumnSchema[]): string[] {
  return columns.map((c) => `${c.name}:${typeToString(c.type)}`);
}

describe('CSV files', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openWorkspace();
  });
  afterAll(() => ws?.close());

  test('quoted newlines, embedded quotes and delimiters, and empty strings kept apart from NULL', async () => {
    const path = ws.write(
      'orders.csv',
      'id,amount,note,ok,day\n' +
        '1,12.5,"two\nlines",true,2024-01-02\n' +
        '2,-0.25,"say ""hi"", then go",false,\n' +
        '3,,"",,2024-02-29\n' +
        '4,1e3,,t,2024-03-01\n',
    );
    const spec = csvSpec();
    const columns = await describeFile(ws.connection, path, spec, 'in/orders.csv');
    expect(shape(columns)).toEqual(['id:int64', 'amount:float64', 'note:text', 'ok:bool', 'day:date']);
    const out = await ws.extract(path, spec, columns);
    expect(out.text).toBe(
      `1,12.5,"two\nlines",t,2024-01-02,${meta('orders.csv')}\n` +
        `2,-0.25,"say ""hi"", then go",f,,${meta('orders.csv')}\n` +
        `3,,"",,2024-02-29,${meta('orders.csv')}\n` +
        `4,1000.0,,t,2024-03-01,${meta('orders.csv')}\n`,
    );
    expect(out.rows).toBe(4);
    const staged = await stageBack(ws.connection, out.outputPath, columns);
    expect(staged.map((row) => row[2])).toEqual(['two\nlines', 'say "hi", then go', '', null]);
  });

  test('a UTF-8 byte-order mark is not part of the first column name', async () => {
    const path = ws.write('bom.csv', '\ufeffid,name\n1,é\n');
    const columns = await describeFile(ws.connection, path, csvSpec(), 'in/bom.csv');
    expect(shape(columns)).toEqual(['id:int64', 'name:text']);
    expect((await ws.extract(path, csvSpec(), columns)).text).toBe(`1,é,${meta('bom.csv')}\n`);
  });

  test('latin-1 with a semicolon delimiter is written as UTF-8', async () => {
    const path = ws.write('latin.csv', Buffer.from('id;city\n1;Zürich\n2;"a;b"\n', 'latin1'));
    const spec = csvSpec({ delimiter: ';', encoding: 'latin-1' });
    const columns = await describeFile(ws.connection, path, spec, 'in/latin.csv');
    expect((await ws.extract(path, spec, columns)).text).toBe(
      `1,Zürich,${meta('latin.csv')}\n2,a;b,${meta('latin.csv')}\n`,
    );
  });

  test('UTF-16 with its byte-order mark', async () => {
    const text = Buffer.from('id,name\n1,ñandú\n', 'utf16le');
    const path = ws.write('wide.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), text]));
    const spec = csvSpec({ encoding: 'utf-16' });
    const columns = await describeFile(ws.connection, path, spec, 'in/wide.csv');
    expect((await ws.extract(path, spec, columns)).text).toBe(`1,ñandú,${meta('wide.csv')}\n`);
  });

  test('without a header the columns are column0, column1…', async () => {
    const path = ws.write('plain.csv', '1,a\n2,b\n');
    const spec = csvSpec({ header: false });
    const columns = await describeFile(ws.connection, path, spec, 'in/plain.csv');
    expect(shape(columns)).toEqual(['column0:int64', 'column1:text']);
    expect((await ws.extract(path, spec, columns)).text).toBe(
      `1,a,${meta('plain.csv')}\n2,b,${meta('plain.csv')}\n`,
    );
  });

  test('a custom null string: it is NULL, a quoted one is text, an empty field is an empty string', async () => {
    const path = ws.write('nulls.csv', 'id,name,score\n1,NA,NA\n2,,7\n3,"NA",8\n');
    const spec = csvSpec({ nullString: 'NA' });
    const columns = await describeFile(ws.connection, path, spec, 'in/nulls.csv');
    expect(shape(columns)).toEqual(['id:int64', 'name:text', 'score:int64']);
    expect((await ws.extract(path, spec, columns)).text).toBe(
      `1,,,${meta('nulls.csv')}\n2,"",7,${meta('nulls.csv')}\n3,NA,8,${meta('nulls.csv')}\n`,
    );
  });

  test('gzip and zstd compressed files', async () => {
    const content = 'id,name\n1,a\n2,b\n';
    for (const [name, compression, bytes] of [
      ['rows.csv.gz', 'gzip', gzipSync(content)],
      ['rows.csv.zst', 'zstd', zstdCompressSync(Buffer.from(content))],
    ] as const) {
      const path = ws.write(name, bytes);
      const spec = csvSpec({}, compression);
      const columns = await describeFile(ws.connection, path, spec, `in/${name}`);
      expect(shape(columns)).toEqual(['id:int64', 'name:text']);
      const out = await ws.extract(path, spec, columns);
      expect(out.text).toBe(`1,a,${meta(name)}\n2,b,${meta(name)}\n`);
    }
  });

  test("the batch's order and types rule: missing columns are NULL, values convert to the batch type", async () => {
    const path = ws.write('subset.csv', 'b,a\n1,x\n2,y\n');
    const columns = [
      column('a', { kind: 'text' }),
      column('c', { kind: 'timestamptz' }),
      column('b', { kind: 'decimal', precision: 10, scale: 2 }),
    ];
    expect((await ws.extract(path, csvSpec(), columns)).text).toBe(
      `x,,1.00,${meta('subset.csv')}\ny,,2.00,${meta('subset.csv')}\n`,
    );
  });

  test('a file column the batch does not have is SCHEMA_MISMATCH naming the file and the column', async () => {
    const path = ws.write('extra.csv', 'a,surprise\n1,2\n');
    const error = await failure(ws.extract(path, csvSpec(), [column('a', { kind: 'int64' })]));
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('in/extra.csv');
    expect(error.message).toContain('column "surprise"');
  });

  test('rows starting with # are data, not comments', async () => {
    const path = ws.write('hash.csv', 'tag,n\n#first,1\n#second,2\n');
    const columns = await describeFile(ws.connection, path, csvSpec(), 'in/hash.csv');
    const out = await ws.extract(path, csvSpec(), columns);
    expect(out.rows).toBe(2);
    // DuckDB's writer quotes a leading #; the staging reader reads the same text.
    expect(out.text).toBe(`"#first",1,${meta('hash.csv')}\n"#second",2,${meta('hash.csv')}\n`);
    expect((await stageBack(ws.connection, out.outputPath, columns)).map((row) => row[0])).toEqual([
      '#first',
      '#second',
    ]);
  });

  test('a file name with glob characters reads that file, not its look-alikes', async () => {
    ws.write('look1.csv', 'v\nwrong\n');
    ws.write('lookX.csv', 'v\nwrong too\n');
    const path = ws.write('look[1]?*.csv', 'v\nright\n');
    const columns = await describeFile(ws.connection, path, csvSpec(), 'in/look[1]?*.csv');
    expect((await ws.extract(path, csvSpec(), columns)).text).toBe(`right,${meta('look[1]?*.csv')}\n`);
  });

  test('empty files (also compressed, also only a header) have no rows', async () => {
    const empty = ws.write('empty.csv', '');
    const blank = ws.write('blank.csv.gz', gzipSync('\n\n'));
    expect(await describeFile(ws.connection, empty, csvSpec(), 'in/empty.csv')).toEqual([]);
    expect(await describeFile(ws.connection, blank, csvSpec({}, 'gzip'), 'in/blank.csv.gz')).toEqual([]);
    const batch = [column('a', { kind: 'int64' })];
    expect(await ws.extract(empty, csvSpec(), batch)).toMatchObject({ text: '', rows: 0, bytes: 0 });
    expect(await ws.extract(blank, csvSpec({}, 'gzip'), batch)).toMatchObject({
      text: '',
      rows: 0,
      bytes: 0,
    });
    const header = ws.write('header.csv', 'a,b\n');
    expect(shape(await describeFile(ws.connection, header, csvSpec(), 'in/header.csv'))).toEqual([
      'a:text',
      'b:text',
    ]);
    expect(
      await ws.extract(header, csvSpec(), [column('a', { kind: 'int64' }), column('b', { kind: 'text' })]),
    ).toMatchObject({
      text: '',
      rows: 0,
    });
  });
});
