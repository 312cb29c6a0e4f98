/**
 * `etlctl vacuum` through the run engine: vacuum is a capability of the destinations that keep
 * unreferenced files (Delta), found on the destination the pipeline names; a destination without
 * it is refused by name, before anything is touched.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { Staging, request } from '../delta/staging.js';
import { createHarness, type Harness } from './engine-harness.js';
import { FileStore } from '../../daemon/storage/file-store.js';

const COLUMNS: ColumnSchema[] = [{ name: 'id', type: { kind: 'int64' }, nullable: false }];
const DAY_MS = 24 * 3600 * 1000;

let staging: Staging;
let h: Harness;

beforeAll(async () => {
  staging = await Staging.open();
});
afterAll(() => {
  staging.close();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

function pipelineInto(destination: Record<string, unknown>): ReturnType<Harness['pipeline']> {
  return h.pipeline({
    name: 'vacuumed',
    // Vacuum never reads the source.
    source: { type: 'postgres', connection: { host: '127.0.0.1', database: 'none' }, table: 'orders' },
    load: { mode: 'full' },
    destination,
  });
}

describe('vacuum through the engine', () => {
  it('Delta: lists, then removes, a file no version references once it is older than the retention', async () => {
    const table = join(h.lakeDir, 'orders');
    const destination = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1)', '(2)']), 1, 'full'));
    await destination.close();
    const orphan = 'part-00000-orphan-c000.snappy.parquet';
    await writeFile(join(table, orphan), 'left by a run that died before its commit');
    const p = pipelineInto({ type: 'delta', path: 'orders' });

    // Within the retention (a week by default) nothing is removable.
    expect(await h.engine.vacuum(p, { dryRun: true, now: new Date() })).toEqual({ files: [], bytes: 0 });
    const later = new Date(Date.now() + 8 * DAY_MS);
    const listed = await h.engine.vacuum(p, { dryRun: true, now: later });
    expect(listed.files).toEqual([orphan]);
    expect(existsSync(join(table, orphan))).toBe(true);
    expect(await h.engine.vacuum(p, { dryRun: false, now: later })).toEqual(listed);
    expect(existsSync(join(table, orphan))).toBe(false);
  });

  it('a destination without unreferenced files is refused by name (ILLEGAL_STATE), touching nothing', async () => {
    const p = pipelineInto({ type: 'duckdb', path: 'warehouse.duckdb', table: 'orders' });
    await expect(h.engine.vacuum(p, { dryRun: true, now: new Date() })).rejects.toMatchObject({
      code: 'ILLEGAL_STATE',
      message: expect.stringContaining('vacuumed loads into duckdb'),
    });
    expect(existsSync(join(h.lakeDir, 'warehouse.duckdb'))).toBe(false);
  });
});
