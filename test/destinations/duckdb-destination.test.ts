import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdbDestination } from '../../daemon/destinations/duckdb/duckdb-destination.js';
import type { Destination, LoadMode } from '../../daemon/destinations/destination.js';
import type { CommitRequest } from './commit-batch.js';
import { silentLogger } from '../../daemon/logging/logger.js';
import type { ColumnSchema } from '../../shared/types.js';
import { commitBatch } from './commit-batch.js';

const BASE: ColumnSchema[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'name', type: { kind: 'text' }, nullable: true },
  { name: 'amount', type: { kind: 'decimal', precision: 18, scale: 2 }, nullable: true },
  { name: 'updated_at', type: { kind: 'timestamptz' }, nullable: true },
];

let dir: string;
let staging: DuckDBInstance;
let connection: DuckDBConnection;
let destination: Destination;

async function stage(rows: string, columns: ColumnSchema[] = BASE): Promise<void> {
  const defs = columns.map(
    (c) =>
      `"${c.name}" ${c.type.kind === 'int64' ? 'BIGINT' : c.type.kind === 'text' ? 'VARCHAR' : c.type.kind === 'timestamptz' ? 'TIMESTAMPTZ' : c.type.kind === 'int32' ? 'INTEGER' : 'DECIMAL(18,2)'}`,
  );
  await connection.run('DROP TABLE IF EXISTS final');
  await connection.run(`CREATE TABLE final (${defs.join(', ')})`);
  if (rows !== '') await connection.run(`INSERT INTO final VALUES ${rows}`);
}

function request(
  sequence: number,
  mode: LoadMode,
  columns: ColumnSchema[] = BASE,
  extra: Partial<CommitRequest> = {},
): CommitRequest {
  return {
    pipeline: 'orders',
    runId: `run-${sequence}`,
    sequence,
    mode,
    key: ['id'],
    cursor: 'updated_at',
    schemaEvolution: 'add_columns',
    batch: { connection, relation: 'final', columns, rowCount: 0, workDir: dir },
    signal: new AbortController().signal,
    ...extra,
  };
}

async function readDest(sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(dir, 'lake', 'shop.duckdb'), {
    access_mode: 'READ_ONLY',
  });
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowsJS();
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'etld-duckdest-'));
  staging = await DuckDBInstance.create(join(dir, 'staging.duckdb'));
  connection = await staging.connect();
  await connection.run(`SET TimeZone='UTC'`);
  destination = duckdbDestination.create(
    { type: 'duckdb', path: 'shop.duckdb', table: 'orders' },
    { lakeDir: join(dir, 'lake'), logger: silentLogger, resolveConnection: () => ({}) },
  );
});

