/**
 * `destination.column_names` for every destination: a real PostgreSQL table with names no
 * destination takes plainly is merged twice (the key and cursor are among the renamed columns, a
 * check names a source column) into DuckDB, PostgreSQL, Delta and BigQuery (the strict REST
 * double) under snake_case, and into DuckDB and PostgreSQL under keep; BigQuery under keep
 * refuses at plan time, naming the column and the way out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import { readSnapshot } from '../../daemon/destinations/delta/delta-log-reader.js';
import { DeltaFiles } from '../../daemon/destinations/delta/delta-files.js';
import { FileStore } from '../../daemon/storage/file-store.js';
import { createDestination } from '../../daemon/destinations/registry.js';
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let double: BigQueryDouble;
let h: Harness;

const SNAKE = ['order_id', 'customer_name', 'grosse', 'a_b', 'x_y', '_paren', 'tab_here', 'updated_at'];
const SOURCE = ['order-id', 'Customer Name', 'größe', 'a,b', 'x;y', '(paren)', 'tab\there', 'updated at'];
/** Rows after both runs, in SOURCE/SNAKE column order (text as the destinations read it back). */
const EXPECTED = [
  ['1', 'Ada', '1.50', '10', 'x1', 'p1', 't1'],
  ['2', 'Alan M.', '2.25', null, 'x2', null, 't2'],
  ['3', null, null, '30', null, 'p3', null],
];

beforeAll(async () => {
  [pg, double] = await Promise.all([startPostgres(), startBigQueryDouble()]);
  await pg.createDatabase('names');
  await pg.createDatabase('sink');
  await pg.query(
    `CREATE TABLE people ("order-id" bigint PRIMARY KEY, "Customer Name" text, "größe" numeric(10,2), "a,b" int,
       "x;y" text, "(paren)" text, "tab\there" text, "updated at" timestamptz NOT NULL);
     INSERT INTO people VALUES
       (1, 'Ada', 1.5, 10, 'x1', 'p1', 't1', '2024-01-01 00:00+00'),
       (2, 'Alan', 2.25, NULL, 'x2', NULL, 't2', '2024-01-02 00:00+00'),
       (3, NULL, NULL, 30, NULL, 'p3', NULL, '2024-01-03 00:00+00');`,
    [],
    'names',
  );
}, 120_000);
afterAll(async () => {
  await double?.stop();
  await pg?.destroy();
});
beforeEach(() => {
  h = createHarness({
    createDestination: (config: DestinationConfig, context) =>
      config.type === 'bigquery'
        ? Promise.resolve(new BigQueryDestination(config, context, { poll: { pollMs: 5, maxPollMs: 20 } }))
        : createDestination(config, context),
  });
});
afterEach(() => {
  h.destroy();
});

/** Two merge runs of `people` into `destination`, with a changed row in between. */
async function mergeTwice(name: string, destination: Record<string, unknown>): Promise<void> {
  const p = h.pipeline({
    name,
    source: { type: 'postgres', connection: pgConnection(pg, 'names'), table: 'people', key: ['order-id'] },
    load: { mode: 'merge', cursor: 'updated at' },
    checks: [{ not_null: 'order-id' }, { unique: ['order-id', 'x;y'] }],
    destination,
  });
  expect(await h.run(p)).toMatchObject({ rowsLoaded: 3 });
  await pg.query(
    `UPDATE people SET "Customer Name" = 'Alan M.', "updated at" = '2024-02-01 00:00+00' WHERE "order-id" = 2`,
    [],
    'names',
  );
  try {
    expect((await h.run(p)).rowsLoaded).toBeGreaterThanOrEqual(1);
  } finally {
    await pg.query(
      `UPDATE people SET "Customer Name" = 'Alan', "updated at" = '2024-01-02 00:00+00' WHERE "order-id" = 2`,
      [],
      'names',
    );
  }
}

/** CAST … AS VARCHAR values: text or NULL. */
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

