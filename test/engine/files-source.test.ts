/**
 * The files source through the real engine, from a real directory into DuckDB (and PostgreSQL):
 * each file loaded once across runs, a crash after the destination commit settled from the
 * recorded plan, changed files under each policy, bad files failed or quarantined (nothing of
 * them loaded), merge across files (the newest file wins a key), full loads replacing the table,
 * and a seeded random workload compared row by row with a model of what must be loaded.
 */
import { mkdirSync, writeFileSync, utimesSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EtlError } from '../../shared/errors.js';
import type { FailpointName } from '../../daemon/engine/engine.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { BigQueryDestination } from '../../daemon/destinations/bigquery/bigquery-destination.js';
import { createDestination } from '../../daemon/destinations/registry.js';
import type { DestinationConfig } from '../../shared/config/pipeline-schema.js';
import { startBigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { readWithOracle } from '../conformance/delta-oracle.js';
import { createHarness, pgConnection, type Harness } from './engine-harness.js';

let h: Harness;
let landing: string;

beforeEach(() => {
  h = createHarness();
  landing = join(h.dir, 'landing');
  mkdirSync(landing, { recursive: true });
});
afterEach(() => h.destroy());

/** Writes a file under the landing directory, dated `agoSeconds` in the past (min_age is 0 here anyway). */
function drop(key: string, body: string | Buffer, agoSeconds = 60): void {
  const path = join(landing, key);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
  const when = new Date(Date.now() - agoSeconds * 1000);
  utimesSync(path, when, when);
}

function csv(rows: readonly (readonly (string | number)[])[]): string {
  return ['id,name,amount', ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

function filesPipeline(
  name: string,
  extra: Record<string, unknown> = {},
  load: Record<string, unknown> = { mode: 'incremental' },
) {
  return h.pipeline({
    name,
    source: { type: 'files', url: landing, pattern: '**/*.csv*', min_age: '0s', ...extra },
    load,
    destination: { type: 'duckdb', path: 'dest.duckdb', table: name },
  });
}

async function rows(table: string): Promise<unknown[][]> {
  return h.duck('dest.duckdb', `SELECT id, name, amount, _etl_file FROM ${table} ORDER BY id, _etl_file`);
}

describe('files source into DuckDB', () => {
  it('loads each file once across runs, and a run without new files commits nothing', async () => {
    drop(
      '2026/12/a.csv',
      csv([
        [1, 'ann', '1.50'],
        [2, 'bob', '2.25'],
      ]),
    );
    drop('2026/12/b.csv.gz', gzipSync(csv([[3, 'cid', '3.00']])));
    drop('2026/12/ignored.txt', 'not a csv');
    const p = filesPipeline('land');
    const first = await h.run(p);
    expect(first).toMatchObject({ rowsExtracted: 3, rowsLoaded: 3, verdict: 'match' });
    expect(await rows('land')).toEqual([
      [1n, 'ann', 1.5, '2026/12/a.csv'],
      [2n, 'bob', 2.25, '2026/12/a.csv'],
      [3n, 'cid', 3, '2026/12/b.csv.gz'],
    ]);
    const second = await h.run(p);
    expect(second).toMatchObject({ rowsLoaded: 0, verdict: 'skipped' });
    expect(second.notes.join('\n')).toMatch(/nothing new to load/);
    drop('2026/12/c.csv', csv([[4, 'dee', '4.00']]));
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1, verdict: 'match' });
    expect((await rows('land')).length).toBe(4);
    const ledger = h.store.listSourceFiles('land', { limit: 10 });
    expect(ledger.map((f) => [f.key, f.status])).toEqual([
      ['2026/12/a.csv', 'loaded'],
      ['2026/12/b.csv.gz', 'loaded'],
      ['2026/12/c.csv', 'loaded'],
    ]);
    const meta = await h.duck('dest.duckdb', `SELECT DISTINCT typeof(_etl_file_modified_at) FROM land`);
    expect(meta).toEqual([['TIMESTAMP WITH TIME ZONE']]);
  });

  it('a crash after the destination commit is settled from the plan: no file loads twice', async () => {
    drop('a.csv', csv([[1, 'ann', '1.00']]));
    let armed: FailpointName | undefined = 'after-destination-commit';
    const crashing = createHarness({
      failpoint: (name) => {
        if (name === armed) {
          armed = undefined;
          throw new EtlError('INTERRUPTED', `failpoint ${name}`);
        }
      },
    });
    try {
      landing = join(crashing.dir, 'landing');
      mkdirSync(landing, { recursive: true });
      drop('a.csv', csv([[1, 'ann', '1.00']]));
      drop('b.csv', csv([[2, 'bob', '2.00']]));
      const p = crashing.pipeline({
        name: 'crash',
        source: { type: 'files', url: landing, min_age: '0s' },
        load: { mode: 'incremental' },
        destination: { type: 'duckdb', path: 'dest.duckdb', table: 'crash' },
      });
      await expect(crashing.run(p)).rejects.toThrow(/failpoint after-destination-commit/);
      expect(crashing.store.listSourceFiles('crash', { limit: 10 })).toEqual([]);
      drop('c.csv', csv([[3, 'cid', '3.00']]));
      const retry = await crashing.run(p);
      // The retry first settles sequence 1 from its recorded plan (a.csv, b.csv), then loads c.csv.
      expect(retry).toMatchObject({ rowsLoaded: 1 });
      const loaded = await crashing.duck('dest.duckdb', 'SELECT id, _etl_file FROM crash ORDER BY id');
      expect(loaded).toEqual([
        [1n, 'a.csv'],
        [2n, 'b.csv'],
        [3n, 'c.csv'],
      ]);
      expect(crashing.store.listSourceFiles('crash', { limit: 10 }).map((f) => [f.key, f.sequence])).toEqual([
        ['a.csv', 1],
        ['b.csv', 1],
        ['c.csv', 2],
      ]);
    } finally {
      crashing.destroy();
    }
  });

  it('a file changed after its load follows on_changed_file: fail names it, ignore skips it, reload loads it again', async () => {
    drop('a.csv', csv([[1, 'ann', '1.00']]));
    const failing = filesPipeline('changed');
    await h.run(failing);
    drop(
      'a.csv',
      csv([
        [1, 'ann', '1.00'],
        [2, 'bob', '2.00'],
      ]),
      30,
    );
    const error = await h.run(failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).code).toBe('SOURCE_DATA');
    expect((error as EtlError).message).toMatch(/a\.csv/);
    expect((error as EtlError).message).toMatch(/on_changed_file/);
    const ignoring = filesPipeline('changed', { on_changed_file: 'ignore' });
    expect(await h.run(ignoring)).toMatchObject({ verdict: 'skipped' });
    const reloading = h.pipeline({
      name: 'changed',
      source: {
        type: 'files',
        url: landing,
        pattern: '*.csv',
        min_age: '0s',
        on_changed_file: 'reload',
        key: ['id'],
      },
      load: { mode: 'merge' },
      destination: { type: 'duckdb', path: 'dest.duckdb', table: 'changed' },
    });
    expect(await h.run(reloading)).toMatchObject({ rowsLoaded: 2 });
    expect(await h.duck('dest.duckdb', 'SELECT id, name FROM changed ORDER BY id')).toEqual([
      [1n, 'ann'],
      [2n, 'bob'],
    ]);
  });

  it('a bad file fails the run naming it, or is quarantined under on_bad_file: skip; nothing of it is loaded', async () => {
    drop('a.csv', csv([[1, 'ann', '1.00']]));
    drop(
      'b.csv.gz',
      Buffer.concat([gzipSync(csv([[2, 'bob', '2.00']])).subarray(0, 20), Buffer.from('garbage')]),
    );
    drop('c.csv', csv([[3, 'cid', 'not-a-number-7731']]));
    const strict = filesPipeline('bad');
    const error = await h.run(strict).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).message).toMatch(/b\.csv\.gz|c\.csv/);
    expect((error as EtlError).message).not.toMatch(/not-a-number-7731/);
    expect(h.store.listSourceFiles('bad', { limit: 10 })).toEqual([]);
    const skipping = filesPipeline('bad', { on_bad_file: 'skip' });
    const outcome = await h.run(skipping);
    expect(outcome.rowsLoaded).toBe(1);
    expect(outcome.quarantinedFiles?.map((f) => f.key).sort()).toEqual(['b.csv.gz', 'c.csv']);
    for (const f of outcome.quarantinedFiles ?? []) expect(f.reason).not.toMatch(/not-a-number-7731/);
    expect(await h.duck('dest.duckdb', 'SELECT id FROM bad')).toEqual([[1n]]);
    const ledger = h.store.listSourceFiles('bad', { limit: 10 });
    expect(ledger.map((f) => [f.key, f.status])).toEqual([
      ['a.csv', 'loaded'],
      ['b.csv.gz', 'quarantined'],
      ['c.csv', 'quarantined'],
    ]);
    // Unchanged quarantined files are not tried again; a fixed version is.
    expect(await h.run(skipping)).toMatchObject({ verdict: 'skipped' });
    drop('c.csv', csv([[3, 'cid', '3.00']]), 10);
    expect(await h.run(skipping)).toMatchObject({ rowsLoaded: 1 });
    expect(await h.duck('dest.duckdb', 'SELECT id FROM bad ORDER BY id')).toEqual([[1n], [3n]]);
  });

  it('merge upserts by key across files, the most recently modified file winning', async () => {
    drop(
      'old.csv',
      csv([
        [1, 'old', '1.00'],
        [2, 'two', '2.00'],
      ]),
      300,
    );
    drop('new.csv', csv([[1, 'new', '1.10']]), 100);
    const p = h.pipeline({
      name: 'merged',
      source: { type: 'files', url: landing, pattern: '*.csv', min_age: '0s', key: ['id'] },
      load: { mode: 'merge' },
      destination: { type: 'duckdb', path: 'dest.duckdb', table: 'merged' },
    });
    await h.run(p);
    expect(await h.duck('dest.duckdb', 'SELECT id, name FROM merged ORDER BY id')).toEqual([
      [1n, 'new'],
      [2n, 'two'],
    ]);
    drop('newer.csv', csv([[2, 'deux', '2.50']]), 10);
    await h.run(p);
    expect(await h.duck('dest.duckdb', 'SELECT id, name FROM merged ORDER BY id')).toEqual([
      [1n, 'new'],
      [2n, 'deux'],
    ]);
  });

  it('full mode replaces the table with the current files; no file at all fails and keeps the table', async () => {
    drop('a.csv', csv([[1, 'ann', '1.00']]));
    drop('b.csv', csv([[2, 'bob', '2.00']]));
    const p = filesPipeline('snapshot', {}, { mode: 'full' });
    await h.run(p);
    rmSync(join(landing, 'a.csv'));
    await h.run(p);
    expect(await h.duck('dest.duckdb', 'SELECT id FROM snapshot')).toEqual([[2n]]);
    rmSync(join(landing, 'b.csv'));
    await expect(h.run(p)).rejects.toThrow(/no file to load/);
    expect(await h.duck('dest.duckdb', 'SELECT id FROM snapshot')).toEqual([[2n]]);
  });

  it('min_age leaves files being written for a later run', async () => {
    drop('old.csv', csv([[1, 'ann', '1.00']]), 120);
    drop('fresh.csv', csv([[2, 'bob', '2.00']]), 0);
    const p = filesPipeline('young', { min_age: '60s' });
    const outcome = await h.run(p);
    expect(outcome.rowsLoaded).toBe(1);
    expect(outcome.notes.join('\n')).toMatch(/1 younger than min_age/);
  });
});

