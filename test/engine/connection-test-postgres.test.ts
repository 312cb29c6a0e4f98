/**
 * `etlctl test` at the engine (testConnections) against a real PostgreSQL source, into real
 * PostgreSQL, Delta (local directory) and the BigQuery REST double: all-ok pipelines, and one
 * failure at a time (a source role without SELECT, a missing table, a missing cursor column, a
 * destination role without INSERT/CREATE, BigQuery without updateData, a destination that is
 * down). Every test also proves nothing was written or read: the destination table, the Delta
 * directory and the BigQuery jobs stay absent, and pg_stat_statements shows that no statement
 * naming the source table returned a row.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionCheck, ConnectionTest } from '../../shared/protocol.js';
import { SourceGovernor } from '../../daemon/scheduler/source-governor.js';
import { startBigQueryDouble, type BigQueryDouble } from '../helpers/bigquery-double/bigquery-double.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/wait.js';
import { createHarness, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let bq: BigQueryDouble;
let h: Harness;

const SOURCE_DB = 'shop';
const DEST_DB = 'warehouse';

beforeAll(async () => {
  pg = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
  bq = await startBigQueryDouble();
  await pg.createDatabase(SOURCE_DB);
  await pg.createDatabase(DEST_DB);
  await pg.query(
    `CREATE EXTENSION pg_stat_statements;
     CREATE TABLE events (id bigint PRIMARY KEY, note text NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO events SELECT g, 'n' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, 50) g;
     CREATE ROLE no_select LOGIN;
     GRANT USAGE ON SCHEMA public TO no_select;`,
    [],
    SOURCE_DB,
  );
  await pg.query(
    `CREATE SCHEMA dw;
     CREATE TABLE dw.events_copy (id bigint, note text, updated_at timestamptz);
     CREATE ROLE limited_writer LOGIN;
     GRANT USAGE ON SCHEMA dw TO limited_writer;
     GRANT SELECT ON dw.events_copy TO limited_writer;`,
    [],
    DEST_DB,
  );
});
afterAll(async () => {
  await bq?.stop();
  await pg?.destroy();
});
beforeEach(() => {
  h = createHarness();
  bq.deniedPermissions.clear();
});
afterEach(() => {
  h.destroy();
});

function pipeline(overrides: {
  name?: string;
  source?: Record<string, unknown>;
  load?: Record<string, unknown>;
  destination: Record<string, unknown>;
}): ReturnType<Harness['pipeline']> {
  return h.pipeline({
    name: overrides.name ?? 'events',
    source: {
      type: 'postgres',
      connection: pgConnection(pg, SOURCE_DB),
      table: 'events',
      key: ['id'],
      ...overrides.source,
    },
    load: overrides.load ?? { mode: 'incremental', cursor: 'updated_at' },
    destination: overrides.destination,
  });
}

const postgresDestination = (table = 'dw.events_copy', user = pg.user): Record<string, unknown> => ({
  type: 'postgres',
  connection: { host: pg.host, port: pg.port, user, database: DEST_DB },
  table,
});

function check(
  result: ConnectionTest,
  id: string,
  target: 'source' | 'destination' = 'source',
): ConnectionCheck {
  const found = result.checks.find((c) => c.check === id && c.target === target);
  if (found === undefined) throw new Error(`no ${target} check ${id} in ${JSON.stringify(result.checks)}`);
  return found;
}

function statuses(result: ConnectionTest): Record<string, string> {
  return Object.fromEntries(result.checks.map((c) => [`${c.target}:${c.check}`, c.status]));
}

/** Rows returned by statements that named the source table since the last reset. */
async function rowsReadFromEvents(): Promise<number> {
  const rows = await pg.query<{ rows: string }>(
    `SELECT coalesce(sum(rows), 0)::text AS rows FROM pg_stat_statements
      WHERE query ILIKE '%events%' AND query NOT ILIKE '%pg_stat_statements%'`,
    [],
    SOURCE_DB,
  );
  return Number(rows[0]?.rows ?? 'NaN');
}

async function destinationTableExists(table: string): Promise<boolean> {
  const rows = await pg.query<{ oid: string | null }>(
    `SELECT to_regclass($1)::text AS oid`,
    [table],
    DEST_DB,
  );
  return rows[0]?.oid !== null;
}

