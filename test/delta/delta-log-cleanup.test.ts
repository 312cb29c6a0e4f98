/**
 * Log cleanup after checkpoints ([P] §Metadata Cleanup) with backdated commit files: everything a
 * time-travel read within `delta.logRetentionDuration` needs stays (delta-rs loads each such
 * version), versions before the checkpoint that precedes the retention window are gone.
 */
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { cleanUpLog } from '../../daemon/destinations/delta/delta-log-cleanup.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { tableFiles, tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';

const COLUMNS: ColumnSchema[] = [{ name: 'id', type: { kind: 'int64' }, nullable: false }];
const DAY_MS = 86_400_000;

let staging: Staging;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  staging = await Staging.open();
});
afterAll(() => staging.close());
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('log-cleanup'));
});
afterEach(async () => {
  await cleanup();
});

const commitName = (v: number): string => `${String(v).padStart(20, '0')}.json`;

async function writeVersions(table: string, from: number, to: number, now?: () => number): Promise<void> {
  const destination = new DeltaDestination({
    store: new FileStore(table),
    logger: silentLogger,
    ...(now === undefined ? {} : { now }),
  });
  try {
    for (let v = from; v <= to; v++)
      await commitBatch(destination, request(await staging.batch(COLUMNS, [`(${v})`]), v + 1));
  } finally {
    await destination.close();
  }
}

async function backdate(table: string, versions: readonly number[], daysAgo: number): Promise<void> {
  const at = new Date(Date.now() - daysAgo * DAY_MS);
  for (const v of versions) await utimes(join(table, '_delta_log', commitName(v)), at, at);
}

describe('Delta log cleanup', () => {
  it('after checkpoint 20, commits older than 30 days go up to checkpoint 10; every version from 10 on still loads in delta-rs', async () => {
    const table = join(dir, 'orders');
    await writeVersions(table, 0, 19);
    // Versions 0..14 are 40 days old, 15.. are recent: the cut-off commit is 14, the checkpoint
    // at or before it is 10, so versions 0..9 may go and 10..14 stay for time travel to 15..
    await backdate(
      table,
      Array.from({ length: 15 }, (_, v) => v),
      40,
    );
    await writeVersions(table, 20, 20);
    const log = await readdir(join(table, '_delta_log'));
    expect(log.filter((n) => n.endsWith('.json'))).toEqual(
      Array.from({ length: 11 }, (_, i) => commitName(i + 10)),
    );
    expect(log.filter((n) => n.includes('checkpoint'))).toEqual([
      '00000000000000000010.checkpoint.parquet',
      '00000000000000000020.checkpoint.parquet',
      '_last_checkpoint',
    ]);

    const versions = Array.from({ length: 11 }, (_, i) => i + 10);
    const paths = [table, ...versions.map((v) => `${table}@v${v}`), `${table}@v9`, `${table}@v3`];
    const read = await readWithOracle('deltalake', paths);
    expect(read[table]).toMatchObject({ version: 20 });
    expect(read[table]?.rows).toHaveLength(21);
    for (const v of versions) {
      expect(read[`${table}@v${v}`]?.error).toBeUndefined();
      expect(read[`${table}@v${v}`]).toMatchObject({ version: v });
      expect(read[`${table}@v${v}`]?.rows).toHaveLength(v + 1);
    }
    // Beyond the retention: gone.
    expect(read[`${table}@v9`]?.error).toBeDefined();
    expect(read[`${table}@v3`]?.error).toBeDefined();
  });

  it('keeps everything within the retention, honours delta.logRetentionDuration and never removes the newest checkpoint', async () => {
    const table = join(dir, 'events');
    await writeVersions(table, 0, 20);
    const files = tableFiles(table);
    const snapshot = await (async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      try {
        return await readSnapshot(files, connection);
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    })();
    if (snapshot === undefined) throw new Error('no snapshot');
    // Everything is younger than 30 days: nothing goes.
    expect(await cleanUpLog(files, snapshot, Date.now())).toEqual([]);
    // 40 days later every commit is old: the newest checkpoint (20) is the cut-off; it and its
    // JSON stay, everything below goes.
    const withShortRetention = {
      ...snapshot,
      metadata: { ...snapshot.metadata, configuration: { 'delta.logRetentionDuration': 'interval 2 days' } },
    };
    expect(await cleanUpLog(files, withShortRetention, Date.now() + DAY_MS)).toEqual([]);
    const deleted = await cleanUpLog(files, withShortRetention, Date.now() + 3 * DAY_MS);
    expect(deleted).toHaveLength(20 + 1);
    expect(deleted).toContain('_delta_log/00000000000000000010.checkpoint.parquet');
    const log = await readdir(join(table, '_delta_log'));
    expect(log.sort()).toEqual([
      '00000000000000000020.checkpoint.parquet',
      '00000000000000000020.json',
      '_last_checkpoint',
    ]);
    const read = await readWithOracle('deltalake', [table]);
    expect(read[table]).toMatchObject({ version: 20 });
    expect(read[table]?.rows).toHaveLength(21);
    // Turned off by the table property.
    const off = {
      ...snapshot,
      metadata: { ...snapshot.metadata, configuration: { 'delta.enableExpiredLogCleanup': 'false' } },
    };
    expect(await cleanUpLog(files, off, Date.now() + 365 * DAY_MS)).toEqual([]);
  });
});
