/**
 * Full refreshes and backfills at the engine, against a real PostgreSQL source, where the CLI test
 * (test/cli/state-operations.test.ts) does not reach: the PostgreSQL destination's append of the
 * missing rows (counted as multisets), the same through a Delta destination, and the full refresh of
 * a merge pipeline whose batch holds a key twice.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedPipeline } from '../../shared/config/pipeline-files.js';
import type { BackfillRange } from '../../shared/types.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let server: PostgresServer;
let h: Harness;
let databases = 0;

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

async function database(seed: string): Promise<string> {
  const name = `rk${++databases}`;
  await server.createDatabase(name);
  await server.query(seed, [], name);
  return name;
}

function connection(db: string): Record<string, unknown> {
  return { host: server.host, port: server.port, user: server.user, database: db };
}

function backfill(range: Omit<BackfillRange, 'shard'>, pipeline: LoadedPipeline): ReturnType<Harness['run']> {
  return h.run(pipeline, { kind: { kind: 'backfill', range: { ...range, shard: null } } });
}

describe('a backfill of an append pipeline into PostgreSQL', () => {
  it('appends only the rows the table lacks, copy by copy, and nothing when run again', async () => {
    const db = await database(
      `CREATE TABLE log (note text NOT NULL, updated_at timestamptz NOT NULL);
       INSERT INTO log VALUES ('a', '2024-01-01 01:00+00'), ('dup', '2024-01-01 02:00+00'),
         ('dup', '2024-01-01 02:00+00'), ('b', '2024-01-01 03:00+00'), ('c', '2024-01-01 04:00+00');`,
    );
    const lake = await database('SELECT 1');
    const p = h.pipeline({
      name: 'log',
      source: { type: 'postgres', connection: connection(db), table: 'log' },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'postgres', connection: connection(lake), table: 'public.log' },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 5, verdict: 'match' });
    const rows = async (): Promise<unknown[]> =>
      (
        await server.query<{ note: string; n: string }>(
          'SELECT note, count(*) AS n FROM log GROUP BY note ORDER BY note',
          [],
          lake,
        )
      ).map((r) => [r.note, Number(r.n)]);
    // One of the two identical rows is lost, and so is 'b'; a row arrives late below the watermark.
    await server.query(
      `DELETE FROM log WHERE ctid IN (SELECT ctid FROM log WHERE note = 'dup' LIMIT 1); DELETE FROM log WHERE note = 'b'`,
      [],
      lake,
    );
    await server.query(`INSERT INTO log VALUES ('late', '2024-01-01 02:30+00')`, [], db);

    const range = { from: '2024-01-01 00:00:00', to: '2024-01-01 04:00:00' };
    const first = await backfill(range, p);
    expect(first).toMatchObject({ rowsExtracted: 5, rowsLoaded: 3, verdict: 'match' });
    const expected = [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['dup', 2],
      ['late', 1],
    ];
    expect(await rows()).toEqual(expected);
    const again = await backfill(range, p);
    expect(again).toMatchObject({ rowsExtracted: 5, rowsLoaded: 0, verdict: 'match' });
    expect(again.notes).toContain(
      '5 row(s) of the backfill range were in the destination already and were not appended again',
    );
    expect(await rows()).toEqual(expected);
    // The watermark is the normal run's: still the 04:00 row's.
    expect(h.store.getWatermarks('log').map((w) => w.value)).toEqual(['2024-01-01 04:00:00+00']);
  });

  it('into Delta appends the late row the table lacks, and nothing when repeated', async () => {
    const db = await database(
      `CREATE TABLE log (note text NOT NULL, updated_at timestamptz NOT NULL);
       INSERT INTO log VALUES ('a', '2024-01-01 01:00+00'), ('b', '2024-01-01 03:00+00');`,
    );
    const p = h.pipeline({
      name: 'log_delta',
      source: { type: 'postgres', connection: connection(db), table: 'log' },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'delta', path: 'log-delta' },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    // A row arrives late, below the watermark: only a backfill reads it.
    await server.query(`INSERT INTO log VALUES ('late', '2024-01-01 02:00+00')`, [], db);
    const range = { from: '2024-01-01 00:00:00', to: '2024-01-01 03:00:00', shard: null };
    await h.engine.checkBackfill(p, range);
    expect(await backfill(range, p)).toMatchObject({ rowsExtracted: 2, rowsLoaded: 1, verdict: 'match' });
    expect(await backfill(range, p)).toMatchObject({ rowsExtracted: 2, rowsLoaded: 0, verdict: 'match' });
    const table = join(h.lakeDir, 'log-delta');
    const read = (await readWithOracle('deltalake', [table]))[table];
    expect((read?.rows ?? []).map((r) => String(r.note)).sort()).toEqual(['a', 'b', 'late']);
    // The watermark is still the normal run's.
    expect(h.store.getWatermarks('log_delta').map((w) => w.value)).toEqual(['2024-01-01 03:00:00+00']);
  });
});

describe('a full refresh of a merge pipeline', () => {
  it('replaces the PostgreSQL table with the newest row per key and drops keys gone from the source', async () => {
    const db = await database(
      `CREATE TABLE versions (id int NOT NULL, v int NOT NULL, name text NOT NULL);
       INSERT INTO versions VALUES (1, 1, 'one'), (2, 1, 'two'), (3, 1, 'three');`,
    );
    const lake = await database('SELECT 1');
    const p = h.pipeline({
      name: 'versions',
      source: {
        type: 'postgres',
        connection: connection(db),
        query: 'SELECT id, v, name FROM versions',
        key: ['id'],
      },
      load: { mode: 'merge', cursor: 'v' },
      destination: { type: 'postgres', connection: connection(lake), table: 'public.versions' },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 3 });
    // The source now holds key 1 twice (a query can), and key 3 is gone.
    await server.query(
      `INSERT INTO versions VALUES (1, 2, 'one again'); DELETE FROM versions WHERE id = 3`,
      [],
      db,
    );
    const refresh = await h.run(p, { kind: { kind: 'full_refresh' } });
    expect(refresh).toMatchObject({ rowsExtracted: 3, rowsLoaded: 2, verdict: 'match' });
    expect(
      (
        await server.query<{ id: number; v: number; name: string }>(
          'SELECT id, v, name FROM versions ORDER BY id',
          [],
          lake,
        )
      ).map((r) => [r.id, r.v, r.name]),
    ).toEqual([
      [1, 2, 'one again'],
      [2, 1, 'two'],
    ]);
    expect(h.store.getWatermarks('versions').map((w) => w.value)).toEqual(['2']);
    const commits = await server.query<{ sequence: string }>(
      `SELECT max(sequence)::text AS sequence FROM _etld_commits WHERE pipeline = 'versions'`,
      [],
      lake,
    );
    expect(commits).toEqual([{ sequence: String(refresh.sequence) }]);
  });
});
