/**
 * Data quality checks on every file destination and PostgreSQL, from a real MariaDB source: a
 * failing check leaves the destination byte for byte as it was (Delta and DuckDB files, the
 * PostgreSQL table and its commit record), and quarantined rows land beside the destination
 * (`<path>_quarantine` read back by delta-rs, `<table>_quarantine` in PostgreSQL) while the rest
 * commits.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { startBigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let maria: MariaDbServer;
let pg: PostgresServer;
let h: Harness;
let databases = 0;

beforeAll(async () => {
  [maria, pg] = await Promise.all([startMariaDb(), startPostgres()]);
  await pg.createDatabase('warehouse');
});
afterAll(async () => {
  await Promise.all([maria.destroy(), pg.destroy()]);
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

/** A MariaDB database with 30 clean rows: ids 1..30, code 'ok', score = id. */
async function freshSource(): Promise<string> {
  const name = `checks${++databases}`;
  await maria.createDatabase(name);
  await maria.query(
    'CREATE TABLE items (id INT PRIMARY KEY, code VARCHAR(20), score DECIMAL(8,2), changed_at DATETIME(6) NOT NULL)',
    [],
    name,
  );
  await maria.query(
    `INSERT INTO items SELECT seq, 'ok', seq, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_30`,
    [],
    name,
  );
  return name;
}

type DestinationCase = {
  readonly kind: 'delta' | 'duckdb' | 'postgres';
  destination(name: string): Record<string, unknown>;
  /** Everything the destination holds, as one fingerprint (files byte for byte; PostgreSQL rows and commit record). */
  fingerprint(name: string): Promise<string>;
};

function hashTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${relative(root, path)}\0`).update(readFileSync(path));
    }
  };
  walk(root);
  return hash.digest('hex');
}

const DESTINATIONS: readonly DestinationCase[] = [
  {
    kind: 'delta',
    destination: (name) => ({ type: 'delta', path: `lake/${name}` }),
    fingerprint: (name) => Promise.resolve(hashTree(join(h.lakeDir, 'lake', name))),
  },
  {
    kind: 'duckdb',
    // A directory of its own, so the fingerprint covers the database file and any WAL beside it.
    destination: (name) => ({ type: 'duckdb', path: `${name}/warehouse.duckdb`, table: name }),
    fingerprint: (name) => Promise.resolve(hashTree(join(h.lakeDir, name))),
  },
  {
    kind: 'postgres',
    destination: (name) => ({
      type: 'postgres',
      connection: { host: pg.host, port: pg.port, user: pg.user, database: 'warehouse' },
      table: name,
    }),
    fingerprint: async (name) => {
      const rows = await pg.query(
        `SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM "${name}" t) AS data,
                (SELECT md5(string_agg(c::text, '|' ORDER BY c::text)) FROM _etld_commits c) AS commits,
                (SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = $1) AS columns`,
        [name],
        'warehouse',
      );
      return JSON.stringify(rows);
    },
  },
];

/** The pipeline source reading `items` of the MariaDB database `source`. */
function itemsSource(source: string): Record<string, unknown> {
  return {
    type: 'mysql',
    connection: { host: maria.host, port: maria.port, user: maria.user, database: source },
    table: 'items',
    key: ['id'],
  };
}

function pipeline(
  source: string,
  name: string,
  target: DestinationCase,
  checks: unknown[],
): ReturnType<Harness['pipeline']> {
  return h.pipeline({
    name,
    source: itemsSource(source),
    load: { mode: 'incremental', cursor: 'changed_at' },
    checks,
    destination: target.destination(name),
  });
}

describe('quality checks into each destination from MariaDB', () => {
  for (const target of DESTINATIONS) {
    it(`a failing check leaves ${target.kind} byte for byte unchanged, even with a new column`, async () => {
      const source = await freshSource();
      const name = `untouched_${target.kind}`;
      const p = pipeline(source, name, target, [{ max_null_pct: { column: 'code', max_pct: 10 } }]);
      expect(await h.run(p)).toMatchObject({ rowsLoaded: 30 });
      const before = await target.fingerprint(name);
      // A schema change and rows that fail the check: neither may reach the destination.
      await maria.query('ALTER TABLE items ADD COLUMN note VARCHAR(10)', [], source);
      await maria.query(
        `INSERT INTO items (id, code, score, changed_at) SELECT 100 + seq, NULL, 1, TIMESTAMP('2024-02-01') FROM seq_1_to_5`,
        [],
        source,
      );
      await expect(h.run(p)).rejects.toMatchObject({
        code: 'CHECK_FAILED',
        message: expect.stringContaining('100 % of the batch (5 rows of 5) is NULL in column "code"'),
      });
      expect(await target.fingerprint(name)).toBe(before);
    });
  }

  it('every destination judges the same batch alike, read back from its files (Delta, DuckDB) or parsed again (PostgreSQL)', async () => {
    const source = await freshSource();
    // A TIME column (Delta keeps it as text; the checks compare it as a time) and rows that
    // break every check, each judged with `warn` so every run commits and reports what it saw.
    await maria.query('ALTER TABLE items ADD COLUMN opens TIME', [], source);
    await maria.query(`UPDATE items SET opens = '08:00:00' WHERE id > 2`, [], source);
    await maria.query(`UPDATE items SET code = 'bad', opens = '23:59:59.5' WHERE id IN (7, 8)`, [], source);
    await maria.query(`UPDATE items SET code = NULL, score = -1 WHERE id = 9`, [], source);
    await maria.query(
      `INSERT INTO items (id, code, score, changed_at, opens) VALUES (31, 'ok', 5, '2024-01-01 00:05:00', '09:00:00')`,
      [],
      source,
    );
    const warn = (check: Record<string, unknown>): Record<string, unknown> => ({ ...check, on_fail: 'warn' });
    const checks = [
      warn({ min_rows: 40 }),
      warn({ not_null: 'code' }),
      warn({ max_null_pct: { column: 'opens', max_pct: 5 } }),
      warn({ accepted_values: { column: 'code', values: ['ok'] } }),
      warn({ range: { column: 'opens', min: '07:00:00', max: '22:00:00' } }),
      warn({ range: { column: 'score', min: 0 } }),
      warn({ sql: "score < 30 OR code = 'ok'", name: 'high_scores_ok' }),
      { freshness_column: { column: 'changed_at', max_age: '3650d' } },
    ];
    const observed: Record<string, unknown[]> = {};
    for (const target of DESTINATIONS) {
      const outcome = await h.run(pipeline(source, `alike_${target.kind}`, target, checks));
      expect(outcome.rowsLoaded, target.kind).toBe(31);
      // Freshness observes an age against the clock: compared as the newest value, in minutes.
      observed[target.kind] = outcome.checks.map((c) => [
        c.name,
        c.status,
        c.type === 'freshness_column'
          ? Math.round((Date.now() / 1000 - Number(c.observed)) / 60)
          : c.observed,
      ]);
    }
    expect(observed.delta).toEqual([
      ['min_rows', 'warn', 31],
      ['not_null(code)', 'warn', 1],
      ['max_null_pct(opens)', 'warn', 6.45],
      ['accepted_values(code)', 'warn', 2],
      ['range(opens)', 'warn', 2],
      ['range(score)', 'warn', 1],
      ['high_scores_ok', 'pass', 0],
      // The newest changed_at: 2024-01-01 00:30 UTC.
      ['freshness(changed_at)', 'pass', Date.UTC(2024, 0, 1, 0, 30) / 60_000],
    ]);
    expect(observed.duckdb).toEqual(observed.delta);
    expect(observed.postgres).toEqual(observed.delta);
  });

  it('quarantines into Delta: delta-rs reads the quarantine table and the data table without the rows', async () => {
    const source = await freshSource();
    const target = DESTINATIONS[0] as DestinationCase;
    await maria.query(`UPDATE items SET code = 'bad' WHERE id IN (4, 9)`, [], source);
    const p = pipeline(source, 'dq_delta', target, [
      { accepted_values: { column: 'code', values: ['ok'] }, on_fail: 'quarantine' },
    ]);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 28, verdict: 'match' });
    const data = join(h.lakeDir, 'lake', 'dq_delta');
    const quarantine = join(h.lakeDir, 'lake', 'dq_delta_quarantine');
    const read = await readWithOracle('deltalake', [data, quarantine]);
    expect(read[data]?.rows).toHaveLength(28);
    // The oracle renders values as text.
    expect(read[data]?.rows?.filter((r) => r.id === '4' || r.id === '9')).toEqual([]);
    expect(read[data]?.rows?.filter((r) => r.id === '5')).toHaveLength(1);
    expect(read[quarantine]?.rows?.map((r) => [r.id, r._etl_check]).sort()).toEqual([
      ['4', 'accepted_values(code)'],
      ['9', 'accepted_values(code)'],
    ]);
  });

  it('quarantines into PostgreSQL, in a table of its own beside the data', async () => {
    const source = await freshSource();
    const target = DESTINATIONS[2] as DestinationCase;
    await maria.query(`UPDATE items SET score = -3 WHERE id = 12`, [], source);
    const p = pipeline(source, 'dq_pg', target, [
      { sql: 'score >= 0', on_fail: 'quarantine', name: 'score_sign' },
    ]);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 29, verdict: 'match' });
    expect(await pg.query('SELECT count(*)::int AS n FROM dq_pg', [], 'warehouse')).toEqual([{ n: 29 }]);
    expect(await pg.query('SELECT id, _etl_check FROM dq_pg_quarantine', [], 'warehouse')).toEqual([
      { id: 12, _etl_check: 'score_sign' },
    ]);
  });

  it('quarantines into BigQuery (the strict REST double): its own table, its own deterministic jobs', async () => {
    const double = await startBigQueryDouble();
    const bq = createHarness({
      createDestination: (config: DestinationConfig, context) =>
        Promise.resolve(
          new BigQueryDestination(config as Extract<DestinationConfig, { type: 'bigquery' }>, context, {
            poll: { pollMs: 5, maxPollMs: 20 },
          }),
        ),
    });
    try {
      const source = await freshSource();
      await maria.query(`UPDATE items SET code = NULL WHERE id IN (1, 30)`, [], source);
      const p = bq.pipeline({
        name: 'dq_bq',
        source: itemsSource(source),
        load: { mode: 'merge', cursor: 'changed_at' },
        checks: [{ not_null: 'code', on_fail: 'quarantine' }],
        destination: {
          type: 'bigquery',
          project: double.project,
          dataset: 'dq',
          table: 'items',
          api_endpoint: double.endpoint,
        },
      });
      expect(await bq.run(p)).toMatchObject({ rowsLoaded: 28, verdict: 'match' });
      expect((await double.storage.textRows('dq', 'items', 'id')).map((r) => r.id)).not.toContain('1');
      const quarantined = await double.storage.textRows('dq', 'items_quarantine', 'id');
      expect(quarantined.map((r) => [r.id, r._etl_check])).toEqual([
        ['1', 'not_null(code)'],
        ['30', 'not_null(code)'],
      ]);
      expect(
        [...double.jobs.keys()].filter((id) => id.startsWith('etld_dq_bq_quarantine_dq_items_quarantine_1')),
      ).not.toEqual([]);
    } finally {
      bq.destroy();
      await double.stop();
    }
  });
});