describe('column_names', () => {
  it('DuckDB: snake_case and keep', async () => {
    await mergeTwice('duck_snake', {
      type: 'duckdb',
      path: 'names.duckdb',
      table: 'snake',
      column_names: 'snake_case',
    });
    await mergeTwice('duck_keep', { type: 'duckdb', path: 'names.duckdb', table: 'kept' });
    for (const [table, names] of [
      ['snake', SNAKE],
      ['kept', SOURCE],
    ] as const) {
      const columns = names.slice(0, 7).map((n) => `CAST("${n}" AS VARCHAR)`);
      const rows = await h.duck('names.duckdb', `SELECT ${columns.join(', ')} FROM ${table} ORDER BY 1`);
      expect(rows, table).toEqual(EXPECTED);
      const described = await h.duck('names.duckdb', `SELECT column_name FROM (DESCRIBE ${table})`);
      expect(described.map((r) => r[0]).slice(0, 8), table).toEqual(names);
    }
  });

  it('PostgreSQL: snake_case and keep', async () => {
    const sink = pgConnection(pg, 'sink');
    await mergeTwice('pg_snake', {
      type: 'postgres',
      connection: sink,
      table: 'public.snake',
      column_names: 'snake_case',
    });
    await mergeTwice('pg_keep', {
      type: 'postgres',
      connection: sink,
      table: 'public.kept',
      column_names: 'keep',
    });
    for (const [table, names] of [
      ['snake', SNAKE],
      ['kept', SOURCE],
    ] as const) {
      const columns = names.slice(0, 7).map((n, i) => `"${n}"::text AS c${i}`);
      const rows = await pg.query(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY 1`, [], 'sink');
      expect(
        rows.map((r) => Object.values(r)),
        table,
      ).toEqual(EXPECTED);
      const described = await pg.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
        'sink',
      );
      expect(described.map((r) => r.column_name).slice(0, 8), table).toEqual(names);
    }
  });

  it('Delta: snake_case loads a plain table', async () => {
    await mergeTwice('delta_snake', { type: 'delta', path: 'snake', column_names: 'snake_case' });
    const table = join(h.lakeDir, 'snake');
    const snapshot = await readSnapshot(new DeltaFiles(new FileStore(table)), () =>
      Promise.reject(new Error('no checkpoint expected')),
    );
    expect(snapshot?.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(snapshot?.schema.fields.map((f) => f.name).slice(0, 8)).toEqual(SNAKE);
    const files = [...(snapshot?.files.values() ?? [])].map((a) => `'${join(table, a.path)}'`);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const columns = SNAKE.slice(0, 7).map((n) => `CAST("${n}" AS VARCHAR)`);
      const rows = (
        await connection.runAndReadAll(
          `SELECT ${columns.join(', ')} FROM read_parquet([${files.join(', ')}]) ORDER BY 1`,
        )
      ).getRowsJS();
      expect(rows.map((r) => r.map(text))).toEqual(EXPECTED);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
    // The log says so too: no column mapping metadata.
    const first = await readFile(join(table, '_delta_log', '00000000000000000000.json'), 'utf8');
    expect(first).not.toContain('delta.columnMapping');
  });

  it('BigQuery: snake_case loads; keep is refused at plan time naming the column', async () => {
    const bigquery = {
      type: 'bigquery',
      project: double.project,
      dataset: 'names',
      api_endpoint: double.endpoint,
    };
    await mergeTwice('bq_snake', { ...bigquery, table: 'snake', column_names: 'snake_case' });
    const rows = await double.storage.textRows('names', 'snake', 'order_id');
    expect(rows.map((r) => SNAKE.slice(0, 7).map((n) => r[n] ?? null))).toEqual(EXPECTED);
    const kept = h.pipeline({
      name: 'bq_keep',
      source: { type: 'postgres', connection: pgConnection(pg, 'names'), table: 'people', key: ['order-id'] },
      load: { mode: 'full' },
      destination: { ...bigquery, table: 'kept' },
    });
    await expect(h.run(kept)).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      message: expect.stringMatching(
        /column "order-id" is not a BigQuery column name.*column_names: snake_case/,
      ),
    });
    expect(double.storage.tables.has('names.kept')).toBe(false);
  });
});
