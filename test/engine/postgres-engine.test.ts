import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let h: Harness;

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

const freshDb = databaseFactory(() => pg, 'shop');
const conn = (database: string): Record<string, unknown> => pgConnection(pg, database);

const CUSTOMERS = `
  CREATE TABLE customers (id bigint PRIMARY KEY, full_name text, street text, city text, amount numeric(12,3), updated_at timestamptz NOT NULL);
  INSERT INTO customers VALUES
    (1, 'Ada Lovelace', 'Main St 1', 'London', 10.125, '2024-01-01 10:00:00+00'),
    (2, 'Alan Turing', NULL, 'Wilmslow', 20.5, '2024-01-02 10:00:00+00'),
    (3, 'Grace', 'Navy Rd', NULL, NULL, '2024-01-03 10:00:00+00');`;

describe('run engine on PostgreSQL into DuckDB', () => {
  it('loads a full snapshot with transforms and metadata; plan and preview write nothing', async () => {
    const db = await freshDb(CUSTOMERS);
    const p = h.pipeline({
      name: 'customers',
      source: { type: 'postgres', connection: conn(db), table: 'customers' },
      load: { mode: 'full' },
      transform: [
        { target: 'first_name', split: { column: 'full_name', delimiter: ' ', index: 0 } },
        { target: 'last_name', split: { column: 'full_name', delimiter: ' ', index: -1 } },
        { target: 'address', join: { columns: ['street', 'city'], separator: ', ' } },
        { target: 'amount', from: 'amount', type: 'decimal(10,2)' },
      ],
      destination: { type: 'duckdb', path: 'shop.duckdb', table: 'customers' },
    });

    const plan = await h.engine.plan(p);
    expect(plan.parts).toHaveLength(1);
    expect(plan.parts[0]?.sql).toMatch(/customers/);
    expect(plan.schema_diff).toEqual([expect.objectContaining({ change: 'create' })]);
    const preview = await h.engine.preview(p, 2);
    expect(preview.rows).toHaveLength(2);
    expect(preview.columns.map((c) => c.name)).toEqual([
      'id',
      'amount',
      'updated_at',
      'first_name',
      'last_name',
      'address',
      '_etl_run_id',
      '_etl_loaded_at',
      '_etl_pipeline',
    ]);
    expect(existsSync(join(h.lakeDir, 'shop.duckdb'))).toBe(false);
    expect(h.store.getWatermarks('customers')).toEqual([]);

    const outcome = await h.run(p);
    expect(outcome).toMatchObject({
      rowsExtracted: 3,
      rowsLoaded: 3,
      verdict: 'match',
      alreadyCommitted: false,
    });
    expect(
      await h.duck(
        'shop.duckdb',
        'SELECT id, CAST(amount AS VARCHAR), first_name, last_name, address, _etl_pipeline, _etl_run_id FROM customers ORDER BY id',
      ),
    ).toEqual([
      [1n, '10.13', 'Ada', 'Lovelace', 'Main St 1, London', 'customers', outcome.runId],
      [2n, '20.50', 'Alan', 'Turing', 'Wilmslow', 'customers', outcome.runId],
      [3n, null, 'Grace', 'Grace', 'Navy Rd', 'customers', outcome.runId],
    ]);
    expect(await h.duck('shop.duckdb', 'SELECT count(DISTINCT _etl_loaded_at) FROM customers')).toEqual([
      [1n],
    ]);
    expect(h.tempEntries()).toEqual([]);
    expect(h.store.listParts(outcome.runId)).toEqual([expect.objectContaining({ status: 'done', rows: 3 })]);

    await pg.query(`DELETE FROM customers WHERE id = 3`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.duck('shop.duckdb', 'SELECT count(*) FROM customers')).toEqual([[2n]]);
  });

  it('fails a transform on an unknown column before any data query, and a failing cast naming the column', async () => {
    const db = await freshDb(CUSTOMERS);
    const p = h.pipeline({
      name: 'badtransform',
      source: { type: 'postgres', connection: conn(db), table: 'customers' },
      load: { mode: 'full' },
      transform: [{ target: 'x', from: 'no_such_column' }],
      destination: { type: 'duckdb', path: 'bad.duckdb', table: 't' },
    });
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'TRANSFORM_INVALID',
      message: expect.stringContaining('no_such_column'),
    });
    expect(h.governor.acquires).toBe(0);
    expect(existsSync(join(h.lakeDir, 'bad.duckdb'))).toBe(false);

    const cast = h.pipeline({
      name: 'badcast',
      source: { type: 'postgres', connection: conn(db), table: 'customers' },
      load: { mode: 'full' },
      transform: [{ target: 'city_number', from: 'city', type: 'int32' }],
      destination: { type: 'duckdb', path: 'bad.duckdb', table: 't' },
    });
    const failed = await h.run(cast).then(
      () => new Error('expected the cast to fail'),
      (e: unknown) => e as Error,
    );
    expect(failed.message).toMatch(/transform "city_number": a value of column city cannot be cast to int32/);
    expect(failed.message).not.toContain('London');
    expect(existsSync(join(h.lakeDir, 'bad.duckdb'))).toBe(false);
    expect(h.tempEntries()).toEqual([]);
  });

  it('reads chunks in parallel with the same result as one unchunked read', async () => {
    const db = await freshDb(`
      CREATE TABLE items (id int PRIMARY KEY, label text, price numeric(10,2));
      INSERT INTO items SELECT g, 'item ' || g || CASE WHEN g % 7 = 0 THEN E' "quoted",\\nline' ELSE '' END, g * 1.25 FROM generate_series(1, 5000) g;
      ANALYZE items;`);
    const base = {
      source: { type: 'postgres', connection: conn(db), table: 'items', key: ['id'] },
      load: { mode: 'full' },
    };
    const chunked = h.pipeline({
      ...base,
      name: 'chunked',
      source: { ...base.source, chunk_rows: 700, parallelism: 3 },
      destination: { type: 'duckdb', path: 'c.duckdb', table: 'items' },
    });
    const whole = h.pipeline({
      ...base,
      name: 'whole',
      destination: { type: 'duckdb', path: 'w.duckdb', table: 'items' },
    });
    const a = await h.run(chunked);
    const b = await h.run(whole);
    expect(a.rowsLoaded).toBe(5000);
    expect(b.rowsLoaded).toBe(5000);
    const parts = h.store.listParts(a.runId);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.every((part) => part.status === 'done')).toBe(true);
    expect(h.governor.maxSeen).toBeLessThanOrEqual(3);
    const sql = `SELECT md5(string_agg(id || '|' || label || '|' || price, ',' ORDER BY id)), count(*) FROM items`;
    expect(await h.duck('c.duckdb', sql)).toEqual(await h.duck('w.duckdb', sql));
  });

  it('takes a consistent cut across chunks while a writer moves money between rows', async () => {
    const db = await freshDb(`
      CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
      INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 20000) g;
      ANALYZE accounts;`);
    let writing = true;
    let transfers = 0;
    const writer = (async () => {
      while (writing) {
        const from = 1 + (transfers % 1000);
        const to = 19000 + (transfers % 1000);
        await pg.query(
          `BEGIN; UPDATE accounts SET balance = balance - 7 WHERE id = ${to}; UPDATE accounts SET balance = balance + 7 WHERE id = ${from}; COMMIT;`,
          [],
          db,
        );
        transfers++;
      }
    })();
    try {
      const p = h.pipeline({
        name: 'accounts',
        source: {
          type: 'postgres',
          connection: conn(db),
          table: 'accounts',
          key: ['id'],
          chunk_rows: 1000,
          parallelism: 2,
        },
        load: { mode: 'full' },
        destination: { type: 'duckdb', path: 'acc.duckdb', table: 'accounts' },
      });
      for (let i = 0; i < 3; i++) {
        await h.run(p);
        expect(await h.duck('acc.duckdb', 'SELECT sum(balance), count(*) FROM accounts')).toEqual([
          [20_000_000n, 20000n],
        ]);
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(transfers).toBeGreaterThan(0);
  });
});
