/**
 * Cancellation of extractFile: an abort during a long COPY interrupts DuckDB and rejects with
 * CANCELLED well before the file is done, an abort before the start does no work, and the
 * connection is usable afterwards.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FileReadSpec } from '../../../daemon/sources/files/file-read-spec.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeFile } from '../../../daemon/sources/files/file-schema.js';
import { queryStrings } from '../../../daemon/duckdb/duck-sql.js';
import { failure, fileSpec, openWorkspace, type Workspace } from './file-reader-fixtures.js';

const CSV = fileSpec({ format: 'csv' });

describe('extractFile cancellation', () => {
  let ws: Workspace;
  let big: string;
  beforeAll(async () => {
    ws = await openWorkspace();
    big = join(ws.dir, 'big.csv');
    const out = createWriteStream(big);
    out.write('id,name,amount,at\n');
    const block: string[] = [];
    for (let row = 0; row < 2_000_000; row += 1) {
      block.push(
        `${row},name ${row % 977},${(row % 1000) / 7},2024-01-02 03:04:${String(row % 60).padStart(2, '0')}`,
      );
      if (block.length === 100_000) {
        if (!out.write(`${block.join('\n')}\n`)) await once(out, 'drain');
        block.length = 0;
      }
    }
    out.end();
    await once(out, 'finish');
    await pipeline(createReadStream(big), createGzip({ level: 1 }), createWriteStream(`${big}.gz`));
  });

  /** Extracts `path` whole, then again aborted after a tenth of that time: CANCELLED in under half. */
  async function expectQuickCancel(path: string, spec: FileReadSpec): Promise<void> {
    const columns = await describeFile(ws.connection, path, spec, 'in/big.csv');
    const started = Date.now();
    await ws.extract(path, spec, columns);
    const full = Date.now() - started;

    const controller = new AbortController();
    const cancelled = Date.now();
    setTimeout(() => controller.abort(), Math.max(20, full / 10));
    const error = await failure(ws.extract(path, spec, columns, controller.signal));
    expect(error.code).toBe('CANCELLED');
    expect(error.message).toBe(`reading in/${path.slice(ws.dir.length + 1)} was cancelled`);
    expect(Date.now() - cancelled).toBeLessThan(full / 2 + 100);
    expect(await queryStrings(ws.connection, 'SELECT 42')).toEqual([['42']]);
  }
  afterAll(() => ws?.close());

  test('an abort during the COPY rejects with CANCELLED quickly; the connection still works', async () => {
    await expectQuickCancel(big, CSV);
  });

  test('the same for a gzip file, read by DuckDB and checked by zlib at once', async () => {
    await expectQuickCancel(`${big}.gz`, fileSpec({ format: 'csv', compression: 'gzip' }));
  });

  test('an abort before the start does no work', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failure(ws.extract(big, CSV, [], controller.signal));
    expect(error.code).toBe('CANCELLED');
  });
});
