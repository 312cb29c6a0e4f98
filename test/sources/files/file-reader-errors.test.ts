/**
 * Bad files fail with SOURCE_DATA messages that name the file, the line and the column and what
 * was expected, never a value or a line of the file (each test plants a recognisable value and
 * checks it is absent), on errors provoked from real DuckDB and zlib.
 */
import { readFileSync } from 'node:fs';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { errorReason } from '../../../daemon/sources/files/file-read-errors.js';
import { extractFile } from '../../../daemon/sources/files/file-extract.js';
import { describeFile } from '../../../daemon/sources/files/file-schema.js';
import type { EtlError } from '../../../shared/errors.js';
import { column, failure, fileSpec, openWorkspace, type Workspace } from './file-reader-fixtures.js';

const CSV = fileSpec({ format: 'csv' });
const NDJSON = fileSpec({ format: 'ndjson' });
const PARQUET = fileSpec({ format: 'parquet' });
const SECRET = 'Jane-Doe-1970';

function expectClean(error: EtlError, ...absent: string[]): void {
  for (const text of [SECRET, ...absent]) expect(error.message).not.toContain(text);
  expect(error.message).not.toContain('/tmp');
  expect(error.retryable).toBe(false);
}

describe('file read errors', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openWorkspace();
  });
  afterAll(() => ws?.close());

  test('a non-numeric value in a numeric CSV column, past the type sample: file, line, column, type', async () => {
    let text = 'id,amount,name\n';
    for (let row = 1; row <= 5000; row += 1) text += `${row},${row === 4000 ? SECRET : row * 3},n${row}\n`;
    const path = ws.write('big.csv', text);
    const spec = fileSpec({ format: 'csv', sampleRows: 100 });
    const columns = await describeFile(ws.connection, path, spec, 'in/big.csv');
    expect(columns.map((c) => c.type.kind)).toEqual(['int64', 'int64', 'text']);
    const error = await failure(ws.extract(path, spec, columns));
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toBe(
      'in/big.csv line 4001, column "amount": holds a value that is not a valid int64',
    );
    expectClean(error, '4000,', 'n4000');
  });

  // Past the type sample: within it, DuckDB's sniffer refuses the whole file instead (next test).
  test('a CSV row with too many fields, an unclosed quote, bytes that are not UTF-8', async () => {
    const spec = fileSpec({ format: 'csv', sampleRows: 100 });
    const columns = [column('a', { kind: 'int64' }), column('b', { kind: 'text' })];
    const withRow = (name: string, bad: string): string => {
      let rows = 'a,b\n';
      for (let row = 1; row <= 3000; row += 1) rows += row === 2500 ? bad : `${row},x${row}\n`;
      return ws.write(name, Buffer.from(rows, 'latin1'));
    };

    const raggedError = await failure(ws.extract(withRow('ragged.csv', `5,6,${SECRET}\n`), spec, columns));
    expect(raggedError.message).toBe('in/ragged.csv line 2501: expected 2 columns, found 3');
    expectClean(raggedError);

    const unclosedError = await failure(ws.extract(withRow('unclosed.csv', `3,"${SECRET}\n`), spec, columns));
    expect(unclosedError.message).toBe('in/unclosed.csv line 2501: a quoted value is not closed');
    expectClean(unclosedError);

    const latinError = await failure(ws.extract(withRow('latin.csv', `3,${SECRET}\u00e9\n`), spec, columns));
    expect(latinError.message).toBe('in/latin.csv line 2501: not valid utf-8 text (check the encoding)');
    expectClean(latinError);
  });

  test('a CSV the configured dialect cannot read at all', async () => {
    const path = ws.write('odd.csv', `a,b\n1,2\n${SECRET},2,3,4\n5\n`);
    const error = await failure(describeFile(ws.connection, path, CSV, 'in/odd.csv'));
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toMatch(/^in\/odd\.csv: not readable as utf-8 CSV with delimiter ","/);
    expectClean(error);
  });

  test('an NDJSON value of the wrong type: the line and the column found by re-reading', async () => {
    const path = ws.write(
      'typed.ndjson',
      `{"id": 1, "n": 1, "m": 2}\n{"id": 2, "n": 3, "m": 4}\n{"id": 3, "n": 5, "m": "${SECRET}"}\n`,
    );
    const spec = fileSpec({ format: 'ndjson', sampleRows: 1 });
    const columns = await describeFile(ws.connection, path, spec, 'in/typed.ndjson');
    const error = await failure(ws.extract(path, spec, columns));
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toBe('in/typed.ndjson line 3, column "m": holds a value that is not a valid int64');
    expectClean(error);
  });

  test('NDJSON that is not JSON, or not objects', async () => {
    const broken = ws.write('broken.ndjson', `{"id": 1}\n{"id": "${SECRET}\n`);
    const brokenError = await failure(ws.extract(broken, NDJSON, [column('id', { kind: 'int64' })]));
    expect(brokenError.message).toMatch(
      /^in\/broken\.ndjson is corrupt or truncated \(line \d+ is not valid JSON/,
    );
    expectClean(brokenError);

    const arrays = ws.write('arrays.ndjson', `["${SECRET}"]\n`);
    const arrayError = await failure(describeFile(ws.connection, arrays, NDJSON, 'in/arrays.ndjson'));
    expect(arrayError.message).toBe(
      'in/arrays.ndjson: a line is not a JSON object (each line of NDJSON must be one object)',
    );
  });

  test('corrupt gzip that DuckDB reads without complaint: a flipped CRC, a damaged block', async () => {
    let text = 'id,name\n';
    for (let row = 1; row <= 3000; row += 1) text += `${row},${SECRET}\n`;
    const gzip = gzipSync(text);
    const columns = [column('id', { kind: 'int64' }), column('name', { kind: 'text' })];
    const spec = fileSpec({ format: 'csv', compression: 'gzip' });

    const crc = Buffer.from(gzip);
    crc[crc.length - 6] = (crc[crc.length - 6] ?? 0) ^ 0xff;
    const crcError = await failure(ws.extract(ws.write('crc.csv.gz', crc), spec, columns));
    expect(crcError.code).toBe('SOURCE_DATA');
    expect(crcError.message).toBe('in/crc.csv.gz is corrupt or truncated (gzip: incorrect data check)');

    const truncated = gzip.subarray(0, Math.floor(gzip.length / 2));
    const truncatedError = await failure(ws.extract(ws.write('half.csv.gz', truncated), spec, columns));
    expect(truncatedError.message).toBe(
      'in/half.csv.gz is corrupt or truncated (gzip: unexpected end of file)',
    );
    expectClean(truncatedError);

    const notGzip = await failure(ws.extract(ws.write('plain.csv.gz', text), spec, columns));
    expect(notGzip.message).toBe('in/plain.csv.gz is corrupt or truncated (gzip: incorrect header check)');
  });

  test('a truncated zstd file (DuckDB would load it as zero rows)', async () => {
    const zstd = zstdCompressSync(Buffer.from(`{"id": 1, "who": "${SECRET}"}\n`.repeat(2000)));
    const path = ws.write('cut.ndjson.zst', zstd.subarray(0, Math.floor(zstd.length / 2)));
    const spec = fileSpec({ format: 'ndjson', compression: 'zstd' });
    const error = await failure(
      ws.extract(path, spec, [column('id', { kind: 'int64' }), column('who', { kind: 'text' })]),
    );
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toMatch(/^in\/cut\.ndjson\.zst is corrupt or truncated \(zstd: /);
    expectClean(error);
  });

  test('a truncated, a damaged and an empty Parquet file', async () => {
    const source = `${ws.dir}/source.parquet`;
    await ws.connection.run(
      `COPY (SELECT i AS id, '${SECRET}' || i AS who FROM range(100000) t(i)) TO '${source}' (FORMAT parquet)`,
    );
    const bytes = readFileSync(source);
    const columns = [column('id', { kind: 'int64' }), column('who', { kind: 'text' })];

    const cut = await failure(ws.extract(ws.write('cut.parquet', bytes.subarray(0, 3000)), PARQUET, columns));
    expect(cut.code).toBe('SOURCE_DATA');
    expect(cut.message).toBe('in/cut.parquet is corrupt or truncated (No magic bytes found at end of file)');

    const damaged = Buffer.from(bytes);
    for (let at = 1000; at < 1200; at += 1) damaged[at] = ((damaged[at] ?? 0) * 7 + 13) & 0xff;
    const damagedError = await failure(ws.extract(ws.write('damaged.parquet', damaged), PARQUET, columns));
    expect(damagedError.message).toMatch(/^in\/damaged\.parquet is corrupt or truncated \(/);
    expectClean(damagedError);

    const empty = await failure(ws.extract(ws.write('empty.parquet', ''), PARQUET, columns));
    expect(empty.message).toBe(
      'in/empty.parquet is corrupt or truncated (File too small to be a Parquet file)',
    );
  });

  test('a Parquet column whose type does not widen to the batch type is SCHEMA_MISMATCH', async () => {
    const path = `${ws.dir}/wide-int.parquet`;
    await ws.connection.run(`COPY (SELECT 1::BIGINT AS id) TO '${path}' (FORMAT parquet)`);
    const error = await failure(ws.extract(path, PARQUET, [column('id', { kind: 'int32' })]));
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toBe(
      'in/wide-int.parquet: column "id" is int64 (BIGINT) but the batch loads it as int32',
    );
  });

  test("a value that reads like DuckDB's own words is still only a value", async () => {
    let rows = 'id,n\n';
    for (let row = 1; row <= 3000; row += 1)
      rows += `${row},${row === 2600 ? 'Permission denied: No files found' : row}\n`;
    const path = ws.write('words.csv', rows);
    const spec = fileSpec({ format: 'csv', sampleRows: 100 });
    const error = await failure(
      ws.extract(path, spec, await describeFile(ws.connection, path, spec, 'in/words.csv')),
    );
    expect(error.code).toBe('SOURCE_DATA');
    expect(error.message).toBe('in/words.csv line 2601, column "n": holds a value that is not a valid int64');
  });

  test('a staging file that cannot be written is STAGING (retried), not a problem of the data file', async () => {
    const path = ws.write('fine.csv', 'a\n1\n');
    for (const source of [path, ws.write('nothing.csv', '')]) {
      const error = await failure(
        extractFile(ws.connection, source, CSV, {
          columns: [column('a', { kind: 'int64' })],
          fileName: 'in/fine.csv',
          modifiedAt: new Date(0),
          outputPath: `${ws.dir}/no-such-dir/out.csv`,
        }),
      );
      expect(error.code).toBe('STAGING');
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^in\/fine\.csv: writing the staging file failed \(/);
      expect(error.message).not.toContain(ws.dir);
    }
  });

  test('a missing file is SOURCE_DATA naming it', async () => {
    for (const spec of [CSV, NDJSON, PARQUET, fileSpec({ format: 'csv', compression: 'gzip' })]) {
      const error = await failure(
        ws.extract(`${ws.dir}/gone.${spec.format}`, spec, [column('a', { kind: 'text' })]),
      );
      expect(error.code).toBe('SOURCE_DATA');
      expect(error.message).toBe(
        `in/gone.${spec.format}: the file is missing (removed or renamed after it was listed)`,
      );
    }
    const described = await failure(
      describeFile(ws.connection, `${ws.dir}/gone.parquet`, PARQUET, 'in/gone.parquet'),
    );
    expect(described.message).toBe(
      'in/gone.parquet: the file is missing (removed or renamed after it was listed)',
    );
  });
});

describe('errorReason', () => {
  test('keeps the first line of a DuckDB message without its class, quoted parts, the path or control bytes', () => {
    expect(
      errorReason(
        'Invalid Input Error: Failed to read file "/tmp/x/a.parquet": Snappy decompression failure',
      ),
    ).toBe('Failed to read file: Snappy decompression failure');
    expect(errorReason("Invalid Error: don't know what type: \u000f\n\nLINE 1: select …")).toBe(
      "don't know what type",
    );
    expect(errorReason('IO Error: Input is not a GZIP stream: /tmp/x/a.csv.gz', '/tmp/x/a.csv.gz')).toBe(
      'Input is not a GZIP stream',
    );
    expect(errorReason(`Conversion Error: Could not convert string '${SECRET}' to INT32`)).toBe(
      'Could not convert a value to INT32',
    );
    expect(errorReason('')).toBe('no reason given');
  });
});