describe('files source: plan, preview and test write nothing and match the run', () => {
  it('plan lists the next files with counted rows and the schema change; the run then loads exactly those', async () => {
    drop(
      'p/a.csv',
      csv([
        [1, 'ann', '1.50'],
        [2, 'bob', '2.25'],
      ]),
    );
    drop(
      'p/b.csv.gz',
      gzipSync(
        csv([
          [3, 'cid', '3.00'],
          [4, 'dee', '4.00'],
          [5, 'eve', '5.00'],
        ]),
      ),
    );
    const p = filesPipeline('planned');
    const plan = await h.engine.plan(p);
    expect(plan.files).toMatchObject({ count: 2, estimated_rows: 5, rows_exact: true, already_loaded: 0 });
    expect(plan.files?.sample).toEqual(['p/a.csv', 'p/b.csv.gz']);
    expect(plan.parts.map((part) => [part.sql, part.estimated_rows])).toEqual([
      ['p/a.csv', 2],
      ['p/b.csv.gz', 3],
    ]);
    expect(plan.schema_diff.map((c) => c.column)).toEqual(['*']);
    expect(h.store.listSourceFiles('planned', { limit: 10 })).toEqual([]);
    const preview = await h.engine.preview(p, 1);
    expect(preview.columns.map((c) => c.name).slice(0, 5)).toEqual([
      'id',
      'name',
      'amount',
      '_etl_file',
      '_etl_file_modified_at',
    ]);
    expect(preview.rows).toHaveLength(1);
    expect(preview.rows[0]?.slice(0, 4)).toEqual(['1', 'ann', '1.5', 'p/a.csv']);
    const outcome = await h.run(p);
    expect(outcome.rowsLoaded).toBe(plan.files?.estimated_rows);
    const after = await h.engine.plan(p);
    expect(after.files).toMatchObject({ count: 0, already_loaded: 2 });
  });

  it('etlctl test opens the directory, finds a matching file and reads its columns', async () => {
    drop('t/a.csv', csv([[1, 'ann', '1.50']]));
    const result = await h.engine.testConnections(filesPipeline('tested'));
    const source = result.checks.filter((c) => c.target === 'source').map((c) => [c.check, c.status]);
    expect(source).toEqual([
      ['connect', 'ok'],
      ['list', 'ok'],
      ['read', 'ok'],
    ]);
    const missing = await h.engine.testConnections(
      h.pipeline({
        name: 'tested_none',
        source: { type: 'files', url: landing, pattern: '*.parquet' },
        load: { mode: 'incremental' },
        destination: { type: 'duckdb', path: 'dest.duckdb', table: 'none' },
      }),
    );
    expect(missing.checks.find((c) => c.check === 'list')).toMatchObject({ status: 'warning' });
  });
});