afterEach(async () => {
  await destination.close();
  connection.closeSync();
  staging.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

describe('DuckDB destination', () => {
  it('plans a create without creating the file, and reports no committed sequence', async () => {
    const changes = await destination.planSchema(BASE, 'add_columns');
    expect(changes).toEqual([expect.objectContaining({ change: 'create' })]);
    expect(await destination.committedSequence('orders')).toBeNull();
    expect(existsSync(join(dir, 'lake', 'shop.duckdb'))).toBe(false);
    expect(destination.label).toContain(join(dir, 'lake', 'shop.duckdb'));
  });

  it('appends incrementally with the sequence, and a repeated sequence writes nothing', async () => {
    await stage(`(1, 'a', 1.50, '2024-01-01 00:00:00+00'), (2, 'b', NULL, NULL)`);
    const first = await commitBatch(destination, request(1, 'incremental'));
    expect(first).toMatchObject({ rowsLoaded: 2, alreadyCommitted: false });
    const again = await commitBatch(destination, request(1, 'incremental'));
    expect(again).toMatchObject({ rowsLoaded: 0, alreadyCommitted: true });
    await stage(`(3, 'c', 2.25, '2024-01-02 00:00:00+00')`);
    expect((await commitBatch(destination, request(2, 'incremental'))).rowsLoaded).toBe(1);
    expect((await destination.committedSequence('orders'))?.sequence).toBe(2);
    expect(await destination.committedSequence('other')).toBeNull();
    expect(await readDest('SELECT id, name, CAST(amount AS VARCHAR) FROM orders ORDER BY id')).toEqual([
      [1n, 'a', '1.50'],
      [2n, 'b', null],
      [3n, 'c', '2.25'],
    ]);
    expect(
      await readDest('SELECT pipeline, sequence, run_id, rows_loaded FROM _etld_commits ORDER BY sequence'),
    ).toEqual([
      ['orders', 1n, 'run-1', 2n],
      ['orders', 2n, 'run-2', 1n],
    ]);
  });

  it('replaces the table in full mode', async () => {
    await stage(`(1, 'a', 1, NULL), (2, 'b', 2, NULL)`);
    await commitBatch(destination, request(1, 'full'));
    await stage(`(7, 'z', 7, NULL)`);
    expect((await commitBatch(destination, request(2, 'full'))).rowsLoaded).toBe(1);
    expect(await readDest('SELECT id FROM orders')).toEqual([[7n]]);
    expect(
      await readDest(`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%__etld_new'`),
    ).toEqual([[0n]]);
  });

  it('merges by key keeping the newest row per key by cursor', async () => {
    await stage(`(1, 'a', 1, '2024-01-01 00:00:00+00'), (2, 'b', 2, '2024-01-01 00:00:00+00')`);
    await commitBatch(destination, request(1, 'merge'));
    await stage(
      `(2, 'b-new', 3, '2024-01-03 00:00:00+00'), (2, 'b-old', 3, '2024-01-02 00:00:00+00'), (3, 'c', 4, '2024-01-02 00:00:00+00')`,
    );
    expect((await commitBatch(destination, request(2, 'merge'))).rowsLoaded).toBe(2);
    expect(await readDest('SELECT id, name FROM orders ORDER BY id')).toEqual([
      [1n, 'a'],
      [2n, 'b-new'],
      [3n, 'c'],
    ]);
  });

  it('adds new columns, and refuses a changed type or a vanished column before writing', async () => {
    await stage(`(1, 'a', 1, NULL)`);
    await commitBatch(destination, request(1, 'incremental'));
    const wider = [...BASE, { name: 'note', type: { kind: 'text' }, nullable: true } satisfies ColumnSchema];
    expect(await destination.planSchema(wider, 'add_columns')).toEqual([
      expect.objectContaining({ column: 'note', change: 'add' }),
    ]);
    await expect(destination.planSchema(wider, 'strict')).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
    await stage(`(2, 'b', 2, NULL, 'hello')`, wider);
    await commitBatch(destination, request(2, 'incremental', wider));
    expect(await readDest('SELECT id, note FROM orders ORDER BY id')).toEqual([
      [1n, null],
      [2n, 'hello'],
    ]);

    const retyped = wider.map((c) => (c.name === 'amount' ? { ...c, type: { kind: 'int32' as const } } : c));
    await expect(destination.planSchema(retyped, 'add_columns')).rejects.toThrow(
      /column "amount" is DECIMAL\(18,2\) in duckdb .* but the incoming rows have int32 \(INTEGER\)/,
    );
    await stage(`(3, 'c', 3, NULL, 'x')`, retyped);
    await expect(commitBatch(destination, request(3, 'incremental', retyped))).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });

    const fewer = wider.filter((c) => c.name !== 'name');
    await expect(destination.planSchema(fewer, 'add_columns')).rejects.toThrow(
      /column "name" \(VARCHAR in duckdb .*\) is missing from the incoming rows/,
    );
    expect(await readDest('SELECT count(*) FROM orders')).toEqual([[2n]]);
    expect((await destination.committedSequence('orders'))?.sequence).toBe(2);
  });

  it('does not commit when the run is cancelled', async () => {
    await stage(`(1, 'a', 1, NULL)`);
    const controller = new AbortController();
    controller.abort();
    await expect(
      commitBatch(destination, request(1, 'incremental', BASE, { signal: controller.signal })),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(join(dir, 'lake', 'shop.duckdb'))).toBe(false);
  });
});
