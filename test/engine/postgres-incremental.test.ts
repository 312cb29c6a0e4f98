import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../../daemon/state/store.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let h: Harness;
let dbCounter = 0;

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

async function freshDb(server: PostgresServer, seed: string): Promise<string> {
  const name = `inc${++dbCounter}`;
  await server.createDatabase(name);
  await server.query(seed, [], name);
  return name;
}

const ORDERS = `CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, updated_at timestamp NOT NULL);
  INSERT INTO orders VALUES (1, 'new', '2024-01-01 10:00:00'), (2, 'new', '2024-01-02 10:00:00'), (3, 'new', '2024-01-03 10:00:00');`;

function ordersConfig(
  db: string,
  mode: 'incremental' | 'merge',
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    source: {
      type: 'postgres',
      connection: { host: pg.host, port: pg.port, user: pg.user, database: db },
      table: 'orders',
      key: ['id'],
    },
    load: { mode, cursor: 'updated_at', start_from: '2024-01-02 00:00:00' },
    destination: { type: 'duckdb', path: 'orders.duckdb', table: name },
    ...extra,
  };
}

function ordersPipeline(
  db: string,
  mode: 'incremental' | 'merge',
  name = `orders_${mode}`,
): ReturnType<Harness['pipeline']> {
  return h.pipeline(ordersConfig(db, mode, name));
}