describe('files source: explicit columns, files arriving during a run, BigQuery cost', () => {
  it('a columns map replaces inference; a file with another column is bad and named', async () => {
    drop(
      'c/a.csv',
      csv([
        [1, 'ann', '1.50'],
        [2, 'bob', '7'],
      ]),
    );
    const p = h.pipeline({
      name: 'typed',
      source: {
        type: 'files',
        url: landing,
        pattern: 'c/*.csv',
        min_age: '0s',
        columns: { id: 'int32', name: 'text', amount: 'decimal(10,2)' },
      },
      load: { mode: 'incremental' },
      destination: { type: 'duckdb', path: 'dest.duckdb', table: 'typed' },
    });
    await h.run(p);
    expect(
      await h.duck(
        'dest.duckdb',
        `SELECT typeof(id), typeof(amount), amount::VARCHAR FROM typed ORDER BY id`,
      ),
    ).toEqual([
      ['INTEGER', 'DECIMAL(10,2)', '1.50'],
      ['INTEGER', 'DECIMAL(10,2)', '7.00'],
    ]);
    drop('c/b.csv', 'id,name,amount,extra\n3,cid,3.00,x\n');
    const error = await h.run(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtlError);
    expect((error as EtlError).message).toMatch(/c\/b\.csv/);
    expect((error as EtlError).message).toMatch(/extra/);
  });

  it('a file arriving while a run reads is left for the next run, which loads it once', async () => {
    drop('a.csv', csv([[1, 'ann', '1.00']]));
    let dropped = false;
    const racing = createHarness({
      failpoint: (name) => {
        // The run has planned and read its files; this one arrives before its commit.
        if (name === 'before-destination-commit' && !dropped) {
          dropped = true;
          drop('b.csv', csv([[2, 'bob', '2.00']]));
        }
      },
    });
    try {
      const p = racing.pipeline({
        name: 'racing',
        source: { type: 'files', url: landing, min_age: '0s' },
        load: { mode: 'incremental' },
        destination: { type: 'duckdb', path: 'dest.duckdb', table: 'racing' },
      });
      expect(await racing.run(p)).toMatchObject({ rowsLoaded: 1 });
      expect(dropped).toBe(true);
      expect(await racing.run(p)).toMatchObject({ rowsLoaded: 1 });
      expect(await racing.run(p)).toMatchObject({ verdict: 'skipped' });
      expect(await racing.duck('dest.duckdb', 'SELECT id, _etl_file FROM racing ORDER BY id')).toEqual([
        [1n, 'a.csv'],
        [2n, 'b.csv'],
      ]);
    } finally {
      racing.destroy();
    }
  });

  it('plan prices a merge into BigQuery at defaults.bigquery_price_per_tib; the load then runs', async () => {
    const double = await startBigQueryDouble();
    const priced = createHarness({
      bigqueryPricePerTib: 5,
      createDestination: (config: DestinationConfig, context) =>
        config.type === 'bigquery'
          ? Promise.resolve(new BigQueryDestination(config, context, { poll: { pollMs: 5, maxPollMs: 20 } }))
          : createDestination(config, context),
    });
    try {
      landing = join(priced.dir, 'landing');
      mkdirSync(landing, { recursive: true });
      drop(
        'a.csv',
        csv([
          [1, 'ann', '1.50'],
          [2, 'bob', '2.25'],
        ]),
      );
      drop('b.csv', csv([[3, 'cid', '3.00']]));
      const p = priced.pipeline({
        name: 'bq_files',
        source: { type: 'files', url: landing, min_age: '0s', key: ['id'] },
        load: { mode: 'merge' },
        destination: {
          type: 'bigquery',
          project: double.project,
          dataset: 'files',
          table: 'orders',
          api_endpoint: double.endpoint,
        },
      });
      const plan = await priced.engine.plan(p);
      expect(plan.files).toMatchObject({ count: 2, estimated_rows: 3 });
      const bytes = plan.files?.bytes ?? 0;
      // No table yet: the MERGE scans the staged rows only.
      expect(plan.cost).toMatchObject({ load_bytes: bytes, query_bytes: bytes, price_per_tib: 5 });
      expect(plan.cost?.estimated_usd).toBeCloseTo((bytes / 2 ** 40) * 5, 12);
      expect(await priced.run(p)).toMatchObject({ rowsLoaded: 3 });
      expect((await double.storage.textRows('files', 'orders', 'id')).map((r) => r.id)).toEqual([
        '1',
        '2',
        '3',
      ]);
      drop('c.csv', csv([[2, 'bea', '2.50']]));
      const next = await priced.engine.plan(p);
      expect(next.cost?.query_bytes).toBeGreaterThan(next.files?.bytes ?? 0);
    } finally {
      priced.destroy();
      await double.stop();
    }
  });
});

