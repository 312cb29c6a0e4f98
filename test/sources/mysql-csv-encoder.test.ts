import { describe, expect, test } from 'vitest';
import { MysqlCsvEncoder } from '../../daemon/sources/mysql/mysql-csv-encoder.js';
import { EtlError } from '../../shared/errors.js';
import type { CanonicalType, ColumnSchema } from '../../shared/types.js';

const WHAT = 'mysql source "t"';

function col(name: string, type: CanonicalType): ColumnSchema {
  return { name, type, nullable: true };
}

/** A length-encoded integer as the text protocol writes it. */
function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x1_0000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x100_0000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeUInt32LE(n % 0x1_0000_0000, 1);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 5);
  return b;
}

/** A row payload: each cell as text (UTF-8), raw bytes, or NULL. */
function row(...cells: (string | Buffer | null)[]): Buffer {
  return Buffer.concat(
    cells.map((cell) => {
      if (cell === null) return Buffer.from([0xfb]);
      const bytes = typeof cell === 'string' ? Buffer.from(cell, 'utf8') : cell;
      return Buffer.concat([lenenc(bytes.length), bytes]);
    }),
  );
}

/** Encodes `payload` placed at an offset inside a larger buffer, as mysql2 hands it over. */
function encode(encoder: MysqlCsvEncoder, payload: Buffer, rowNumber = 1): string {
  const framed = Buffer.concat([Buffer.from('head'), payload, Buffer.from([0xfb, 0xfb, 0x05])]);
  const out = Buffer.alloc(encoder.worstCaseBytes(payload.length));
  const end = encoder.encodeRow(framed, 4, 4 + payload.length, out, 0, rowNumber);
  return out.subarray(0, end).toString('utf8');
}

function thrown(fn: () => unknown): EtlError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EtlError) return error;
    throw error;
  }
  throw new Error('expected an EtlError');
}

describe('MysqlCsvEncoder', () => {
  const text = new MysqlCsvEncoder([col('a', { kind: 'text' }), col('b', { kind: 'text' })], 'null', WHAT);

  test('NULL is an empty field, an empty string is "" and plain text is copied', () => {
    expect(encode(text, row(null, ''))).toBe(',""\n');
    expect(encode(text, row('plain', 'tab\tback\\slash'))).toBe('plain,tab\tback\\slash\n');
    expect(encode(text, row('NULL', null))).toBe('NULL,\n');
  });

  test('quotes, commas, LF and CR are quoted with the quotes doubled; 4-byte UTF-8 passes through', () => {
    expect(encode(text, row('say "hi"', 'a,b'))).toBe('"say ""hi""","a,b"\n');
    expect(encode(text, row('line\nbreak', 'cr\r'))).toBe('"line\nbreak","cr\r"\n');
    expect(encode(text, row('"', '😀 漢字'))).toBe('"""",😀 漢字\n');
  });

  test('cell lengths in every length-encoded form: 1, 2, 3 and 8 bytes', () => {
    for (const size of [250, 251, 0xffff, 0x1_0000, 0x12_3456]) {
      const value = 'x'.repeat(size);
      expect(encode(text, row(value, 'y'))).toBe(`${value},y\n`);
    }
    // The 8-byte form for a small length: legal, only unusual.
    const eightByte = Buffer.from([0xfe, 3, 0, 0, 0, 0, 0, 0, 0]);
    expect(encode(text, Buffer.concat([eightByte, Buffer.from('abc'), row('d')]))).toBe('abc,d\n');
  });

  test('dates: zero dates and partial zero dates become NULL, other dates are copied', () => {
    const dates = new MysqlCsvEncoder(
      [col('d', { kind: 'date' }), col('ts', { kind: 'timestamp' }), col('tz', { kind: 'timestamptz' })],
      'null',
      WHAT,
    );
    expect(encode(dates, row('0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000'))).toBe(
      ',,\n',
    );
    expect(encode(dates, row('2020-00-15', '2020-05-00 10:00:00', null))).toBe(',,\n');
    expect(encode(dates, row('1969-07-20', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01'))).toBe(
      '1969-07-20,9999-12-31 23:59:59.999999,1970-01-01 00:00:01+00\n',
    );
    // Too short to hold a month or day: not a zero date (as the string check before).
    expect(encode(dates, row('00', '0000-0', ''))).toBe('00,0000-0,+00\n');
  });

  test("zero_dates: 'error' names the column and row, never the value", () => {
    const strict = new MysqlCsvEncoder(
      [col('id', { kind: 'int32' }), col('d', { kind: 'date' })],
      'error',
      WHAT,
    );
    const error = thrown(() => encode(strict, row('7', '2020-00-15'), 42));
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('"d"');
    expect(error.message).toContain('row 42');
    expect(error.message).not.toContain('2020-00-15');
  });

  test('tinyint(1) as bool: 1 → t, 0 → f, anything else fails without quoting the value', () => {
    const bools = new MysqlCsvEncoder([col('flag', { kind: 'bool' })], 'null', WHAT);
    expect(encode(bools, row('1'))).toBe('t\n');
    expect(encode(bools, row('0'))).toBe('f\n');
    expect(encode(bools, row(null))).toBe('\n');
    for (const bad of ['2', '-1', '10', '']) {
      const error = thrown(() => encode(bools, row(bad), 3));
      expect(error.code).toBe('SOURCE_DATA');
      expect(error.message).toContain('"flag"');
      expect(error.message).not.toMatch(/holds -?\d/);
    }
  });

  test('a packet that does not hold one cell per column is a retryable connection error', () => {
    for (const payload of [
      row('only one'),
      Buffer.from([0x05, 0x61]),
      Buffer.from([0xff, 0x00]),
      Buffer.from([0xfc, 0x10]),
      Buffer.from([0xfe, 0x01, 0x00]),
    ]) {
      const error = thrown(() => encode(text, payload));
      expect(error.code).toBe('SOURCE_CONNECTION');
      expect(error.retryable).toBe(true);
    }
  });

  test('every column type that is copied as text is quoted by the same rule', () => {
    const kinds: CanonicalType[] = [
      { kind: 'int64' },
      { kind: 'decimal', precision: 10, scale: 2 },
      { kind: 'float64' },
      { kind: 'bytes' },
      { kind: 'json' },
      { kind: 'uuid' },
      { kind: 'time' },
    ];
    const encoder = new MysqlCsvEncoder(
      kinds.map((type, i) => col(`c${i}`, type)),
      'null',
      WHAT,
    );
    expect(
      encode(
        encoder,
        row('-9223372036854775808', '-12.34', '1.7976931348623157e308', '00ff', '{"a": "b,c"}', null, ''),
      ),
    ).toBe('-9223372036854775808,-12.34,1.7976931348623157e308,00ff,"{""a"": ""b,c""}",,""\n');
  });
});