describe('incremental and merge loads on PostgreSQL', () => {
  it('appends by cursor across runs without losing late rows at the watermark or duplicating', async () => {
    const db = await freshDb(pg, ORDERS);
    const p = ordersPipeline(db, 'incremental');
    const first = await h.run(p);
    expect(first).toMatchObject({
      rowsExtracted: 2,
      rowsLoaded: 2,
      verdict: 'match',
      watermarkFrom: '2024-01-02 00:00:00',
      watermarkTo: '2024-01-03 10:00:00',
    });
    // The boundary: content hashes of the loaded rows at the watermark (row 3), over the recorded columns.
    expect(h.store.getWatermarks(p.name)).toEqual([
      expect.objectContaining({
        shard: 'default',
        value: '2024-01-03 10:00:00',
        identity: { columns: ['id', 'status', 'updated_at'] },
      }),
    ]);
    expect(h.store.getWatermarks(p.name)[0]?.boundary).toHaveLength(1);

    // A row committed late with exactly the watermark's cursor, an update, and a new row.
    await pg.query(
      `INSERT INTO orders VALUES (4, 'late', '2024-01-03 10:00:00');
      UPDATE orders SET status = 'paid', updated_at = '2024-01-04 09:00:00' WHERE id = 1;
      INSERT INTO orders VALUES (5, 'new', '2024-01-04 09:00:00');`,
      [],
      db,
    );
    const second = await h.run(p);
    expect(second).toMatchObject({ rowsExtracted: 4, rowsLoaded: 3, verdict: 'match' });
    expect(h.store.getWatermarks(p.name)[0]).toMatchObject({ value: '2024-01-04 09:00:00' });
    expect(h.store.getWatermarks(p.name)[0]?.boundary).toHaveLength(2);

    const third = await h.run(p);
    expect(third).toMatchObject({ rowsLoaded: 0, verdict: 'match' });
    // Another late row at the (new) watermark value.
    await pg.query(`INSERT INTO orders VALUES (6, 'late', '2024-01-04 09:00:00')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(h.store.getWatermarks(p.name)[0]?.boundary).toHaveLength(3);

    expect(await h.duck('orders.duckdb', `SELECT id, status FROM ${p.name} ORDER BY id, status`)).toEqual([
      [1, 'paid'],
      [2, 'new'],
      [3, 'new'],
      [4, 'late'],
      [5, 'new'],
      [6, 'late'],
    ]);
    expect(h.tempEntries()).toEqual([]);
  });

  it('merges so each key holds its newest row', async () => {
    const db = await freshDb(pg, ORDERS);
    const p = ordersPipeline(db, 'merge');
    await h.run(p);
    await pg.query(
      `UPDATE orders SET status = 'shipped', updated_at = '2024-01-05 00:00:00' WHERE id = 2;
      INSERT INTO orders VALUES (7, 'new', '2024-01-05 00:00:00');`,
      [],
      db,
    );
    // Row 3 sits at the old watermark and is read again: merging it again is idempotent (it is
    // never dropped, so an update at the same cursor value would win).
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3, verdict: 'match' });
    expect(await h.duck('orders.duckdb', `SELECT id, status FROM ${p.name} ORDER BY id`)).toEqual([
      [2, 'shipped'],
      [3, 'new'],
      [7, 'new'],
    ]);
  });

  it('re-running a committed sequence changes nothing, and a crash before the state update is reconciled', async () => {
    const db = await freshDb(pg, ORDERS);
    const p = ordersPipeline(db, 'incremental', 'orders_once');
    const first = await h.run(p);
    const again = await h.run(p, { sequence: first.sequence, attempt: 2 });
    expect(again).toMatchObject({ verdict: 'already_committed', alreadyCommitted: true, rowsLoaded: 0 });
    expect(await h.duck('orders.duckdb', `SELECT count(*) FROM ${p.name}`)).toEqual([[2n]]);

    // Crash between destination commit and state update: the store refuses the watermark commit once.
    await pg.query(`INSERT INTO orders VALUES (8, 'new', '2024-01-06 00:00:00')`, [], db);
    const store = h.store;
    const original = store.commitWatermarks.bind(store);
    let fail = true;
    (store as { commitWatermarks: StateStore['commitWatermarks'] }).commitWatermarks = (...args) => {
      if (fail) {
        fail = false;
        throw new Error('simulated crash after the destination commit');
      }
      original(...args);
    };
    const seq = store.nextSequence(p.name);
    await expect(h.run(p, { sequence: seq })).rejects.toMatchObject({
      code: 'STATE_STORE',
      retryable: true,
      message: expect.stringContaining('simulated crash'),
    });
    expect(store.getWatermarks(p.name)[0]).toMatchObject({
      value: '2024-01-03 10:00:00',
      sequence: first.sequence,
    });
    expect(await h.engine.reconcile(p)).toBe(seq);
    expect(store.getWatermarks(p.name)[0]).toMatchObject({ value: '2024-01-06 00:00:00', sequence: seq });
    expect(await h.engine.reconcile(p)).toBe(seq);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    // The same crash, then the supervisor's retry of that sequence instead of a restart.
    await pg.query(`INSERT INTO orders VALUES (10, 'new', '2024-01-07 00:00:00')`, [], db);
    fail = true;
    const seq2 = store.nextSequence(p.name);
    await expect(h.run(p, { sequence: seq2 })).rejects.toThrow(/simulated crash/);
    expect(await h.run(p, { sequence: seq2, attempt: 2 })).toMatchObject({ verdict: 'already_committed' });
    expect(store.getWatermarks(p.name)[0]).toMatchObject({ value: '2024-01-07 00:00:00', sequence: seq2 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    expect(await h.duck('orders.duckdb', `SELECT id FROM ${p.name} ORDER BY id`)).toEqual([
      [2],
      [3],
      [8],
      [10],
    ]);
  });

  it('refuses load.lag on a cursor that is not a date or timestamp, before extracting', async () => {
    const db = await freshDb(pg, ORDERS);
    const p = h.pipeline({
      name: 'lagged',
      source: {
        type: 'postgres',
        connection: { host: pg.host, port: pg.port, user: pg.user, database: db },
        table: 'orders',
      },
      load: { mode: 'incremental', cursor: 'id', lag: '5m' },
      destination: { type: 'duckdb', path: 'lag.duckdb', table: 't' },
    });
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('load.lag needs a date or timestamp cursor'),
    });
    expect(existsSync(join(h.lakeDir, 'lag.duckdb'))).toBe(false);
  });

  it('re-reads the lag window in merge mode without duplicating keys', async () => {
    const db = await freshDb(pg, ORDERS);
    const p = h.pipeline(
      ordersConfig(db, 'merge', 'orders_lag', { load: { mode: 'merge', cursor: 'updated_at', lag: '1d' } }),
    );
    await h.run(p);
    // Late row below the watermark but inside the lag window.
    await pg.query(`INSERT INTO orders VALUES (9, 'late', '2024-01-03 01:00:00')`, [], db);
    await h.run(p);
    expect(await h.duck('orders.duckdb', `SELECT id FROM orders_lag ORDER BY id`)).toEqual([
      [1],
      [2],
      [3],
      [9],
    ]);
  });

  it('cancels a long extraction: CANCELLED, temp removed, destination untouched', async () => {
    const p = h.pipeline({
      name: 'huge',
      source: {
        type: 'postgres',
        connection: { host: pg.host, port: pg.port, user: pg.user, database: 'postgres' },
        query: 'SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000000) g',
      },
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'huge.duckdb', table: 't' },
    });
    const controller = new AbortController();
    const run = h.run(p, {
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.rows > 0) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(h.tempEntries()).toEqual([]);
    expect(existsSync(join(h.lakeDir, 'huge.duckdb'))).toBe(false);
    const active = await pg.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%generate_series(1, 50000000)%' AND pid <> pg_backend_pid()`,
    );
    expect(Number(active[0]?.n)).toBe(0);
  });

  it('fails a sharded run when one shard is down, loads nothing, and the retry loads every shard once', async () => {
    const second = await startPostgres();
    try {
      const dbA = await freshDb(pg, ORDERS);
      const dbB = await freshDb(second, ORDERS.replace(/'new'/g, "'b'"));
      // The helper's stop() cannot stop a server started through runuser (as root), so "down" is
      // a port nothing listens on; "back" is the same pipeline pointing at the live server.
      const deadPort = await freePort();
      const sharded = (port: number): ReturnType<Harness['pipeline']> =>
        h.pipeline({
          name: 'sharded',
          source: {
            type: 'postgres',
            connection: { host: pg.host, user: pg.user, database: dbA, port: pg.port },
            shards: [{ name: 's1' }, { name: 's2', port, database: dbB }],
            table: 'orders',
            key: ['id'],
          },
          load: { mode: 'incremental', cursor: 'updated_at' },
          connection_retry: { attempts: 1, delay: '10ms' },
          destination: { type: 'duckdb', path: 'sharded.duckdb', table: 'orders' },
        });
      const sequence = h.store.nextSequence('sharded');
      await expect(h.run(sharded(deadPort), { sequence })).rejects.toMatchObject({
        code: 'SOURCE_CONNECTION',
        retryable: true,
      });
      expect(existsSync(join(h.lakeDir, 'sharded.duckdb'))).toBe(false);
      expect(h.store.getWatermarks('sharded')).toEqual([]);
      const p = sharded(second.port);
      const retry = await h.run(p, { sequence, attempt: 2 });
      expect(retry).toMatchObject({ rowsLoaded: 6, verdict: 'match' });
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
      expect(
        await h.duck(
          'sharded.duckdb',
          'SELECT _etl_shard, count(*), count(DISTINCT id) FROM orders GROUP BY 1 ORDER BY 1',
        ),
      ).toEqual([
        ['s1', 3n, 3n],
        ['s2', 3n, 3n],
      ]);
      expect(
        h.store
          .getWatermarks(p.name)
          .map((w) => w.shard)
          .sort(),
      ).toEqual(['s1', 's2']);
      expect(
        h.store
          .listParts(retry.runId)
          .map((part) => part.shard)
          .sort(),
      ).toEqual(['s1', 's2']);
    } finally {
      await second.destroy();
    }
  });
});
