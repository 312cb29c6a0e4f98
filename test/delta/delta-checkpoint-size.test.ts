/**
 * A checkpoint of a large table in the destination's DuckDB budget (256 MB, one thread): 220,000
 * live files with 2.7 KB of stats each are about 600 MB of actions, more than one JavaScript
 * string may hold and more than the budget, so the actions must stream to DuckDB and the Parquet
 * writer must flush small row groups.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { writeCheckpoint } from '../../daemon/destinations/delta/delta-checkpoint.js';
import { SnapshotState } from '../../daemon/destinations/delta/delta-log-reader.js';
import { tableFiles, tempDir } from './fixtures.js';

const FILES = 220_000;

it(`writes the checkpoint of ${FILES} files with stats under a 256 MB DuckDB`, async () => {
  const { dir, cleanup } = await tempDir('checkpoint-size');
  const db = await DuckDBInstance.create(':memory:', { memory_limit: '256MB', threads: '1' });
  const connection = await db.connect();
  try {
    const state = new SnapshotState();
    state.protocol = { minReaderVersion: 1, minWriterVersion: 2 };
    const fields = Array.from({ length: 30 }, (_, i) => ({
      name: `column_${i}`,
      type: 'string',
      nullable: true,
      metadata: {},
    }));
    state.metadata = {
      id: 'b7a1c7c2-3f0e-4a53-9d0e-6f3b1a2c4d5e',
      format: { provider: 'parquet', options: {} },
      schemaString: JSON.stringify({ type: 'struct', fields }),
      partitionColumns: [],
      configuration: {},
      createdTime: 1,
    };
    const stats = JSON.stringify({
      numRecords: 100,
      minValues: Object.fromEntries(fields.map((f) => [f.name, 'a'.repeat(32)])),
      maxValues: Object.fromEntries(fields.map((f) => [f.name, 'z'.repeat(32)])),
      nullCount: Object.fromEntries(fields.map((f) => [f.name, 0])),
    });
    expect(stats.length).toBeGreaterThan(2700);
    for (let i = 0; i < FILES; i++) {
      const path = `part-${String(i).padStart(6, '0')}.snappy.parquet`;
      state.files.set(path, {
        path,
        partitionValues: {},
        size: 1000,
        modificationTime: 1,
        dataChange: true,
        stats,
      });
    }
    state.version = 10;
    const snapshot = state.freeze('big');
    const result = await writeCheckpoint(tableFiles(dir), snapshot, connection, Date.now());
    expect(result).toMatchObject({ actions: FILES + 2, addFiles: FILES });
    const checkpoint = join(dir, '_delta_log', '00000000000000000010.checkpoint.parquet');
    const counted = await connection.runAndReadAll(
      `SELECT count(add), count(metaData), count(protocol) FROM read_parquet('${checkpoint}')`,
    );
    expect(counted.getRows()[0]?.map(Number)).toEqual([FILES, 1, 1]);
    expect(JSON.parse(await readFile(join(dir, '_delta_log', '_last_checkpoint'), 'utf8'))).toMatchObject({
      version: 10,
      size: FILES + 2,
      numOfAddFiles: FILES,
    });
  } finally {
    connection.closeSync();
    db.closeSync();
    await cleanup();
  }
}, 300_000);
