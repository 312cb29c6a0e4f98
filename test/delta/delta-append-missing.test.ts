/**
 * A backfill of an append pipeline into Delta (`append_missing`) beyond the conformance case:
 * a partitioned table written by Spark (partition values live in the log, not in the files, and a
 * NULL partition matches NULL), and two backfills racing: the one that lands second was decided
 * from files that changed under it, so it must fail retryably instead of appending rows the
 * winner appended already.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../daemon/storage/file-store.js';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch, failure } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { copyFixture, tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';

const KV: ColumnSchema[] = [
  { name: 'k', type: { kind: 'text' }, nullable: true },
  { name: 'v', type: { kind: 'int64' }, nullable: true },
];

function sorted(rows: readonly Record<string, unknown>[]): string[] {
  return rows.map((r) => `${String(r.k)}|${String(r.v)}`).sort();
}

describe('append_missing into Delta', { timeout: 120_000 }, () => {
  let staging: Staging;
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    staging = await Staging.open();
  });
  afterAll(() => {
    staging.close();
  });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('append-missing'));
  });
  afterEach(async () => {
    await cleanup();
  });

  it('compares partition values from the log: keeps the rows a Spark-partitioned table lacks, NULL partition included', async () => {
    // delta-0.8.0-null-partition (Spark): partitioned by k, holding (A, 1) and (NULL, 2).
    const table = await copyFixture('delta-0.8.0-null-partition', dir);
    const destination = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    try {
      const batch = await staging.batch(KV, [`('A', 1)`, `(NULL, 2)`, `(NULL, 2)`, `('B', 3)`, `('A', 4)`]);
      const first = await commitBatch(
        destination,
        request(batch, 1, 'append_missing', { pipeline: 'fill', compare: ['k', 'v'] }),
      );
      expect(first).toMatchObject({ rowsLoaded: 3, rowsSkipped: 2, alreadyCommitted: false });
      const again = await commitBatch(
        destination,
        request(batch, 2, 'append_missing', { pipeline: 'fill', compare: ['k', 'v'] }),
      );
      expect(again).toMatchObject({ rowsLoaded: 0, rowsSkipped: 5, alreadyCommitted: false });
    } finally {
      await destination.close();
    }
    const read = (await readWithOracle('deltalake', [table]))[table];
    expect(read?.error).toBeUndefined();
    expect(sorted(read?.rows ?? [])).toEqual(['A|1', 'A|4', 'B|3', 'null|2', 'null|2']);
  });

  it('a backfill decided from files that changed before its commit fails retryably and appends nothing', async () => {
    const table = join(dir, 'race');
    const seed = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    await commitBatch(
      seed,
      request(await staging.batch(KV, [`('a', 1)`]), 1, 'incremental', { pipeline: 'seed' }),
    );
    await seed.close();

    const first = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    const second = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
    const batch = await staging.batch(KV, [`('a', 1)`, `('b', 2)`]);
    try {
      // Both plan against the same snapshot; the first commits the missing row (b, 2).
      const loadOf = async (destination: DeltaDestination, pipeline: string) => {
        const load = await destination.beginLoad({
          ...request(batch, 1, 'append_missing', { pipeline, compare: ['k', 'v'] }),
          columns: batch.columns,
          workDir: batch.workDir,
        });
        await load.writePart({
          connection: batch.connection,
          select: `SELECT * FROM ${batch.relation}`,
          table: batch.relation,
          id: 'batch',
        });
        return load;
      };
      const winner = await loadOf(first, 'fill-a');
      const loser = await loadOf(second, 'fill-b');
      expect(await winner.commit()).toMatchObject({ rowsLoaded: 1, rowsSkipped: 1 });
      const error = await failure(loser.commit());
      await loser.abort();
      expect(error.code).toBe('DESTINATION_CONFLICT');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('backfill');
    } finally {
      await first.close();
      await second.close();
    }
    const read = (await readWithOracle('deltalake', [table]))[table];
    expect(sorted(read?.rows ?? [])).toEqual(['a|1', 'b|2']);
  });
});
