/**
 * The Delta destination: the conformance suite (read back by delta-rs), plus what only Delta shows
 * in its log: protocol and txn actions, which files a full load and a merge remove, metaData for
 * new columns, NOT NULL and names Spark cannot read in a plain table, appendOnly tables, no empty `_delta_log`
 * after a failed first load, checkpoints; and reading tables Spark and delta-rs wrote.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeltaDestination, deltaDestination } from '../../daemon/destinations/delta/delta-destination.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { copyFixture, fixture, tempDir } from './fixtures.js';
import { Staging, request } from './staging.js';
import { commitBatch } from '../conformance/commit-batch.js';
import { runDestinationConformance } from '../conformance/destination.case.js';
import { deltaFixture } from '../conformance/destinations/delta.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { tableFiles } from './fixtures.js';

const COLUMNS: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, nullable: true },
];

async function logFiles(table: string): Promise<string[]> {
  return (await readdir(join(table, '_delta_log'))).filter((n) => n.endsWith('.json')).sort();
}

async function dataFiles(table: string): Promise<string[]> {
  return (await readdir(table)).filter((n) => n.endsWith('.parquet')).sort();
}

async function commitLines(table: string, version: number): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(table, '_delta_log', `${String(version).padStart(20, '0')}.json`), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

runDestinationConformance({ name: 'Delta', setup: () => Promise.resolve(deltaFixture()) });

describe('DeltaDestination', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let staging: Staging;
  let reader: DuckDBConnection;
  let readerDb: DuckDBInstance;
  let table: string;
  let destination: DeltaDestination;

  beforeAll(async () => {
    staging = await Staging.open();
    readerDb = await DuckDBInstance.create(':memory:');
    reader = await readerDb.connect();
  });
  afterAll(() => {
    staging.close();
    reader.closeSync();
    readerDb.closeSync();
  });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('dest'));
    table = join(dir, 'orders');
    destination = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
  });
  afterEach(async () => {
    await destination.close();
    await cleanup();
  });

  it('resolves relative paths under the lake directory, accepts file:// and object-store URLs', () => {
    const context = {
      lakeDir: '/var/lib/etld/lake',
      logger: silentLogger,
      resolveConnection: () => ({}) as never,
    };
    expect(deltaDestination.create({ type: 'delta', path: 'orders' }, context).label).toBe(
      'delta /var/lib/etld/lake/orders',
    );
    expect(deltaDestination.create({ type: 'delta', path: 'file:///data/t' }, context).label).toBe(
      'delta /data/t',
    );
    // An object-store URL opens its store on first use: creating the destination touches no SDK.
    const remote = deltaDestination.create({ type: 'delta', path: 's3://bucket/t' }, context);
    expect(remote.label).toBe('delta s3://bucket/t');
    expect(() => deltaDestination.create({ type: 'delta', path: 'ftp://host/t' }, context)).toThrow(
      /unknown scheme ftp:\/\//,
    );
  });

  it('creates a 1/2 table, records txn and skips a retried sequence', async () => {
    expect(await destination.committedSequence('orders')).toBeNull();
    const changes = await destination.planSchema(COLUMNS, 'add_columns');
    expect(changes.map((c) => `${c.change}:${c.column}:${c.detail}`)).toEqual([
      `create:*:Delta table ${table} with 2 columns: id long not null, amount decimal(12,2)`,
    ]);
    const first = await commitBatch(
      destination,
      request(await staging.batch(COLUMNS, ['(1, 1.50)', '(2, NULL)']), 5),
    );
    expect(first).toMatchObject({ rowsLoaded: 2, alreadyCommitted: false });
    const v0 = await commitLines(table, 0);
    expect(Object.keys(v0[0] ?? {})).toEqual(['commitInfo']);
    expect(v0.find((a) => 'protocol' in a)).toEqual({
      protocol: { minReaderVersion: 1, minWriterVersion: 2 },
    });
    expect(v0.find((a) => 'txn' in a)).toMatchObject({ txn: { appId: 'orders', version: 5 } });
    expect(v0[0]).toMatchObject({
      commitInfo: { isBlindAppend: true, operation: 'WRITE', operationParameters: { mode: 'Append' } },
    });
    expect((await destination.committedSequence('orders'))?.sequence).toBe(5);

    const files = await dataFiles(table);
    const retried = await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1.50)']), 5));
    expect(retried.alreadyCommitted).toBe(true);
    expect(await logFiles(table)).toHaveLength(1);
    expect(await dataFiles(table)).toEqual(files);
  });

  it('full load removes every live file in the same commit and is not a blind append', async () => {
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1)']), 1));
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(2, 2)']), 2));
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(3, 3)']), 3, 'full'));
    const v2 = await commitLines(table, 2);
    expect(v2.filter((a) => 'remove' in a)).toHaveLength(2);
    expect(v2.filter((a) => 'add' in a)).toHaveLength(1);
    expect(v2[0]).toMatchObject({
      commitInfo: { isBlindAppend: false, operationParameters: { mode: 'Overwrite' } },
    });
    const snapshot = await readSnapshot(tableFiles(table), reader);
    expect(snapshot?.files.size).toBe(1);
    expect(snapshot?.txns.get('orders')?.version).toBe(3);
  });

  it('merge rewrites only files holding matched keys', async () => {
    await commitBatch(
      destination,
      request(await staging.batch(COLUMNS, ['(1, 1)', '(2, 2)']), 1, 'merge', { key: ['id'] }),
    );
    await commitBatch(
      destination,
      request(await staging.batch(COLUMNS, ['(3, 3)']), 2, 'merge', { key: ['id'] }),
    );
    await commitBatch(
      destination,
      request(await staging.batch(COLUMNS, ['(2, 20)', '(4, 4)']), 3, 'merge', { key: ['ID'] }),
    );
    const v2 = await commitLines(table, 2);
    expect(v2.filter((a) => 'remove' in a)).toHaveLength(1);
    const snapshot = await readSnapshot(tableFiles(table), reader);
    const files = [...(snapshot?.files.values() ?? [])].map((a) => `'${join(table, a.path)}'`);
    const rows = await reader.runAndReadAll(
      `SELECT id, amount::VARCHAR FROM read_parquet([${files.join(',')}]) ORDER BY id`,
    );
    expect(rows.getRows()).toEqual([
      [1n, '1.00'],
      [2n, '20.00'],
      [3n, '3.00'],
      [4n, '4.00'],
    ]);
    await expect(
      commitBatch(destination, request(await staging.batch(COLUMNS, ['(5, 5)']), 4, 'merge')),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('adds new nullable columns through a new metaData', async () => {
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1)']), 1));
    const wider: ColumnSchema[] = [...COLUMNS, { name: 'note', type: { kind: 'text' }, nullable: false }];
    expect(await destination.planSchema(wider, 'add_columns')).toEqual([
      { column: 'note', change: 'add', detail: 'string (nullable)' },
    ]);
    await commitBatch(destination, request(await staging.batch(wider, ["(2, 2, 'x')"]), 2));
    const snapshot = await readSnapshot(tableFiles(table), reader);
    expect(snapshot?.schema.fields.map((f) => `${f.name}:${JSON.stringify(f.type)}:${f.nullable}`)).toEqual([
      'id:"long":false',
      'amount:"decimal(12,2)":true',
      'note:"string":true',
    ]);
    const v1 = await commitLines(table, 1);
    expect((v1.find((a) => 'metaData' in a) as { metaData: { id: string } }).metaData.id).toBe(
      snapshot?.metadata.id,
    );
  });

  it('fails a changed type or a dropped column before writing any file, naming column and types', async () => {
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1)']), 1));
    const before = await dataFiles(table);
    const changed: ColumnSchema[] = [
      COLUMNS[0] as ColumnSchema,
      {
        name: 'amount',
        type: { kind: 'decimal', precision: 14, scale: 2 },
        nullable: true,
        sourceType: 'numeric(14,2)',
      },
    ];
    await expect(destination.planSchema(changed, 'add_columns')).rejects.toThrow(
      /"amount" is decimal\(12,2\) in Delta table .* but the incoming rows have decimal\(14,2\) \(source numeric\(14,2\)\)/,
    );
    await expect(
      commitBatch(destination, request(await staging.batch(changed, ['(2, 2)']), 2)),
    ).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    const dropped: ColumnSchema[] = [COLUMNS[0] as ColumnSchema];
    await expect(commitBatch(destination, request(await staging.batch(dropped, ['(3)']), 3))).rejects.toThrow(
      /"amount" \(decimal\(12,2\) in Delta table .*\) is missing from the incoming rows/,
    );
    const wider: ColumnSchema[] = [...COLUMNS, { name: 'x', type: { kind: 'int32' }, nullable: true }];
    await expect(
      commitBatch(
        destination,
        request(await staging.batch(wider, ['(4, 4, 4)']), 4, 'incremental', { schemaEvolution: 'strict' }),
      ),
    ).rejects.toThrow(
      /new column "x" \(int32 \(integer\)\) is not in Delta table .* \(schema_evolution: strict\)/,
    );
    expect(await dataFiles(table)).toEqual(before);
    expect(await logFiles(table)).toHaveLength(1);
  });

  it('enforces NOT NULL columns and rejects names Spark cannot read in a plain table', async () => {
    await expect(
      commitBatch(destination, request(await staging.batch(COLUMNS, ['(NULL, 1)', '(NULL, 2)']), 1)),
    ).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: expect.stringMatching(/NOT NULL column id .* would receive a null value/),
    });
    // A plain table stays plain: a new column Spark cannot read without column mapping is refused.
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1)']), 1));
    const bad: ColumnSchema[] = [...COLUMNS, { name: 'a b', type: { kind: 'int32' }, nullable: true }];
    await expect(destination.planSchema(bad, 'add_columns')).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: expect.stringMatching(
        /column "a b" cannot be added .* does not use column mapping.*snake_case/,
      ),
    });
    const clash: ColumnSchema[] = [
      { name: 'A', type: { kind: 'int32' }, nullable: true },
      { name: 'a', type: { kind: 'int32' }, nullable: true },
    ];
    await expect(destination.planSchema(clash, 'add_columns')).rejects.toThrow(/case-insensitive/);
  });

  it('refuses overwrite and merge of an appendOnly table but appends to it', async () => {
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(1, 1)']), 1));
    const path = join(table, '_delta_log', '00000000000000000001.json');
    const v0 = await commitLines(table, 0);
    const meta = (v0.find((a) => 'metaData' in a) as { metaData: Record<string, unknown> }).metaData;
    await writeFile(
      path,
      JSON.stringify({ commitInfo: {} }) +
        '\n' +
        JSON.stringify({ metaData: { ...meta, configuration: { 'delta.appendOnly': 'true' } } }) +
        '\n',
    );
    await expect(
      commitBatch(destination, request(await staging.batch(COLUMNS, ['(2, 2)']), 2, 'full')),
    ).rejects.toThrow(/UnsupportedTableFeature: appendOnly/);
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(2, 2)']), 2));
    expect(await logFiles(table)).toHaveLength(3);
  });

  it('leaves no _delta_log behind when the first load of a new table fails before its commit', async () => {
    // A chaos seed found it: an empty `_delta_log` left by a failed first run made delta-rs and
    // Spark report a broken table (`No files in log segment`) where there was no table yet.
    const batch = await staging.batch(COLUMNS, ['(1, 1)', '(2, 2)']);
    const load = await destination.beginLoad({
      ...request(batch, 1),
      columns: batch.columns,
      workDir: batch.workDir,
    });
    await load.writePart({
      connection: batch.connection,
      select: `SELECT * FROM ${batch.relation}`,
      id: 'p1',
    });
    await load.abort();
    await expect(readdir(join(table, '_delta_log'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await destination.committedSequence('orders')).toBeNull();
    await commitBatch(destination, request(await staging.batch(COLUMNS, ['(3, 3)']), 1));
    expect(await logFiles(table)).toHaveLength(1);
  });

  it('writes a checkpoint at version 10 that our reader and _last_checkpoint agree on', async () => {
    for (let sequence = 1; sequence <= 11; sequence++) {
      await commitBatch(
        destination,
        request(
          await staging.batch(COLUMNS, [`(${sequence}, ${sequence})`]),
          sequence,
          sequence === 6 ? 'full' : 'incremental',
        ),
      );
    }
    const names = await readdir(join(table, '_delta_log'));
    expect(names).toContain('00000000000000000010.checkpoint.parquet');
    expect(JSON.parse(await readFile(join(table, '_delta_log', '_last_checkpoint'), 'utf8'))).toMatchObject({
      version: 10,
      numOfAddFiles: 6,
    });
    const full = await readSnapshot(tableFiles(table), reader);
    // Without the JSON before the checkpoint, state must come from the checkpoint alone.
    for (let v = 0; v <= 10; v++) await rm(join(table, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const fromCheckpoint = await readSnapshot(tableFiles(table), reader);
    expect(fromCheckpoint?.version).toBe(10);
    expect([...(fromCheckpoint?.files.keys() ?? [])].sort()).toEqual([...(full?.files.keys() ?? [])].sort());
    expect(fromCheckpoint?.txns.get('orders')?.version).toBe(11);
    expect(fromCheckpoint?.tombstones.size).toBe(5);
    expect(fromCheckpoint?.metadata.schemaString).toBe(full?.metadata.schemaString);
  });
});

describe('reading tables written by Spark and delta-rs', () => {
  let db: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
    connection = await db.connect();
  });
  afterAll(() => {
    connection.closeSync();
    db.closeSync();
  });

  it('replays app transactions with and without a checkpoint', async () => {
    for (const name of ['app-txn-checkpoint', 'app-txn-no-checkpoint']) {
      const snapshot = await readSnapshot(tableFiles(fixture(name)), connection);
      expect(snapshot?.txns.size, name).toBeGreaterThan(0);
      for (const txn of snapshot?.txns.values() ?? []) expect(Number.isInteger(txn.version)).toBe(true);
    }
    const a = await readSnapshot(tableFiles(fixture('app-txn-checkpoint')), connection);
    const b = await readSnapshot(tableFiles(fixture('app-txn-no-checkpoint')), connection);
    expect(Object.fromEntries([...(a?.txns.values() ?? [])].map((t) => [t.appId, t.version]))).toEqual(
      Object.fromEntries([...(b?.txns.values() ?? [])].map((t) => [t.appId, t.version])),
    );
  });

  it('finds the newest checkpoint without _last_checkpoint', async () => {
    const snapshot = await readSnapshot(
      tableFiles(fixture('with_checkpoint_no_last_checkpoint')),
      connection,
    );
    expect(snapshot?.version).toBeGreaterThan(0);
    expect(snapshot?.files.size).toBeGreaterThan(0);
  });

  it('errors on a version gap', async () => {
    const { dir, cleanup } = await tempDir('gap');
    try {
      const table = await copyFixture('simple_table', dir);
      await rm(join(table, '_delta_log', '00000000000000000002.json'));
      await expect(readSnapshot(tableFiles(table), connection)).rejects.toThrow(/missing version 2/);
    } finally {
      await cleanup();
    }
  });

  it('refuses deletion vectors with a named error', async () => {
    const staging = await Staging.open();
    try {
      for (const [name, feature] of [['table-with-dv-small', 'deletionVectors']] as const) {
        const { dir, cleanup } = await tempDir('refuse');
        const table = await copyFixture(name, dir);
        const destination = new DeltaDestination({ store: new FileStore(table), logger: silentLogger });
        try {
          const columns: ColumnSchema[] = [{ name: 'value', type: { kind: 'int32' }, nullable: true }];
          await expect(destination.planSchema(columns, 'add_columns')).rejects.toThrow(
            new RegExp(`UnsupportedTableFeature: ${feature}`),
          );
          await expect(
            commitBatch(destination, request(await staging.batch(columns, ['(1)']), 1)),
          ).rejects.toMatchObject({
            code: 'UNSUPPORTED_TABLE_FEATURE',
            retryable: false,
          });
          expect(await dataFiles(table)).toEqual(
            (await readdir(fixture(name))).filter((n) => n.endsWith('.parquet')).sort(),
          );
        } finally {
          await destination.close();
          await cleanup();
        }
      }
    } finally {
      staging.close();
    }
  });
});
