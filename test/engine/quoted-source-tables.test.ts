/**
 * `source.table` with quoted parts (shared/qualified-name.ts) against real servers: schema and
 * table names with spaces, dots, quote characters and mixed case are read in full, incremental
 * and merge runs, and PostgreSQL folds unquoted parts to lower case as it does in SQL.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let maria: MariaDbServer;
let h: Harness;

beforeAll(async () => {
  [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
  await pg.createDatabase('quoted');
  await pg.query(
    `CREATE SCHEMA sales;
     CREATE SCHEMA "My ""Sales"".Dept";
     CREATE TABLE sales."Customer Accounts" (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
     CREATE TABLE "My ""Sales"".Dept"."Order Lines" (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
     CREATE TABLE public."MixedCase" (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
     -- Same letters, folded: an unquoted Public.MixedCase must read this one, not "MixedCase".
     CREATE TABLE public.mixedcase (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
     INSERT INTO public.mixedcase VALUES (99, 'folded', '2024-01-01 00:00:00+00');`,
    [],
    'quoted',
  );
  for (const table of [
    'sales."Customer Accounts"',
    '"My ""Sales"".Dept"."Order Lines"',
    'public."MixedCase"',
  ]) {
    await pg.query(
      `INSERT INTO ${table} SELECT g, 'row ' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 50) g`,
      [],
      'quoted',
    );
  }
  await maria.createDatabase('shop');
  await maria.query('CREATE DATABASE `Shop Db.2`');
  await maria.query(
    'CREATE TABLE `Shop Db.2`.`Order ``Lines``` (id INT PRIMARY KEY, label VARCHAR(50), updated_at DATETIME(6) NOT NULL)',
  );
  await maria.query(
    "INSERT INTO `Shop Db.2`.`Order ``Lines``` SELECT seq, CONCAT('row ', seq), TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_50",
    [],
    'shop',
  );
  await maria.query(
    'CREATE TABLE `MixedCase` (id INT PRIMARY KEY, label VARCHAR(50), updated_at DATETIME(6) NOT NULL)',
    [],
    'shop',
  );
  await maria.query(
    "INSERT INTO `MixedCase` SELECT seq, CONCAT('row ', seq), TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_50",
    [],
    'shop',
  );
}, 120_000);
afterAll(async () => {
  await Promise.all([pg.destroy(), maria.destroy()]);
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

type Source = { type: 'postgres' | 'mysql'; connection: Record<string, unknown> };

const postgres = (): Source => ({ type: 'postgres', connection: pgConnection(pg, 'quoted') });
const mariadb = (): Source => ({
  type: 'mysql',
  connection: { host: maria.host, port: maria.port, user: maria.user, database: 'shop' },
});

/** Full, incremental (twice, with a new row in between) and merge runs of one table. */
async function readsEveryWay(name: string, source: Source, table: string, insert: () => Promise<void>) {
  const pipeline = (mode: string, extra: Record<string, unknown> = {}) =>
    h.pipeline({
      name: `${name}_${mode}`,
      source: { ...source, table, key: ['id'], chunk_rows: 20 },
      load: { mode, ...extra },
      destination: { type: 'duckdb', path: 'quoted.duckdb', table: `${name}_${mode}` },
    });
  const full = pipeline('full');
  expect(await h.run(full)).toMatchObject({ rowsLoaded: 50 });
  const incremental = pipeline('incremental', { cursor: 'updated_at' });
  expect(await h.run(incremental)).toMatchObject({ rowsLoaded: 50 });
  const merge = pipeline('merge', { cursor: 'updated_at' });
  expect(await h.run(merge)).toMatchObject({ rowsLoaded: 50 });
  await insert();
  expect(await h.run(incremental)).toMatchObject({ rowsLoaded: 2 });
  // A merge re-reads the rows at its watermark (late rows there): the row at the old maximum too.
  expect((await h.run(merge)).rowsLoaded).toBeGreaterThanOrEqual(2);
  const summary = (t: string) =>
    h.duck('quoted.duckdb', `SELECT count(*)::INTEGER, count(DISTINCT id)::INTEGER, max(label) FROM ${t}`);
  expect(await summary(`${name}_full`)).toEqual([[50, 50, 'row 9']]);
  // Appends: the updated row 1 arrives again as a second version.
  expect(await summary(`${name}_incremental`)).toEqual([[52, 51, 'row 9']]);
  // The updated row 1 replaced its old self, the new row 51 was added.
  expect(await summary(`${name}_merge`)).toEqual([[51, 51, 'row 9']]);
  expect(await h.duck('quoted.duckdb', `SELECT label FROM ${name}_merge WHERE id = 1`)).toEqual([
    ['changed'],
  ]);
}

describe('quoted source.table names', () => {
  it('PostgreSQL: sales."Customer Accounts"', async () => {
    await readsEveryWay('pg_accounts', postgres(), 'sales."Customer Accounts"', async () => {
      await pg.query(
        `UPDATE sales."Customer Accounts" SET label = 'changed', updated_at = '2024-02-01 00:00:00+00' WHERE id = 1;
         INSERT INTO sales."Customer Accounts" VALUES (51, 'new', '2024-02-01 00:00:00+00')`,
        [],
        'quoted',
      );
    });
  });

  it('PostgreSQL: a schema with a doubled quote and a dot, a table with a space', async () => {
    const table = '"My ""Sales"".Dept"."Order Lines"';
    await readsEveryWay('pg_lines', postgres(), table, async () => {
      await pg.query(
        `UPDATE ${table} SET label = 'changed', updated_at = '2024-02-01 00:00:00+00' WHERE id = 1;
         INSERT INTO ${table} VALUES (51, 'new', '2024-02-01 00:00:00+00')`,
        [],
        'quoted',
      );
    });
  });

  it('PostgreSQL: public."MixedCase" keeps its case; unquoted Public.MixedCase folds', async () => {
    const quoted = h.pipeline({
      name: 'pg_mixed',
      source: { ...postgres(), table: 'public."MixedCase"' },
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'quoted.duckdb', table: 'pg_mixed' },
    });
    expect(await h.run(quoted)).toMatchObject({ rowsLoaded: 50 });
    const folded = h.pipeline({
      name: 'pg_folded',
      source: { ...postgres(), table: 'Public.MixedCase' },
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'quoted.duckdb', table: 'pg_folded' },
    });
    expect(await h.run(folded)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.duck('quoted.duckdb', 'SELECT label FROM pg_folded')).toEqual([['folded']]);
  });

  it('MariaDB: `Shop Db.2`.`Order ``Lines``` in another database than the connection', async () => {
    await readsEveryWay('maria_lines', mariadb(), '`Shop Db.2`.`Order ``Lines```', async () => {
      await maria.query(
        "UPDATE `Shop Db.2`.`Order ``Lines``` SET label = 'changed', updated_at = '2024-02-01 00:00:00' WHERE id = 1",
      );
      await maria.query(
        "INSERT INTO `Shop Db.2`.`Order ``Lines``` VALUES (51, 'new', '2024-02-01 00:00:00')",
      );
    });
  });

  it('MariaDB: an unquoted mixed-case name is used as written', async () => {
    await readsEveryWay('maria_mixed', mariadb(), 'MixedCase', async () => {
      await maria.query(
        "UPDATE `MixedCase` SET label = 'changed', updated_at = '2024-02-01 00:00:00' WHERE id = 1",
        [],
        'shop',
      );
      await maria.query("INSERT INTO `MixedCase` VALUES (51, 'new', '2024-02-01 00:00:00')", [], 'shop');
    });
  });
});
