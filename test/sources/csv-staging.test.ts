import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stagingCsvSelect } from '../../daemon/engine/csv-staging.js';
import { CsvBatchWriter, csvField } from '../../daemon/sources/csv-writer.js';
import { EtlError } from '../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';

const col = (name: string, type: CanonicalType): ColumnSchema => ({ name, type, nullable: true });

describe('stagingCsvSelect', () => {
  let duck: DuckDBConnection;
  let dir: string;
  beforeAll(async () => {
    duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run("SET TimeZone = 'UTC'");
    dir = mkdtempSync(join(tmpdir(), 'etld-staging-'));
  });
  afterAll(() => {
    duck?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function read(content: string | string[], columns: ColumnSchema[]): Promise<unknown[][]> {
    const parts = Array.isArray(content) ? content : [content];
    const files = parts.map((text, i) => {
      const file = join(dir, `f-${Math.random().toString(36).slice(2)}-${i}.csv`);
      writeFileSync(file, text);
      return file;
    });
    const list = columns.map((c) => {
      const id = `"${c.name.replaceAll('"', '""')}"`;
      return c.type.kind === 'bytes'
        ? `lower(hex(${id}))`
        : c.type.kind === 'timestamptz'
          ? `epoch_us(${id})`
          : id;
    });
    const reader = await duck.runAndReadAll(
      `SELECT ${list.join(', ')} FROM (${stagingCsvSelect(files, columns)})`,
    );
    return reader.getRows();
  }

  test('reads several files, keeps NULL and empty string apart and types every column', async () => {
    const columns = [
      col('id', { kind: 'int64' }),
      col('name', { kind: 'text' }),
      col('ok', { kind: 'bool' }),
      col('raw', { kind: 'bytes' }),
      col('amount', { kind: 'decimal', precision: 38, scale: 10 }),
    ];
    const rows = await read(['1,"a,""b""\nc",t,00ff,-12.5\n', '2,"",f,,\n3,,,"",0\n'], columns);
    expect(
      rows.map((r) => [
        String(r[0]),
        r[1],
        r[2],
        r[3],
        r[4] === null ? null : (r[4] as { toString(): string }).toString(),
      ]),
    ).toEqual([
      ['1', 'a,"b"\nc', true, '00ff', '-12.5000000000'],
      ['2', '', false, null, null],
      ['3', null, null, '', '0.0000000000'],
    ]);
  });

  test('an empty staging file gives no rows', async () => {
    expect(await read('', [col('id', { kind: 'int32' })])).toEqual([]);
  });

  test('a value that does not convert fails naming the column and its type, never the value', async () => {
    const cases: [ColumnSchema, string][] = [
      [col('qty', { kind: 'int32' }), '12x'],
      [col('small', { kind: 'int16' }), '70000'],
      [col('flag', { kind: 'bool' }), 'yes'],
      [col('blob', { kind: 'bytes' }), 'zz'],
      [col('day', { kind: 'date' }), '2024-02-30'],
      [col('at', { kind: 'timestamptz' }), 'not a time'],
      [col('price', { kind: 'decimal', precision: 4, scale: 2 }), '123.45'],
    ];
    for (const [column, value] of cases) {
      const error = await read(`${value}\n`, [column]).catch((e: unknown) => e);
      expect(error, column.name).toBeInstanceOf(Error);
      expect((error as Error).message, column.name).toContain(
        `column "${column.name}" holds a value that is not a valid`,
      );
      expect((error as Error).message, column.name).not.toContain(value);
    }
  });

  test('timestamptz text with +00 is read as that instant', async () => {
    const rows = await read('2020-02-29 18:59:59.123456+00\n', [col('at', { kind: 'timestamptz' })]);
    expect(String(rows[0]?.[0])).toBe(String(BigInt(Date.UTC(2020, 1, 29, 18, 59, 59)) * 1000n + 123456n));
  });

  test('lines longer than DuckDB’s default 2 MB limit are read', async () => {
    const big = 'ab'.repeat(1_500_000);
    const rows = await read(`1,${big}\n`, [col('id', { kind: 'int32' }), col('payload', { kind: 'bytes' })]);
    expect(rows[0]?.[1]).toBe(big);
  });

  test('refuses an empty file list or column list', () => {
    expect(() => stagingCsvSelect([], [col('a', { kind: 'text' })])).toThrow(EtlError);
    expect(() => stagingCsvSelect(['x.csv'], [])).toThrow(EtlError);
  });

  test('quotes file names and column names', () => {
    const sql = stagingCsvSelect(["/tmp/it's.csv"], [col('we"ird', { kind: 'text' })]);
    expect(sql).toContain("['/tmp/it''s.csv']");
    expect(sql).toContain('AS "we""ird"');
  });
});

describe('CsvBatchWriter', () => {
  test('escapes only what needs quoting and keeps NULL apart from empty text', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField('tab\tback\\slash')).toBe('tab\tback\\slash');
  });

  test('pauses the producer while the sink is full and resumes it on drain', async () => {
    const received: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        setImmediate(callback);
      },
    });
    const events: string[] = [];
    const writer = new CsvBatchWriter(
      sink,
      { pause: () => events.push('pause'), resume: () => events.push('resume') },
      32,
    );
    for (let i = 0; i < 10; i++) writer.writeRow([String(i), 'some text, with a comma', null]);
    writer.flush();
    // The driver ends the sink only after its last row, i.e. never while paused.
    if (sink.writableNeedDrain) await once(sink, 'drain');
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(events[0]).toBe('pause');
    expect(events.filter((e) => e === 'pause').length).toBe(events.filter((e) => e === 'resume').length);
    const text = Buffer.concat(received).toString('utf8');
    expect(text.split('\n').length).toBe(11);
    expect(text.startsWith('0,"some text, with a comma",\n1,')).toBe(true);
    expect(writer.rows).toBe(10);
    expect(writer.bytes).toBe(Buffer.byteLength(text));
  });
});
