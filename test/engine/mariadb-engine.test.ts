import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let maria: MariaDbServer;
let h: Harness;

beforeAll(async () => {
  maria = await startMariaDb();
  await maria.createDatabase('shop');
  await maria.query(
    `CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(100), price DECIMAL(10,2), updated_at DATETIME(6) NOT NULL)`,
    [],
    'shop',
  );
  await maria.query(
    `INSERT INTO items SELECT seq, CONCAT('item ', seq, IF(seq % 9 = 0, ' "q",\\nx', '')), seq * 1.25, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_3000`,
    [],
    'shop',
  );
  await maria.query('ANALYZE TABLE items', [], 'shop');
});
afterAll(async () => {
  await maria.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

function config(name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    source: {
      type: 'mysql',
      connection: { host: maria.host, port: maria.port, user: maria.user, database: 'shop' },
      table: 'items',
      key: ['id'],
    },
    destination: { type: 'duckdb', path: 'maria.duckdb', table: name },
    ...extra,
  };
}

describe('run engine on MariaDB into DuckDB', () => {
  it('reads chunks under consistent snapshots with the same result as one read', async () => {
    const chunked = h.pipeline({
      ...config('chunked', { load: { mode: 'full' } }),
      source: {
        type: 'mysql',
        connection: { host: maria.host, port: maria.port, user: maria.user, database: 'shop' },
        table: 'items',
        key: ['id'],
        chunk_rows: 500,
        parallelism: 2,
      },
    });
    const whole = h.pipeline(config('whole', { load: { mode: 'full' } }));
    expect(await h.run(chunked)).toMatchObject({ rowsLoaded: 3000, verdict: 'match' });
    expect(await h.run(whole)).toMatchObject({ rowsLoaded: 3000, verdict: 'match' });
    const sql = (t: string): string =>
      `SELECT md5(string_agg(id || '|' || label || '|' || price || '|' || updated_at, ',' ORDER BY id)), count(*) FROM ${t}`;
    expect(await h.duck('maria.duckdb', sql('chunked'))).toEqual(await h.duck('maria.duckdb', sql('whole')));
  });

  it('loads incrementally with late rows at the watermark and no duplicates', async () => {
    const p = h.pipeline(config('inc', { load: { mode: 'incremental', cursor: 'updated_at' } }));
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3000 });
    const mark = h.store.getWatermarks('inc')[0]?.value;
    expect(mark).toMatch(/^2024-01-03 02:00:00(\.0+)?$/);
    await maria.query(
      `INSERT INTO items VALUES (5001, 'late', 1, '2024-01-03 02:00:00'), (5002, 'new', 1, '2024-01-05 00:00:00')`,
      [],
      'shop',
    );
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    expect(await h.duck('maria.duckdb', 'SELECT count(*), count(DISTINCT id) FROM inc')).toEqual([
      [3002n, 3002n],
    ]);
  });
});

describe('operator cursor values on MariaDB', () => {
  it('are read by the source as the cursor type and written back as its watermarks are', async () => {
    const p = h.pipeline(config('values', { load: { mode: 'incremental', cursor: 'updated_at' } }));
    expect((await h.engine.cursorValues(p, ['2024-01-02T03:04:05Z', '2024-01-03'])).values).toEqual([
      '2024-01-02 03:04:05',
      '2024-01-03 00:00:00',
    ]);
    for (const bad of ['soon', '2024-02-30 00:00:00']) {
      await expect(h.engine.cursorValues(p, [bad])).rejects.toMatchObject({
        code: 'USAGE',
        message: expect.stringContaining(
          `pipeline values: "${bad}" is not a valid value of its cursor column "updated_at"`,
        ),
      });
    }
    const byId = h.pipeline(config('by_id', { load: { mode: 'merge', cursor: 'id' } }));
    expect((await h.engine.cursorValues(byId, ['+42'])).values).toEqual(['42']);
    await expect(h.engine.checkBackfill(byId, { from: '50', to: '40', shard: null })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('is empty: --from must be below --to'),
    });
  });
});
