/**
 * How a failed part statement is reported: a row longer than the reader accepts is the source's
 * data, named by part and limit; running out of the run's memory is retried with the setting to
 * raise; a value DuckDB quotes never reaches the message; our own markers keep their code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { stagingCsvSelect } from '../../daemon/engine/csv-staging.js';
import { MAX_ROW_BYTES, partFailure } from '../../daemon/engine/part-failure.js';
import { EtlError } from '../../shared/errors.js';
import type { ColumnSchema } from '../../shared/types.js';

const columns: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: true },
  { name: 'body', type: { kind: 'text' }, nullable: true },
];

async function failureOf(csv: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'etld-part-failure-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const file = join(dir, 'part.csv');
    writeFileSync(file, csv);
    await connection.run(`SELECT count(*) FROM (${stagingCsvSelect([file], columns, {})})`);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('partFailure', () => {
  test(`a row over ${MAX_ROW_BYTES / 1024 / 1024} MiB fails as SOURCE_DATA naming the part and the limit, not the row`, async () => {
    const secret = 'SECRET-VALUE-';
    const long = `1,"${secret.repeat(Math.ceil((MAX_ROW_BYTES + 1024) / secret.length))}"\n`;
    const error = await failureOf(`2,short\n${long}3,after\n`);
    expect(error).toBeDefined();
    const failure = partFailure('s1/2', error, '128MiB');
    expect(failure).toMatchObject({ code: 'SOURCE_DATA', retryable: false });
    expect(failure.message).toBe(
      'part s1/2: a row is longer than 8 MiB as CSV, the largest row a run accepts',
    );
  });

  test('a row just under the limit is read', async () => {
    const body = 'x'.repeat(MAX_ROW_BYTES - 64);
    expect(await failureOf(`1,${body}\n2,y\n`)).toBeUndefined();
  });

  test('malformed CSV is the data, and the line DuckDB quotes is cut', async () => {
    const error = await failureOf('1,ok\n2,too,many,SECRET\n');
    const failure = partFailure('p', error);
    expect(failure.code).toBe('SOURCE_DATA');
    expect(failure.message).toMatch(/^reading the rows of part p: /);
    expect(failure.message).not.toContain('SECRET');
  });

  test('running out of memory is retried and names the setting', () => {
    const failure = partFailure(
      's1',
      new Error('Out of Memory Error: failed to allocate data of size 13.9 MiB (118.9 MiB/128.0 MiB used)'),
      '128MiB',
    );
    expect(failure).toMatchObject({ code: 'STAGING', retryable: true });
    expect(failure.message).toMatch(/defaults\.memory_limit: 128MiB\); raise defaults\.memory_limit/);
  });

  test('our markers keep their code; a destination error stays what it was', () => {
    expect(
      partFailure(
        'p',
        new Error(
          'Invalid Input Error: etld[TRANSFORM_INVALID]: transform "x": a value of column y cannot be cast to int32',
        ),
      ),
    ).toMatchObject({
      code: 'TRANSFORM_INVALID',
      message: 'transform "x": a value of column y cannot be cast to int32',
    });
    const destination = new EtlError(
      'DESTINATION_WRITE',
      'cannot write Delta data files in /lake/t: IO Error: disk full',
      {
        retryable: false,
      },
    );
    expect(partFailure('p', destination)).toBe(destination);
  });
});
