/**
 * Regression tests for the correctness audit's findings, against a real PostgreSQL source: each
 * test reproduces a finding that lost or duplicated rows while the run reported `match`, and
 * checks the destination row by row.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { watermarkCommand } from '../../daemon/engine/watermark-operations.js';
import { createHarness, type Harness } from './engine-harness.js';

let pgServer: PostgresServer;
let h: Harness;
let dbCounter = 0;

beforeAll(async () => {
  pgServer = await startPostgres();
});
afterAll(async () => {
  await pgServer.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

async function freshDb(seed: string): Promise<string> {
  const name = `eo${++dbCounter}`;
  await pgServer.createDatabase(name);
  await pgServer.query(seed, [], name);
  return name;
}

function source(db: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'postgres',
    connection: { host: pgServer.host, port: pgServer.port, user: pgServer.user, database: db },
    ...extra,
  };
}

function duck(name: string): Record<string, unknown> {
  return { type: 'duckdb', path: 'eo.duckdb', table: name };
}

describe('sharded merge keeps each shard its own rows (finding 1)', () => {
  it('rows of two shards with the same id are two rows, in DuckDB and in a Delta table', async () => {
    const seed = `CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL, updated_at timestamptz NOT NULL);`;
    const a = await freshDb(
      `${seed} INSERT INTO orders VALUES (1, 10, '2024-01-01'), (2, 20, '2024-01-01');`,
    );
    const b = await freshDb(
      `${seed} INSERT INTO orders VALUES (1, 100, '2024-01-01'), (2, 200, '2024-01-01'), (3, 300, '2024-01-01');`,
    );
    const shards = source(a, {
      shards: [{ name: 's1' }, { name: 's2', database: b }],
      table: 'orders',
      key: ['id'],
    });
    for (const destination of [duck('sharded'), { type: 'delta', path: 'sharded-delta' }]) {
      const name = destination.type === 'delta' ? 'sharded_delta' : 'sharded';
      const p = h.pipeline({
        name,
        source: shards,
        load: { mode: 'merge', cursor: 'updated_at' },
        destination,
      });
      expect(await h.run(p)).toMatchObject({ rowsExtracted: 5, rowsLoaded: 5, verdict: 'match' });
    }
    expect(
      await h.duck('eo.duckdb', 'SELECT id, amount, _etl_shard FROM sharded ORDER BY _etl_shard, id'),
    ).toEqual([
      [1, 10, 's1'],
      [2, 20, 's1'],
      [1, 100, 's2'],
      [2, 200, 's2'],
      [3, 300, 's2'],
    ]);
    // An update on one shard changes that shard's row only.
    await pgServer.query(`UPDATE orders SET amount = 111, updated_at = '2024-01-02' WHERE id = 1`, [], b);
    const p = h.pipeline({
      name: 'sharded',
      source: shards,
      load: { mode: 'merge', cursor: 'updated_at' },
      destination: duck('sharded'),
    });
    expect(await h.run(p)).toMatchObject({ verdict: 'match' });
    expect(
      await h.duck(
        'eo.duckdb',
        'SELECT id, amount, _etl_shard FROM sharded WHERE id = 1 ORDER BY _etl_shard',
      ),
    ).toEqual([
      [1, 10, 's1'],
      [1, 111, 's2'],
    ]);
  });

  it('accepts _etl_shard written in the key, and the PostgreSQL destination keys on (id, _etl_shard)', async () => {
    const seed = `CREATE TABLE t (id int PRIMARY KEY, v text);`;
    const a = await freshDb(`${seed} INSERT INTO t VALUES (1, 'a1');`);
    const b = await freshDb(`${seed} INSERT INTO t VALUES (1, 'b1');`);
    const target = await freshDb('SELECT 1');
    const p = h.pipeline({
      name: 'sharded_pg',
      source: source(a, {
        shards: [{ name: 's1' }, { name: 's2', database: b }],
        table: 't',
        key: ['id', '_etl_shard'],
      }),
      load: { mode: 'merge' },
      destination: {
        type: 'postgres',
        connection: { host: pgServer.host, port: pgServer.port, user: pgServer.user, database: target },
        table: 'public.t',
      },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(await pgServer.query(`SELECT id, v, _etl_shard FROM t ORDER BY _etl_shard`, [], target)).toEqual([
      { id: 1, v: 'a1', _etl_shard: 's1' },
      { id: 1, v: 'b1', _etl_shard: 's2' },
    ]);
  });
});

describe('the destination ahead of the state store (finding 2)', () => {
  const ORDERS = `CREATE TABLE orders (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
    INSERT INTO orders VALUES (1, '2024-01-01'), (2, '2024-01-02');`;

  function pipeline(
    db: string,
    name: string,
    destination: Record<string, unknown> = duck(name),
  ): ReturnType<Harness['pipeline']> {
    return h.pipeline({
      name,
      source: source(db, { table: 'orders', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination,
    });
  }

  function failWatermarkWritesOnce(): void {
    const store = h.store;
    const original = store.commitWatermarks.bind(store);
    let armed = true;
    store.commitWatermarks = (...args) => {
      if (armed) {
        armed = false;
        throw new Error('SQLITE_FULL: database or disk is full');
      }
      original(...args);
    };
  }

  it('a failed state write after the commit is retryable, and the next sequence catches up instead of loading the batch again', async () => {
    const db = await freshDb(ORDERS);
    for (const destination of [duck('ahead'), { type: 'delta', path: 'ahead-delta' }]) {
      const name = destination.type === 'delta' ? 'ahead_delta' : 'ahead';
      const p = pipeline(db, name, destination);
      await h.run(p);
      await pgServer.query(
        `INSERT INTO orders VALUES (${name === 'ahead' ? 3 : 4}, '2024-01-0${name === 'ahead' ? 3 : 4}')`,
        [],
        db,
      );
      failWatermarkWritesOnce();
      await expect(h.run(p)).rejects.toMatchObject({ code: 'STATE_STORE', retryable: true });
      // Not a retry of that sequence: a new run (its retries ran out, or it was stopped).
      const next = await h.run(p);
      expect(next).toMatchObject({ rowsLoaded: 0, verdict: 'match' });
      expect(h.store.getRuntime(name).committedSequence).toBe(next.sequence);
    }
    expect(await h.duck('eo.duckdb', 'SELECT id, count(*) FROM ahead GROUP BY id ORDER BY id')).toEqual([
      [1, 1n],
      [2, 1n],
      [3, 1n],
    ]);
    const { readWithOracle } = await import('../conformance/delta-oracle.js');
    const table = (await readWithOracle('deltalake', [`${h.lakeDir}/ahead-delta`]))[
      `${h.lakeDir}/ahead-delta`
    ];
    expect(table?.rows?.map((r) => r.id)).toEqual(['1', '2', '3', '4']);
  });

  it('without the committing plan (a restored state store) every run stops with STATE_INCONSISTENT', async () => {
    const db = await freshDb(ORDERS);
    const p = pipeline(db, 'lost_plan');
    const first = await h.run(p);
    await pgServer.query(`INSERT INTO orders VALUES (3, '2024-01-03')`, [], db);
    failWatermarkWritesOnce();
    await expect(h.run(p)).rejects.toMatchObject({ code: 'STATE_STORE' });
    // The state store as a backup from before that run would hold it: no run row, no plan.
    const copy = h.store.listRuns('lost_plan', 10).find((r) => r.sequence !== first.sequence);
    expect(copy).toBeDefined();
    h.store.updateRun(copy!.id, { planJson: null });
    for (let i = 0; i < 2; i++) {
      await expect(h.run(p)).rejects.toMatchObject({
        code: 'STATE_INCONSISTENT',
        retryable: false,
        message: expect.stringContaining('etlctl watermark set'),
      });
    }
    expect(await h.duck('eo.duckdb', 'SELECT id FROM lost_plan ORDER BY id')).toEqual([[1], [2], [3]]);
    // The operator settles it: the destination is complete up to row 3's cursor value.
    const deps = { store: h.store, engine: h.engine };
    const state = await watermarkCommand(
      deps,
      p,
      { pipeline: 'lost_plan', action: 'set', value: '2024-01-03 00:00:00+00' },
      'test',
    );
    expect(state).toMatchObject({
      committed_sequence: state.destination_sequence,
      watermarks: [{ shard: 'default', value: '2024-01-03 00:00:00+00' }],
    });
    expect(state.changes[0]).toMatchObject({ action: 'set' });
    await pgServer.query(`INSERT INTO orders VALUES (4, '2024-01-03 12:00+00'), (5, '2024-01-04')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(await h.duck('eo.duckdb', 'SELECT id FROM lost_plan ORDER BY id')).toEqual([
      [1],
      [2],
      [3],
      [4],
      [5],
    ]);
  });

  it('a destination behind the store stops append runs, while full loads go ahead', async () => {
    const db = await freshDb(ORDERS);
    const p = pipeline(db, 'behind');
    await h.run(p);
    const full = h.pipeline({
      name: 'behind_full',
      source: source(db, { table: 'orders' }),
      load: { mode: 'full' },
      destination: duck('behind_full'),
    });
    await h.run(full);
    // Someone drops the destination tables (and their commit records).
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(`${h.lakeDir}/eo.duckdb`);
    const connection = await instance.connect();
    await connection.run('DROP TABLE behind; DROP TABLE behind_full; DELETE FROM _etld_commits');
    connection.closeSync();
    instance.closeSync();
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'STATE_INCONSISTENT',
      message: expect.stringContaining('lost commits'),
    });
    expect(await h.run(full)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    // Resetting the watermark reads everything again into the emptied destination.
    await watermarkCommand(
      { store: h.store, engine: h.engine },
      p,
      { pipeline: 'behind', action: 'reset' },
      'test',
    );
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(await h.duck('eo.duckdb', 'SELECT id FROM behind ORDER BY id')).toEqual([[1], [2]]);
  });
});

describe('cursor comparisons happen in the source (findings 3 and 10)', () => {
  it('a text cursor under an ICU collation advances and loads each row once', async () => {
    const db = await freshDb(
      `CREATE TABLE tc (id int PRIMARY KEY, c text COLLATE "en-x-icu" NOT NULL); INSERT INTO tc VALUES (1, 'a');`,
    );
    const p = h.pipeline({
      name: 'icu',
      source: source(db, { table: 'tc', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'c' },
      destination: duck('icu'),
    });
    await h.run(p);
    // Under the ICU collation 'B' sorts after 'a'; bytewise it sorts before.
    await pgServer.query(`INSERT INTO tc VALUES (2, 'B')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(h.store.getWatermarks('icu')[0]?.value).toBe('B');
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    await pgServer.query(`INSERT INTO tc VALUES (3, 'c')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.duck('eo.duckdb', 'SELECT id, c FROM icu ORDER BY id')).toEqual([
      [1, 'a'],
      [2, 'B'],
      [3, 'c'],
    ]);
  });

  it('a real (float4) cursor loads the row at its high-water mark in the same run', async () => {
    const db = await freshDb(
      `CREATE TABLE f4 (id int PRIMARY KEY, c real NOT NULL); INSERT INTO f4 VALUES (1, 0.5), (2, 1.1);`,
    );
    const p = h.pipeline({
      name: 'f4',
      source: source(db, { table: 'f4', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'c' },
      destination: duck('f4'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
  });
});

describe('updates at the watermark value (finding 4)', () => {
  const SEED = `CREATE TABLE m (id int PRIMARY KEY, val text NOT NULL, day date NOT NULL);
    INSERT INTO m VALUES (1, 'a', '2024-01-01'), (2, 'x', '2024-01-01');`;

  it('merge applies an update made on the same day (a date cursor)', async () => {
    const db = await freshDb(SEED);
    for (const destination of [duck('same_day'), { type: 'delta', path: 'same-day' }]) {
      const name = destination.type === 'delta' ? 'same_day_delta' : 'same_day';
      const p = h.pipeline({
        name,
        source: source(db, { table: 'm', key: ['id'] }),
        load: { mode: 'merge', cursor: 'day' },
        destination,
      });
      await h.run(p);
    }
    await pgServer.query(`UPDATE m SET val = 'b' WHERE id = 1`, [], db);
    for (const destination of [duck('same_day'), { type: 'delta', path: 'same-day' }]) {
      const name = destination.type === 'delta' ? 'same_day_delta' : 'same_day';
      const p = h.pipeline({
        name,
        source: source(db, { table: 'm', key: ['id'] }),
        load: { mode: 'merge', cursor: 'day' },
        destination,
      });
      expect(await h.run(p)).toMatchObject({ verdict: 'match' });
    }
    expect(await h.duck('eo.duckdb', 'SELECT id, val FROM same_day ORDER BY id')).toEqual([
      [1, 'b'],
      [2, 'x'],
    ]);
    const { readWithOracle } = await import('../conformance/delta-oracle.js');
    const table = (await readWithOracle('deltalake', [`${h.lakeDir}/same-day`]))[`${h.lakeDir}/same-day`];
    expect(table?.rows?.map((r) => [r.id, r.val])).toEqual([
      ['1', 'b'],
      ['2', 'x'],
    ]);
  });

  it('append mode adds the new version of a row updated at the same value, and skips unchanged rows', async () => {
    const db = await freshDb(SEED);
    const p = h.pipeline({
      name: 'same_day_inc',
      source: source(db, { table: 'm', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'day' },
      destination: duck('same_day_inc'),
    });
    await h.run(p);
    await pgServer.query(`UPDATE m SET val = 'b' WHERE id = 1`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsExtracted: 2, rowsLoaded: 1 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    expect(await h.duck('eo.duckdb', 'SELECT id, val FROM same_day_inc ORDER BY id, val')).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, 'x'],
    ]);
  });
});

describe('NULL cursors (finding 5)', () => {
  const SEED = `CREATE TABLE n (id int PRIMARY KEY, updated_at timestamptz); INSERT INTO n VALUES (1, '2024-01-01 10:00+00'), (2, NULL), (3, NULL);`;

  it('fail (the default) names the column and the count, and loads nothing', async () => {
    const db = await freshDb(SEED);
    const p = h.pipeline({
      name: 'nc_fail',
      source: source(db, { table: 'n', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: duck('nc_fail'),
    });
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'SOURCE_DATA',
      message: expect.stringMatching(/2 row\(s\) have a NULL cursor \(column "updated_at"\)/),
    });
    expect(
      await h
        .duck('eo.duckdb', `SELECT count(*) FROM information_schema.tables WHERE table_name = 'nc_fail'`)
        .catch(() => [[0n]]),
    ).toEqual([[0n]]);
  });

  it('exclude reports how many rows every run left out; include (merge) loads them and re-merges them', async () => {
    const db = await freshDb(SEED);
    const excluded = h.pipeline({
      name: 'nc_exclude',
      source: source(db, { table: 'n', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'updated_at', null_cursor: 'exclude' },
      destination: duck('nc_exclude'),
    });
    const outcome = await h.run(excluded);
    expect(outcome).toMatchObject({ rowsLoaded: 1, rowsExcluded: 2 });
    expect(outcome.notes.join('\n')).toMatch(/2 row\(s\) with a NULL "updated_at" excluded/);
    const included = h.pipeline({
      name: 'nc_include',
      source: source(db, { table: 'n', key: ['id'] }),
      load: { mode: 'merge', cursor: 'updated_at', null_cursor: 'include' },
      destination: duck('nc_include'),
    });
    expect(await h.run(included)).toMatchObject({ rowsLoaded: 3, rowsExcluded: 0 });
    await pgServer.query(`UPDATE n SET updated_at = '2024-01-02 00:00+00' WHERE id = 2`, [], db);
    expect(await h.run(included)).toMatchObject({ verdict: 'match' });
    expect(await h.duck('eo.duckdb', 'SELECT id, updated_at IS NULL FROM nc_include ORDER BY id')).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });
});

describe('late commits below the high-water mark (finding 6)', () => {
  it('a transaction open during the run (DEFAULT now()) is loaded by the next run', async () => {
    const db = await freshDb(
      `CREATE TABLE lc (id serial PRIMARY KEY, note text, at timestamptz NOT NULL DEFAULT now());`,
    );
    const writer = new pg.Client({
      host: pgServer.host,
      port: pgServer.port,
      user: pgServer.user,
      database: db,
    });
    await writer.connect();
    try {
      await pgServer.query(`INSERT INTO lc (note) VALUES ('early')`, [], db);
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO lc (note) VALUES ('slow tx')`);
      await pgServer.query(`INSERT INTO lc (note) VALUES ('fast tx')`, [], db);
      const p = h.pipeline({
        name: 'late',
        source: source(db, { table: 'lc', key: ['id'] }),
        load: { mode: 'incremental', cursor: 'at' },
        destination: duck('late'),
      });
      // The high-water mark stays below the open transaction's start: 'fast tx' waits too.
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
      await writer.query('COMMIT');
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
      expect(await h.duck('eo.duckdb', 'SELECT note FROM late ORDER BY id')).toEqual([
        ['early'],
        ['slow tx'],
        ['fast tx'],
      ]);
    } finally {
      await writer.end();
    }
  });

  it('with open_transactions: ignore, load.lag re-reads the window in append mode without duplicates', async () => {
    const db = await freshDb(`CREATE TABLE lg (id int PRIMARY KEY, at timestamptz NOT NULL);
      INSERT INTO lg VALUES (1, '2024-01-01 10:00+00'), (2, '2024-01-01 11:00+00');`);
    const p = h.pipeline({
      name: 'lagged',
      source: source(db, { table: 'lg', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'at', lag: '2h', open_transactions: 'ignore' },
      destination: duck('lagged'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    // A row committed late, below the watermark but inside the lag window.
    await pgServer.query(`INSERT INTO lg VALUES (3, '2024-01-01 10:30+00')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsExtracted: 3, rowsLoaded: 1 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    expect(await h.duck('eo.duckdb', 'SELECT id FROM lagged ORDER BY id')).toEqual([[1], [2], [3]]);
  });
});

describe('merge keys and keyless boundaries (findings 7 and 8)', () => {
  it('a NULL merge key fails the run naming the column and count; the destination keeps its last state', async () => {
    const db = await freshDb(`CREATE TABLE nk (k int, v text); INSERT INTO nk VALUES (1, 'a'), (2, 'z');`);
    for (const destination of [duck('nk'), { type: 'delta', path: 'nk-delta' }]) {
      const name = destination.type === 'delta' ? 'nk_delta' : 'nk';
      const p = h.pipeline({
        name,
        source: source(db, { query: 'SELECT k, v FROM nk', key: ['k'] }),
        load: { mode: 'merge' },
        destination,
      });
      await h.run(p);
    }
    await pgServer.query(`INSERT INTO nk VALUES (NULL, 'x'), (NULL, 'y')`, [], db);
    for (const destination of [duck('nk'), { type: 'delta', path: 'nk-delta' }]) {
      const name = destination.type === 'delta' ? 'nk_delta' : 'nk';
      const p = h.pipeline({
        name,
        source: source(db, { query: 'SELECT k, v FROM nk', key: ['k'] }),
        load: { mode: 'merge' },
        destination,
      });
      await expect(h.run(p)).rejects.toMatchObject({
        code: 'SOURCE_DATA',
        message: expect.stringContaining('column "k" is NULL in 2 row(s)'),
      });
    }
    expect(await h.duck('eo.duckdb', 'SELECT k, v FROM nk ORDER BY k')).toEqual([
      [1, 'a'],
      [2, 'z'],
    ]);
  });

  it('a keyless append pipeline does not append the watermark rows again after a column is added', async () => {
    const db = await freshDb(
      `CREATE TABLE kl (v text, at date NOT NULL); INSERT INTO kl VALUES ('a', '2024-01-01'), ('b', '2024-01-02'), ('c', '2024-01-02');`,
    );
    const p = h.pipeline({
      name: 'keyless',
      source: source(db, { table: 'kl' }),
      load: { mode: 'incremental', cursor: 'at' },
      destination: duck('keyless'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3 });
    await pgServer.query(`ALTER TABLE kl ADD COLUMN extra int`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsExtracted: 2, rowsLoaded: 0 });
    // A value in the new column at the watermark is a new version of that row.
    await pgServer.query(`UPDATE kl SET extra = 7 WHERE v = 'c'`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.duck('eo.duckdb', 'SELECT v, extra FROM keyless ORDER BY v, extra NULLS FIRST')).toEqual([
      ['a', null],
      ['b', null],
      ['c', null],
      ['c', 7],
    ]);
  });

  it('identical keyless rows at the watermark keep their multiplicity', async () => {
    const db = await freshDb(
      `CREATE TABLE dup (v text, at date NOT NULL); INSERT INTO dup VALUES ('a', '2024-01-01'), ('a', '2024-01-01');`,
    );
    const p = h.pipeline({
      name: 'dups',
      source: source(db, { table: 'dup' }),
      load: { mode: 'incremental', cursor: 'at' },
      destination: duck('dups'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    await pgServer.query(`INSERT INTO dup VALUES ('a', '2024-01-01')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.duck('eo.duckdb', 'SELECT count(*) FROM dups')).toEqual([[3n]]);
  });
});

describe('values that no destination can hold (finding 10)', () => {
  it('infinity fails naming the column (never the value), or loads as NULL with infinite_dates: null', async () => {
    const db = await freshDb(
      `CREATE TABLE inf (id int PRIMARY KEY, ts timestamp, d date); INSERT INTO inf VALUES (1, 'infinity', '2024-01-01'), (2, '2024-01-01', '-infinity');`,
    );
    const p = h.pipeline({
      name: 'inf',
      source: source(db, { table: 'inf' }),
      load: { mode: 'full' },
      destination: duck('inf'),
    });
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'SOURCE_DATA',
      message: expect.stringMatching(/column "ts" holds infinity or -infinity/),
    });
    const nulls = h.pipeline({
      name: 'inf_null',
      source: source(db, { table: 'inf', infinite_dates: 'null' }),
      load: { mode: 'full' },
      destination: duck('inf_null'),
    });
    expect(await h.run(nulls)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.duck('eo.duckdb', 'SELECT id, ts IS NULL, d IS NULL FROM inf_null ORDER BY id')).toEqual([
      [1, true, false],
      [2, false, true],
    ]);
  });

  it("time '24:00:00' reaches a Delta table as 24:00:00", async () => {
    const db = await freshDb(
      `CREATE TABLE tm (id int PRIMARY KEY, t time); INSERT INTO tm VALUES (1, '24:00:00'), (2, '23:59:59.5');`,
    );
    const p = h.pipeline({
      name: 'tm',
      source: source(db, { table: 'tm' }),
      load: { mode: 'full' },
      destination: { type: 'delta', path: 'tm' },
    });
    await h.run(p);
    const { readWithOracle } = await import('../conformance/delta-oracle.js');
    const table = (await readWithOracle('deltalake', [`${h.lakeDir}/tm`]))[`${h.lakeDir}/tm`];
    expect(table?.rows?.map((r) => [r.id, r.t])).toEqual([
      ['1', '24:00:00.000000'],
      ['2', '23:59:59.500000'],
    ]);
  });
});
