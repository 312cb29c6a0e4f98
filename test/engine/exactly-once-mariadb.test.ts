/**
 * Regression tests for the correctness audit's findings on a real MariaDB source: its default
 * case-insensitive collation, second-precision DATETIME cursors, late commits and shards.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let maria: MariaDbServer;
let h: Harness;
let dbCounter = 0;

beforeAll(async () => {
  maria = await startMariaDb();
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

async function freshDb(...statements: string[]): Promise<string> {
  const name = `meo${++dbCounter}`;
  await maria.createDatabase(name);
  for (const sql of statements) await maria.query(sql, [], name);
  return name;
}

function source(db: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'mysql',
    connection: { host: maria.host, port: maria.port, user: maria.user, database: db },
    ...extra,
  };
}

function duck(name: string): Record<string, unknown> {
  return { type: 'duckdb', path: 'meo.duckdb', table: name };
}

describe('MariaDB cursors compared by the server', () => {
  it('a text cursor under utf8mb4_general_ci advances and loads each row once (finding 3)', async () => {
    const db = await freshDb(
      `CREATE TABLE tc (id INT PRIMARY KEY, c VARCHAR(20) NOT NULL) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci`,
      `INSERT INTO tc VALUES (1, 'a')`,
    );
    const p = h.pipeline({
      name: 'ci',
      source: source(db, { table: 'tc', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'c' },
      destination: duck('ci'),
    });
    await h.run(p);
    await maria.query(`INSERT INTO tc VALUES (2, 'B')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    // 'b' equals 'B' under the collation: a row at the watermark, new content, loaded once.
    await maria.query(`INSERT INTO tc VALUES (3, 'b')`, [], db);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
    expect(await h.duck('meo.duckdb', 'SELECT id, c FROM ci ORDER BY id')).toEqual([
      [1, 'a'],
      [2, 'B'],
      [3, 'b'],
    ]);
  });

  it('a binary-collated text cursor is compared bytewise without a collation clash', async () => {
    const db = await freshDb(
      `CREATE TABLE tb (id INT PRIMARY KEY, c VARCHAR(20) COLLATE utf8mb4_bin NOT NULL)`,
      `INSERT INTO tb VALUES (1, 'a'), (2, 'B')`,
    );
    const p = h.pipeline({
      name: 'bin',
      source: source(db, { table: 'tb', key: ['id'] }),
      load: { mode: 'incremental', cursor: 'c' },
      destination: duck('bin'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    expect(h.store.getWatermarks('bin')[0]?.value).toBe('a');
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
  });

  it('merge applies an update made within the same second of a DATETIME cursor (finding 4)', async () => {
    const db = await freshDb(
      `CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL, updated_at DATETIME NOT NULL)`,
      `INSERT INTO acct VALUES (1, 100, '2024-01-01 10:00:00'), (2, 50, '2024-01-01 10:00:00')`,
    );
    const p = h.pipeline({
      name: 'acct',
      source: source(db, { table: 'acct', key: ['id'] }),
      load: { mode: 'merge', cursor: 'updated_at' },
      destination: duck('acct'),
    });
    await h.run(p);
    await maria.query(`UPDATE acct SET balance = 0 WHERE id = 1`, [], db);
    expect(await h.run(p)).toMatchObject({ verdict: 'match' });
    expect(await h.duck('meo.duckdb', 'SELECT id, balance FROM acct ORDER BY id')).toEqual([
      [1, 0],
      [2, 50],
    ]);
  });

  it('load.lag picks up a row from a transaction that committed after a run (finding 6)', async () => {
    const db = await freshDb(
      `CREATE TABLE lc (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20), at DATETIME(6) NOT NULL DEFAULT NOW(6))`,
    );
    const writer = await mysql.createConnection({
      host: maria.host,
      port: maria.port,
      user: maria.user,
      database: db,
    });
    try {
      await writer.query('START TRANSACTION');
      await writer.query(`INSERT INTO lc (note) VALUES ('slow tx')`);
      await maria.query(`INSERT INTO lc (note) VALUES ('fast tx')`, [], db);
      // The premise: the slow transaction's row is stamped before the fast one's (NOW(6) is when
      // its statement ran, one round trip earlier), so a watermark at the fast row passes it.
      const [order] = await writer.query(
        `SELECT (SELECT at FROM lc WHERE note = 'slow tx') < (SELECT at FROM lc WHERE note = 'fast tx') AS earlier`,
      );
      expect(order).toEqual([{ earlier: 1 }]);
      const p = h.pipeline({
        name: 'lag',
        source: source(db, { table: 'lc', key: ['id'] }),
        load: { mode: 'incremental', cursor: 'at', lag: '1m' },
        destination: duck('lag'),
      });
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
      await writer.query('COMMIT');
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 0 });
      expect(await h.duck('meo.duckdb', 'SELECT note FROM lag ORDER BY note')).toEqual([
        ['fast tx'],
        ['slow tx'],
      ]);
    } finally {
      await writer.end();
    }
  });

  it('sharded merge keeps equal ids of two shards apart (finding 1)', async () => {
    const a = await freshDb(
      `CREATE TABLE o (id INT PRIMARY KEY, v INT NOT NULL)`,
      `INSERT INTO o VALUES (1, 1), (2, 2)`,
    );
    const b = await freshDb(
      `CREATE TABLE o (id INT PRIMARY KEY, v INT NOT NULL)`,
      `INSERT INTO o VALUES (1, 10)`,
    );
    const p = h.pipeline({
      name: 'mshard',
      source: source(a, { shards: [{ name: 's1' }, { name: 's2', database: b }], table: 'o', key: ['id'] }),
      load: { mode: 'merge' },
      destination: duck('mshard'),
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3, verdict: 'match' });
    expect(
      await h.duck('meo.duckdb', 'SELECT _etl_shard, id, v FROM mshard ORDER BY _etl_shard, id'),
    ).toEqual([
      ['s1', 1, 1],
      ['s1', 2, 2],
      ['s2', 1, 10],
    ]);
  });
});

describe('MariaDB consistent snapshots without stalling writers', () => {
  it('a long statement holding the table: the global read lock is given up within seconds and one reader keeps one snapshot', async () => {
    const db = await freshDb(
      `CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL)`,
      `INSERT INTO big SELECT seq, seq FROM seq_1_to_4000`,
      'ANALYZE TABLE big',
    );
    const blocker = await mysql.createConnection({
      host: maria.host,
      port: maria.port,
      user: maria.user,
      database: db,
    });
    const writer = await mysql.createConnection({
      host: maria.host,
      port: maria.port,
      user: maria.user,
      database: db,
    });
    try {
      // A write running for 12 s: FLUSH TABLES WITH READ LOCK waits for it, and writers queue behind the lock.
      const blocking = blocker
        .query('UPDATE big SET v = v WHERE id = 1 AND SLEEP(12) = 0')
        .catch(() => undefined);
      await maria.statementRunning('SLEEP(12)', 'the blocking UPDATE to run', 'User sleep');
      const p = h.pipeline({
        name: 'locked',
        source: source(db, { table: 'big', key: ['id'], chunk_rows: 1000, parallelism: 2 }),
        load: { mode: 'full' },
        destination: duck('locked'),
      });
      const run = h.run(p);
      // A writer arriving while the coordinator waits for the lock is held back at most that long.
      await maria.statementRunning('FLUSH TABLES WITH READ LOCK', 'the coordinator to wait for the lock');
      const started = Date.now();
      await writer.query('INSERT INTO big VALUES (5000, 5000)');
      const waited = Date.now() - started;
      expect(waited).toBeLessThan(8_000);
      expect(await run).toMatchObject({ verdict: 'match' });
      const loaded = await h.duck('meo.duckdb', 'SELECT count(*), count(DISTINCT id) FROM locked');
      // One snapshot: either before or after the insert, never a mix of chunk cuts.
      expect([
        [4000n, 4000n],
        [4001n, 4001n],
      ]).toContainEqual(loaded[0]);
      await blocking;
    } finally {
      await blocker.end();
      await writer.end();
    }
  });
});

describe('MariaDB connections cut anywhere', () => {
  it('a run whose source connection is cut at any byte ends, in success or a retryable connection error, never a hang', async () => {
    const db = await freshDb(
      `CREATE TABLE cut (id INT PRIMARY KEY, v VARCHAR(200))`,
      `INSERT INTO cut SELECT seq, REPEAT('x', 100) FROM seq_1_to_24`,
    );
    const proxy = await startFaultProxy(maria.host, maria.port);
    try {
      const p = h.pipeline({
        name: 'cut',
        source: {
          type: 'mysql',
          connection: { host: '127.0.0.1', port: proxy.port, user: maria.user, database: db },
          table: 'cut',
          key: ['id'],
          chunk_rows: 15,
          parallelism: 1,
        },
        load: { mode: 'full' },
        connection_retry: { attempts: 2, delay: '100ms' },
        destination: duck('cut'),
      });
      const outcomes = new Map<string, number>();
      // 782 bytes hung before: a query added to a connection already lost got no event at all.
      for (let bytes = 500; bytes < 4000; bytes += 47) {
        proxy.heal();
        proxy.cutAfterBytes(bytes);
        const hang = new Promise<string>((resolve) =>
          setTimeout(() => resolve(`hang after ${bytes} bytes`), 20_000).unref(),
        );
        const outcome = await Promise.race([
          h.run(p).then(
            () => 'succeeded',
            (e: unknown) =>
              `${(e as { code?: string }).code ?? 'no code'}${(e as { retryable?: boolean }).retryable === true ? ' (retryable)' : ''}`,
          ),
          hang,
        ]);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      expect([...outcomes.keys()].sort()).toEqual(['SOURCE_CONNECTION (retryable)', 'succeeded']);
    } finally {
      await proxy.close();
    }
  });
});
