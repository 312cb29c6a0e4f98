/**
 * The Delta writer on a store without a local directory (S3, GCS, Azure): data files are written
 * by DuckDB into the load's work directory and uploaded, files DuckDB reads (merge rewrites,
 * checkpoints) are downloaded into a bounded cache, and nothing of either stays behind. The table
 * underneath is a real directory, so delta-rs reads back what the writer made.
 */
import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { DeltaFiles } from '../../daemon/destinations/delta/delta-files.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { vacuumDeltaTable } from '../../daemon/destinations/delta/delta-vacuum.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { tempDir } from './fixtures.js';
import { RemoteLikeStore } from './remote-like-store.js';
import { Staging, request } from './staging.js';

const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'name', type: { kind: 'text' }, nullable: true },
];

let staging: Staging;
let db: DuckDBInstance;
let reader: DuckDBConnection;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  staging = await Staging.open();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  db = await DuckDBInstance.create(':memory:');
  reader = await db.connect();
});
afterAll(() => {
  reader.closeSync();
  db.closeSync();
  staging.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('remote'));
});
afterEach(async () => {
  await cleanup();
});

function rows(values: readonly [number, string][]): string[] {
  return values.map(([id, name]) => `(${id}, '${name}')`);
}

async function oracleRows(path: string): Promise<{ version?: number; rows: string[]; error?: string }> {
  const table = (await readWithOracle('deltalake', [path]))[path];
  return {
    version: table?.version,
    rows: (table?.rows ?? []).map((r) => `${String(r.id)}:${String(r.name)}`).sort(),
    ...(table?.error === undefined ? {} : { error: table.error }),
  };
}

describe('Delta on a store without a local directory', () => {
  it('append, merge, overwrite, checkpoint and vacuum go through upload/download; delta-rs reads every step', async () => {
    const tableDir = join(dir, 'orders');
    const workDir = join(dir, 'work');
    const store = new RemoteLikeStore(tableDir);
    const destination = new DeltaDestination({ store, logger: silentLogger });
    const batch = async (values: readonly [number, string][]) => {
      const staged = await staging.batch(COLUMNS, rows(values));
      return { ...staged, workDir };
    };
    try {
      // Append twice.
      await commitBatch(
        destination,
        request(
          await batch([
            [1, 'a'],
            [2, 'b'],
          ]),
          1,
        ),
      );
      await commitBatch(destination, request(await batch([[3, 'c']]), 2));
      expect(store.calls.upload).toBe(2);
      expect(store.calls.download).toBe(0);
      expect((await oracleRows(tableDir)).rows).toEqual(['1:a', '2:b', '3:c']);

      // Merge: the live files are downloaded for the key join; the rewritten file is uploaded.
      const merged = await commitBatch(
        destination,
        request(
          await batch([
            [2, 'B'],
            [4, 'd'],
          ]),
          3,
          'merge',
          { key: ['id'] },
        ),
      );
      expect(merged).toMatchObject({ rowsLoaded: 2, details: { removedFiles: 1 } });
      expect(store.calls.download).toBe(2);
      expect((await oracleRows(tableDir)).rows).toEqual(['1:a', '2:B', '3:c', '4:d']);

      // Overwrite.
      await commitBatch(destination, request(await batch([[10, 'x']]), 4, 'full'));
      expect(await oracleRows(tableDir)).toMatchObject({ version: 3, rows: ['10:x'] });

      // Appends up to version 10: the checkpoint is written locally and uploaded.
      for (let sequence = 5; sequence <= 11; sequence++)
        await commitBatch(destination, request(await batch([[sequence * 10, `s${sequence}`]]), sequence));
      const log = await readdir(join(tableDir, '_delta_log'));
      expect(log).toContain('00000000000000000010.checkpoint.parquet');
      expect(log).toContain('_last_checkpoint');
      expect(log.filter((n) => n.startsWith('.tmp'))).toEqual([]);

      // Nothing local stays: no staging directory in the table, the work directory removed.
      expect((await readdir(tableDir)).filter((n) => n.startsWith('_etld'))).toEqual([]);
      await expect(readdir(join(workDir, 'delta'))).rejects.toMatchObject({ code: 'ENOENT' });

      // The checkpoint alone holds the state: delta-rs and our reader (which downloads it) agree
      // on a copy without the JSON before it.
      const copy = join(dir, 'from-checkpoint');
      await cp(tableDir, copy, { recursive: true });
      for (let v = 0; v < 10; v++) await rm(join(copy, '_delta_log', `${String(v).padStart(20, '0')}.json`));
      const expected = ['10:x', ...[5, 6, 7, 8, 9, 10, 11].map((s) => `${s * 10}:s${s}`)].sort();
      expect(await oracleRows(copy)).toMatchObject({ version: 10, rows: expected });
      const copyStore = new RemoteLikeStore(copy);
      const files = new DeltaFiles(copyStore);
      try {
        const snapshot = await readSnapshot(files, reader);
        expect(snapshot?.version).toBe(10);
        expect(copyStore.calls.download).toBe(1);
      } finally {
        await files.dispose();
      }

      // Vacuum through the store: the files the merge and the overwrite replaced go, the live ones stay.
      const live = (await readSnapshot(new DeltaFiles(store), reader))?.files.size ?? 0;
      const vacuumed = await vacuumDeltaTable(store, { retentionMs: 0, now: Date.now() + 60_000 });
      expect(vacuumed.files).toHaveLength(3);
      const parquet = (await readdir(tableDir)).filter((n) => n.endsWith('.parquet'));
      expect(parquet).toHaveLength(live);
      expect((await oracleRows(tableDir)).rows).toEqual(expected);
    } finally {
      await destination.close();
    }
  });

  it('the download cache keeps to its bound, never evicting what a read needs, and is removed on dispose', async () => {
    const tableDir = join(dir, 'cache');
    const store = new RemoteLikeStore(tableDir);
    const keys = ['a.parquet', 'b.parquet', 'c.parquet'];
    for (const key of keys) {
      await writeFile(join(dir, 'src'), Buffer.alloc(1000, key));
      await store.inner.upload(join(dir, 'src'), key);
    }
    const workDir = join(dir, 'cache-work');
    const files = new DeltaFiles(store, { workDir, cacheBytes: 2500 });
    // All three are needed at once: all stay while the read needs them.
    const first = await files.readable(keys);
    expect(first).toHaveLength(3);
    expect(store.calls.download).toBe(3);
    // Now over the bound: `a` (least recently used, not needed) goes; `b` and `c` are hits.
    await files.readable(['b.parquet', 'c.parquet']);
    expect(store.calls.download).toBe(3);
    expect((await readdir(join(workDir, 'cache'))).length).toBe(2);
    await files.readable(['a.parquet']);
    expect(store.calls.download).toBe(4);
    await expect(files.readable(['missing.parquet'])).rejects.toMatchObject({ code: 'DESTINATION_WRITE' });
    await files.dispose();
    await expect(readdir(workDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