describe('files source into Delta', () => {
  it('each file once into a Delta table that delta-rs reads back, across a retried commit', async () => {
    drop('d/a.csv', csv([[1, 'ann', '1.50']]));
    drop('d/b.ndjson', '{"id": 2, "name": "bob", "amount": 2.25}\n');
    const p = h.pipeline({
      name: 'to_delta',
      source: { type: 'files', url: landing, pattern: 'd/*', min_age: '0s' },
      load: { mode: 'incremental' },
      destination: { type: 'delta', path: 'to_delta' },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    drop('d/c.csv', csv([[3, 'cid', '3.00']]));
    // The same sequence again (a retry after a lost answer) writes nothing; the next loads c.csv.
    expect(await h.run(p, { sequence: 1, attempt: 2 })).toMatchObject({
      rowsLoaded: 0,
      alreadyCommitted: true,
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    const table = join(h.lakeDir, 'to_delta');
    const read = (await readWithOracle('deltalake', [table]))[table];
    expect(read?.error).toBeUndefined();
    expect((read?.rows ?? []).map((r) => `${String(r.id)}:${String(r._etl_file)}`).sort()).toEqual([
      '1:d/a.csv',
      '2:d/b.ndjson',
      '3:d/c.csv',
    ]);
  });
});

describe('files source into PostgreSQL', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase('sink');
  }, 120_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  it('NDJSON whose fields grow loads into PostgreSQL, the new field added as a column', async () => {
    drop('e1.ndjson', '{"id": 1, "kind": "a"}\n{"id": 2, "kind": "b"}\n');
    const p = h.pipeline({
      name: 'events',
      source: { type: 'files', url: landing, pattern: '*.ndjson', min_age: '0s' },
      load: { mode: 'incremental' },
      destination: { type: 'postgres', connection: pgConnection(pg, 'sink'), table: 'public.events' },
    });
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2 });
    drop('e2.ndjson', '{"id": 3, "kind": "c", "score": 2.5}\n');
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 1 });
    const loaded = await pg.query<{ id: string; kind: string; score: number | null; _etl_file: string }>(
      'SELECT id::text, kind, score, _etl_file FROM events ORDER BY id',
      [],
      'sink',
    );
    expect(loaded).toEqual([
      { id: '1', kind: 'a', score: null, _etl_file: 'e1.ndjson' },
      { id: '2', kind: 'b', score: null, _etl_file: 'e1.ndjson' },
      { id: '3', kind: 'c', score: 2.5, _etl_file: 'e2.ndjson' },
    ]);
    drop('e3.ndjson', '{"id": "four", "kind": "d"}\n');
    await expect(h.run(p)).rejects.toThrow(/id/);
  });
});