describe('testConnections on a PostgreSQL source', () => {
  it('PostgreSQL → PostgreSQL, fresh table: every check ok, nothing created, no source row read', async () => {
    await pg.query('SELECT pg_stat_statements_reset()', [], SOURCE_DB);
    const p = pipeline({ destination: postgresDestination('dw.fresh_events') });

    const result = await h.engine.testConnections(p);

    expect(result.ok).toBe(true);
    expect(statuses(result)).toEqual({
      'source:connect': 'ok',
      'source:table': 'ok',
      'source:columns': 'ok',
      'source:cursor_column': 'ok',
      'source:key_columns': 'ok',
      'source:select_permission': 'ok',
      'destination:destination_connect': 'ok',
      'destination:destination_table': 'ok',
      'destination:write_permission': 'ok',
      'destination:schema': 'ok',
    });
    expect(check(result, 'columns').detail).toBe('id int64, note text, updated_at timestamptz');
    expect(check(result, 'cursor_column').detail).toBe('updated_at timestamptz');
    expect(check(result, 'destination_table', 'destination').detail).toBe(
      'dw.fresh_events does not exist: the first run creates it',
    );
    expect(check(result, 'schema', 'destination').detail).toMatch(
      /the first run creates the table with \d+ column/,
    );
    for (const c of result.checks) expect(c.duration_ms).toBeGreaterThanOrEqual(0);
    expect(result.checks.every((c) => c.code === null)).toBe(true);

    // Nothing was created on the destination: neither the table nor the commit record.
    expect(await destinationTableExists('dw.fresh_events')).toBe(false);
    expect(await destinationTableExists('dw._etld_commits')).toBe(false);
    // The source returned no row of the table to any statement naming it…
    expect(await rowsReadFromEvents()).toBe(0);
    // …and the same measure does see a read when there is one (the control).
    await pg.query('SELECT * FROM events', [], SOURCE_DB);
    expect(await rowsReadFromEvents()).toBe(50);
  });

  it('a source role without SELECT: select_permission fails naming the table; the destination is still checked', async () => {
    const p = pipeline({
      source: { connection: { ...pgConnection(pg, SOURCE_DB), user: 'no_select' } },
      destination: postgresDestination('dw.fresh_events'),
    });
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(false);
    const select = check(result, 'select_permission');
    expect(select).toMatchObject({ status: 'failed', code: 'SOURCE_PERMISSION' });
    expect(select.detail).toMatch(/permission denied for table events/);
    expect(check(result, 'connect').status).toBe('ok');
    expect(check(result, 'table').status).toBe('skipped');
    expect(check(result, 'cursor_column').status).toBe('skipped');
    expect(check(result, 'write_permission', 'destination').status).toBe('ok');
    // The schema needs the source's columns, which it could not describe.
    expect(check(result, 'schema', 'destination')).toMatchObject({ status: 'skipped' });
  });

  it('a missing source table fails the table check naming it', async () => {
    const p = pipeline({ source: { table: 'no_such_table' }, destination: postgresDestination() });
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(false);
    expect(check(result, 'table')).toMatchObject({ status: 'failed', code: 'SOURCE_QUERY' });
    expect(check(result, 'table').detail).toMatch(/no_such_table/);
    expect(check(result, 'select_permission').status).toBe('skipped');
    expect(check(result, 'destination_table', 'destination').status).toBe('ok');
  });

  it('a missing cursor column fails cursor_column naming the column', async () => {
    const p = pipeline({
      load: { mode: 'incremental', cursor: 'changed_at' },
      destination: postgresDestination(),
    });
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(false);
    expect(check(result, 'cursor_column')).toMatchObject({ status: 'failed', code: 'CONFIG_INVALID' });
    expect(check(result, 'cursor_column').detail).toMatch(
      /cursor column "changed_at" is not among the extracted columns/,
    );
    expect(check(result, 'select_permission').status).toBe('ok');
  });

  it('a destination role without INSERT and CREATE: write_permission fails naming both', async () => {
    const p = pipeline({ destination: postgresDestination('dw.events_copy', 'limited_writer') });
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(false);
    const write = check(result, 'write_permission', 'destination');
    expect(write).toMatchObject({ status: 'failed', code: 'DESTINATION_PERMISSION' });
    expect(write.detail).toMatch(
      /^dw\.events_copy: role limited_writer lacks CREATE on schema dw and INSERT on the table/,
    );
    expect(check(result, 'destination_table', 'destination').detail).toBe(
      'dw.events_copy exists (3 column(s))',
    );
    // Source checks are independent of the destination's.
    expect(check(result, 'select_permission').status).toBe('ok');
  });

  it('full mode needs TRUNCATE, merge needs UPDATE, SELECT and TEMP: granted, they pass', async () => {
    await pg.query(
      `CREATE ROLE full_writer LOGIN;
       GRANT USAGE, CREATE ON SCHEMA dw TO full_writer;
       GRANT INSERT, TRUNCATE ON dw.events_copy TO full_writer;`,
      [],
      DEST_DB,
    );
    const full = await h.engine.testConnections(
      pipeline({ load: { mode: 'full' }, destination: postgresDestination('dw.events_copy', 'full_writer') }),
    );
    // Not the owner: columns the source gains could not be added, and a backfill needs SELECT/TEMP… in full mode only the owner note.
    expect(check(full, 'write_permission', 'destination').status).toBe('warning');
    expect(check(full, 'write_permission', 'destination').detail).toMatch(/does not own the table/);
    expect(full.ok).toBe(true);
    const merge = await h.engine.testConnections(
      pipeline({
        load: { mode: 'merge', cursor: 'updated_at' },
        destination: postgresDestination('dw.events_copy', 'full_writer'),
      }),
    );
    expect(merge.ok).toBe(false);
    expect(check(merge, 'write_permission', 'destination').detail).toMatch(
      /lacks UPDATE on the table and SELECT on the table/,
    );
  });

  it('a destination that is down: destination_connect fails, the source is still fully checked', async () => {
    const p = pipeline({
      destination: {
        type: 'postgres',
        connection: { host: '127.0.0.1', port: 1, user: 'x', database: 'y', connect_timeout: '2s' },
        table: 't',
      },
    });
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(false);
    expect(check(result, 'destination_connect', 'destination')).toMatchObject({
      status: 'failed',
      code: 'DESTINATION_WRITE',
    });
    expect(check(result, 'schema', 'destination').status).toBe('skipped');
    expect(result.checks.filter((c) => c.target === 'source').every((c) => c.status === 'ok')).toBe(true);
  });

  it('a source that accepts connections but never answers: connect fails within connect_timeout, once', async () => {
    const sockets: Socket[] = [];
    let accepted = 0;
    const silent: Server = createServer((socket) => {
      accepted++;
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const p = pipeline({
        source: { connection: { host: '127.0.0.1', port, user: 'x', database: 'y', connect_timeout: '1s' } },
        destination: postgresDestination('dw.fresh_events'),
      });
      const started = Date.now();
      const result = await h.engine.testConnections(p);
      expect(Date.now() - started).toBeLessThan(15_000);
      const connect = check(result, 'connect');
      expect(connect).toMatchObject({ status: 'failed', code: 'SOURCE_CONNECTION' });
      expect(connect.detail).toContain(`127.0.0.1:${port}`);
      // One attempt (connection_retry is for runs), and every later source check is skipped.
      expect(accepted).toBe(1);
      expect(check(result, 'table').status).toBe('skipped');
      expect(check(result, 'write_permission', 'destination').status).toBe('ok');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('PostgreSQL → Delta: every check ok and the table directory is not created', async () => {
    const p = pipeline({ destination: { type: 'delta', path: 'events_delta' } });
    const result = await h.engine.testConnections(p);
    expect(result.ok, JSON.stringify(result.checks)).toBe(true);
    expect(check(result, 'destination_table', 'destination').detail).toMatch(
      /no Delta table at .*events_delta: the first run creates it/,
    );
    expect(check(result, 'table_features', 'destination').status).toBe('skipped');
    expect(check(result, 'write_permission', 'destination').detail).toMatch(
      /does not exist; .* is writable, so the first run creates it/,
    );
    expect(existsSync(join(h.lakeDir, 'events_delta'))).toBe(false);
  });

  it('PostgreSQL → Delta on an existing table: its version and features are read', async () => {
    const p = pipeline({ destination: { type: 'delta', path: 'events_delta2' } });
    await h.run(p);
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(true);
    expect(check(result, 'destination_table', 'destination').detail).toMatch(
      /^Delta table at version 0 \(1 file\(s\), 6 column\(s\)\)$/,
    );
    expect(check(result, 'table_features', 'destination')).toMatchObject({ status: 'ok' });
    expect(check(result, 'schema', 'destination').detail).toBe('the table has the 6 column(s) a run loads');
  });

  it('PostgreSQL → BigQuery double: dataset, table, IAM permissions and a dry-run job; denying updateData fails', async () => {
    const bigquery = (dataset: string): Record<string, unknown> => ({
      type: 'bigquery',
      project: bq.project,
      dataset,
      table: 'events',
      api_endpoint: bq.endpoint,
    });
    const fresh = await h.engine.testConnections(pipeline({ destination: bigquery('fresh') }));
    // A missing dataset is created by the first run: its permission cannot be tested.
    expect(check(fresh, 'destination_connect', 'destination').status).toBe('warning');
    expect(check(fresh, 'write_permission', 'destination').status).toBe('warning');
    expect(check(fresh, 'job_permission', 'destination').status).toBe('ok');
    expect(fresh.ok).toBe(true);
    expect(bq.storage.datasets.has('fresh')).toBe(false);

    const p = pipeline({ destination: bigquery('loaded') });
    await h.run(p);
    const jobsBefore = bq.jobs.size;
    const ok = await h.engine.testConnections(p);
    expect(ok.ok, JSON.stringify(ok.checks)).toBe(true);
    expect(statuses(ok)).toMatchObject({
      'destination:destination_connect': 'ok',
      'destination:destination_table': 'ok',
      'destination:write_permission': 'ok',
      'destination:job_permission': 'ok',
      'destination:schema': 'ok',
    });
    const iam = bq.requests.filter((r) => r.path.endsWith(':testIamPermissions'));
    expect(iam.map((r) => r.body)).toEqual([
      { permissions: ['bigquery.tables.updateData', 'bigquery.tables.getData', 'bigquery.tables.update'] },
      { permissions: ['bigquery.tables.getData', 'bigquery.tables.updateData'] },
    ]);
    expect(bq.jobs.size).toBe(jobsBefore);

    bq.deniedPermissions.add('bigquery.tables.updateData');
    const denied = await h.engine.testConnections(p);
    expect(denied.ok).toBe(false);
    const write = check(denied, 'write_permission', 'destination');
    expect(write).toMatchObject({ status: 'failed', code: 'DESTINATION_PERMISSION' });
    expect(write.detail).toMatch(
      /lacks bigquery\.tables\.updateData \(every load writes its rows\) on etld-test\.loaded\.events/,
    );

    bq.deniedPermissions.clear();
    bq.deniedPermissions.add('bigquery.jobs.create');
    const noJobs = await h.engine.testConnections(p);
    expect(check(noJobs, 'job_permission', 'destination')).toMatchObject({
      status: 'failed',
      code: 'DESTINATION_PERMISSION',
    });
    expect(bq.jobs.size).toBe(jobsBefore);
  });

  it('waits for a source slot like every run: two shards on one host never hold more than source_slots_per_host', async () => {
    const governor = new SourceGovernor({ slotsPerHost: 1 });
    let inUse = 0;
    let maxSeen = 0;
    const counting = {
      acquire: async (host: string, signal: AbortSignal) => {
        const release = await governor.acquire(host, signal);
        maxSeen = Math.max(maxSeen, ++inUse);
        return () => {
          inUse--;
          release();
        };
      },
    };
    const hg = createHarness({ governor: counting });
    try {
      const host = `${pg.host}:${pg.port}`;
      const p = hg.pipeline({
        name: 'sharded',
        source: {
          type: 'postgres',
          connection: pgConnection(pg, SOURCE_DB),
          shards: [
            { name: 's1', database: SOURCE_DB },
            { name: 's2', database: SOURCE_DB },
          ],
          table: 'events',
          key: ['id', '_etl_shard'],
        },
        load: { mode: 'incremental', cursor: 'updated_at' },
        destination: { type: 'duckdb', path: 'sharded.duckdb', table: 'events' },
      });
      // A run holds the only slot: the test waits for it.
      const held = await governor.acquire(host, new AbortController().signal);
      const pending = hg.engine.testConnections(p);
      await waitFor(() => (governor.waiting(host) === 2 ? true : undefined), {
        what: 'both shards to wait for the source slot',
      });
      held();
      const result = await pending;
      expect(result.ok, JSON.stringify(result.checks)).toBe(true);
      expect(result.checks.filter((c) => c.check === 'connect').map((c) => c.shard)).toEqual(['s1', 's2']);
      expect(maxSeen).toBe(1);
      expect(governor.inUse(host)).toBe(0);
    } finally {
      hg.destroy();
    }
  });
});
