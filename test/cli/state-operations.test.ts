/**
 * State operations as an operator meets them: etlctl against a spawned etld reading a real
 * PostgreSQL source into DuckDB files, whose contents are checked row by row. Watermark
 * show/set/reset with its audit trail, start --full-refresh, backfill (append and merge, per
 * shard), wait and start --attach, history filters and the fleet-wide runs listing.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import { assertCliBuilt, etlctl, spawnEtlctl } from './cli-harness.js';

let server: PostgresServer;
let home: TempHome;
let daemon: DaemonProcess;

/** `2024-01-01 00:00:00+00` plus `hours`, as PostgreSQL writes a timestamptz in UTC. */
function at(hours: number): string {
  const date = new Date(Date.UTC(2024, 0, 1) + hours * 3_600_000);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}+00`;
}

function etl(...args: string[]): ReturnType<typeof etlctl> {
  return etlctl(['--home', home.dir, ...args]);
}

/** etlctl's `--json` output, parsed (its shape is what the assertions check). */
async function etlJson(...args: string[]): Promise<ReturnType<typeof JSON.parse>> {
  const r = await etl(...args, '--json');
  if (r.code !== 0) throw new Error(`etlctl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

function source(sql: string, database = 'shop1'): Promise<unknown[]> {
  return server.query(sql, [], database);
}

/** Rows of a DuckDB destination file, values as JS (bigint as number). */
async function duck(file: string, sql: string, write = false): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(home.dir, 'lake', file), {
    access_mode: write ? 'READ_WRITE' : 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    const rows = (await connection.runAndReadAll(sql)).getRowsJS();
    return rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The source table's rows as the destination should hold them: id, note, epoch seconds. */
async function sourceRows(table: string): Promise<unknown[][]> {
  const rows = (await source(
    `SELECT id::int AS id, note, extract(epoch FROM updated_at)::int AS t FROM ${table} ORDER BY id, t`,
  )) as { id: number; note: string; t: number }[];
  return rows.map((r) => [r.id, r.note, r.t]);
}

function destinationRows(file: string, table: string): Promise<unknown[][]> {
  return duck(file, `SELECT id, note, epoch(updated_at)::INTEGER FROM ${table} ORDER BY ALL`);
}

function pipelineFile(name: string, body: string): void {
  home.writePipeline(`${name}.yaml`, `name: ${name}\n${body}error_handling: { max_retries: 0 }\n`);
}

function connection(database: string): string {
  return `{ host: ${server.host}, port: ${server.port}, user: ${server.user}, database: ${database} }`;
}

const eventsTable = (table: string, rows: number): string =>
  `CREATE TABLE ${table} (id bigint PRIMARY KEY, note text NOT NULL, updated_at timestamptz NOT NULL);
   INSERT INTO ${table} SELECT g, 'n' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, ${rows}) g;`;

beforeAll(async () => {
  assertCliBuilt();
  server = await startPostgres();
  await server.createDatabase('shop1');
  await server.createDatabase('shop2');
  await source(
    `${eventsTable('events', 20)} ${eventsTable('feed', 30)} ${eventsTable('slow_items', 3)}
     CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, version bigint NOT NULL);
     INSERT INTO customers SELECT g, 'c' || g, g * 10 FROM generate_series(1, 10) g;
     ${eventsTable('orders', 5)}`,
  );
  await source(
    `CREATE TABLE orders (id bigint PRIMARY KEY, note text NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, 's2-' || g, timestamptz '2024-01-01 00:00:00+00' + (g + 9) * interval '1 hour' FROM generate_series(1, 3) g;`,
    'shop2',
  );
  home = makeTempHome('etld-stateops-');
  const incremental = (table: string, file: string): string =>
    `source:\n  type: postgres\n  connection: ${connection('shop1')}\n  table: ${table}\n  key: [id]\n` +
    `load: { mode: incremental, cursor: updated_at, start_from: "2024-01-01" }\n` +
    `destination: { type: duckdb, path: ${file}, table: ${table} }\n`;
  pipelineFile('events', incremental('events', 'events.duckdb'));
  pipelineFile('feed', incremental('feed', 'feed.duckdb'));
  pipelineFile('slow', incremental('slow_items', 'slow.duckdb'));
  pipelineFile(
    'customers',
    `source:\n  type: postgres\n  connection: ${connection('shop1')}\n  table: customers\n  key: [id]\n` +
      `load: { mode: merge, cursor: version }\n` +
      `destination: { type: duckdb, path: customers.duckdb, table: customers }\n`,
  );
  pipelineFile(
    'orders',
    `source:\n  type: postgres\n  connection: ${connection('shop1')}\n` +
      `  shards:\n    - { name: s1, database: shop1 }\n    - { name: s2, database: shop2 }\n` +
      `  table: orders\n  key: [id, _etl_shard]\n` +
      `load: { mode: incremental, cursor: updated_at, start_from: "2024-01-01" }\n` +
      `destination: { type: duckdb, path: orders.duckdb, table: orders }\n`,
  );
  pipelineFile(
    'broken',
    `source:\n  type: postgres\n  connection: ${connection('shop1')}\n  table: missing_table\n` +
      `load: { mode: full }\ndestination: { type: duckdb, path: broken.duckdb, table: t }\n`,
  );
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
});

afterAll(async () => {
  await daemon?.stop();
  home?.remove();
  await server?.destroy();
});

describe('etlctl watermark', () => {
  it('shows the watermark in status, info and watermark show, checks set values against the cursor type, and keeps who changed what in history', async () => {
    const first = await etl('start', 'events', '--wait');
    expect(first.code, first.stderr).toBe(0);
    expect((await etlJson('status', 'events')).watermarks).toEqual([
      expect.objectContaining({ shard: 'default', value: at(20) }),
    ]);
    expect((await etl('status', 'events')).stdout).toMatch(new RegExp(`watermark\\s+${escape(at(20))}`));
    const info = await etl('info');
    expect(info.stdout).toMatch(new RegExp(`\\nevents\\s+default\\s+${escape(at(20))}`));
    expect((await etlJson('info')).watermarks).toContainEqual(
      expect.objectContaining({ pipeline: 'events', shard: 'default', value: at(20) }),
    );

    // Values the cursor column (timestamptz) cannot hold: refused as usage errors naming all three.
    const bogus = await etl('watermark', 'set', 'events', 'soon');
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain(
      'pipeline events: "soon" is not a valid value of its cursor column "updated_at" (timestamptz',
    );
    const noSuchDay = await etl('watermark', 'set', 'events', '2024-02-30');
    expect(noSuchDay.code).toBe(2);
    expect(noSuchDay.stderr).toContain(
      'pipeline events: "2024-02-30" is not a valid value of its cursor column',
    );

    // Written the way the source writes that column: ISO with Z becomes PostgreSQL's text.
    const set = await etlJson('watermark', 'set', 'events', '2024-01-01T18:00:00Z');
    expect(set.watermarks).toEqual([expect.objectContaining({ shard: 'default', value: at(18) })]);
    const reset = await etlJson('watermark', 'reset', 'events');
    expect(reset.watermarks).toEqual([]);

    const changes = (await etlJson('history', 'events', '--changes')).changes;
    expect(changes).toEqual([
      {
        at: expect.any(String),
        action: 'reset',
        by: expect.stringMatching(/\(etlctl\/\d+\.\d+\.\d+, unix\)$/),
        shards: [{ shard: 'default', old: at(18), new: null }],
        detail: expect.stringContaining('the next run reads from start_from 2024-01-01'),
      },
      {
        at: expect.any(String),
        action: 'set',
        by: expect.stringMatching(/\(etlctl\/\d+\.\d+\.\d+, unix\)$/),
        shards: [{ shard: 'default', old: at(20), new: at(18) }],
        detail: expect.stringContaining(`set to ${at(18)}`),
      },
    ]);
    // The human history lists the runs, then the changes of the same window with who made them.
    const history = await etl('history', 'events');
    expect(history.stdout).toMatch(/operator changes:\nCHANGED +ACTION +BY +SHARD +OLD → NEW\n/);
    expect(history.stdout).toContain(`watermark set`);
    expect(history.stdout).toContain(`${at(20)} → ${at(18)}`);
    expect(history.stdout).toContain(`${at(18)} → (none)`);
    // --json keeps the scripting contract: runs only.
    expect((await etlJson('history', 'events')).runs.map((r: { status: string }) => r.status)).toEqual([
      'succeeded',
    ]);
  });

  it('keeps watermarks per shard, and set --shard changes only that shard', async () => {
    expect((await etl('start', 'orders', '--wait')).code).toBe(0);
    const shown = await etlJson('watermark', 'show', 'orders');
    expect(shown.watermarks.map((w: { shard: string; value: string }) => [w.shard, w.value])).toEqual([
      ['s1', at(5)],
      ['s2', at(12)],
    ]);
    expect((await etl('status', 'orders')).stdout).toMatch(
      new RegExp(`watermark\\s+s1=${escape(at(5))}, s2=${escape(at(12))}`),
    );
    const set = await etlJson('watermark', 'set', 'orders', at(13), '--shard', 's2');
    expect(set.watermarks.map((w: { shard: string; value: string }) => [w.shard, w.value])).toEqual([
      ['s1', at(5)],
      ['s2', at(13)],
    ]);
    expect((await etlJson('history', 'orders', '--changes')).changes[0].shards).toEqual([
      { shard: 's2', old: at(12), new: at(13) },
    ]);
    const unknown = await etl('watermark', 'set', 'orders', at(13), '--shard', 's9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('pipeline orders has no shard "s9" (shards: s1, s2)');
    const reset = await etlJson('watermark', 'reset', 'orders', '--shard', 's2');
    expect(reset.watermarks.map((w: { shard: string; value: string }) => [w.shard, w.value])).toEqual([
      ['s1', at(5)],
    ]);
    expect((await etlJson('history', 'orders', '--changes')).changes[0]).toMatchObject({
      action: 'reset',
      shards: [{ shard: 's2', old: at(13), new: null }],
    });

    // A backfill of one shard re-reads only that shard's range.
    await duck('orders.duckdb', 'DELETE FROM orders WHERE id IN (1, 2)', true);
    expect(
      (
        await etl(
          'backfill',
          'orders',
          '--from',
          '2024-01-01',
          '--to',
          '2024-02-01',
          '--shard',
          's1',
          '--wait',
        )
      ).code,
    ).toBe(0);
    expect(await duck('orders.duckdb', 'SELECT _etl_shard, id, note FROM orders ORDER BY ALL')).toEqual([
      ['s1', 1, 'n1'],
      ['s1', 2, 'n2'],
      ['s1', 3, 'n3'],
      ['s1', 4, 'n4'],
      ['s1', 5, 'n5'],
      ['s2', 3, 's2-3'],
    ]);
  });
});

describe('etlctl start --full-refresh', () => {
  it('replaces the destination with everything in one commit, and the watermark becomes the new high-water mark', async () => {
    const before = (await etlJson('history', 'events', '-n', '1')).runs;
    await source(
      `DELETE FROM events WHERE id = 3; UPDATE events SET note = 'n5b', updated_at = '${at(21)}' WHERE id = 5`,
    );
    const refresh = await etl('start', 'events', '--full-refresh', '--attach');
    expect(refresh.code, refresh.stderr + refresh.stdout).toBe(0);
    expect(refresh.stdout).toMatch(/started full refresh events-\d+ of events; waiting/);
    expect(refresh.stdout).toMatch(/run events-\d+ succeeded: 19 rows loaded/);
    expect(await destinationRows('events.duckdb', 'events')).toEqual(await sourceRows('events'));

    const [run] = (await etlJson('history', 'events', '-n', '1')).runs;
    expect(run).toMatchObject({ kind: 'full_refresh', status: 'succeeded', rows_loaded: 19 });
    expect(run.sequence).toBeGreaterThan(before[0].sequence);
    expect(run.requested_by).toMatch(/\(etlctl\/\d+\.\d+\.\d+, unix\)$/);
    // Every row is the refresh's, and the destination records its sequence with the data.
    expect(await duck('events.duckdb', 'SELECT DISTINCT _etl_run_id FROM events')).toEqual([[`${run.id}-1`]]);
    expect(
      await duck('events.duckdb', `SELECT max(sequence) FROM _etld_commits WHERE pipeline = 'events'`),
    ).toEqual([[run.sequence]]);
    expect((await etlJson('watermark', 'show', 'events')).watermarks).toEqual([
      expect.objectContaining({ shard: 'default', value: at(21), sequence: run.sequence }),
    ]);

    // The next run goes on from there: the new row once, the rows at the watermark not again.
    await source(`INSERT INTO events VALUES (21, 'n21', '${at(22)}')`);
    const next = await etlJson('start', 'events', '--wait');
    expect(next).toMatchObject({ status: 'succeeded', rows_loaded: 1, kind: 'normal' });
    expect(await destinationRows('events.duckdb', 'events')).toEqual(await sourceRows('events'));
  });

  it('is the way back when the destination lost its commits', async () => {
    rmSync(join(home.dir, 'lake', 'events.duckdb'));
    const refused = await etl('start', 'events', '--wait');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('STATE_INCONSISTENT');
    expect(refused.stdout).toContain('etlctl start events --full-refresh');
    expect((await etl('start', 'events', '--full-refresh', '--wait')).code).toBe(0);
    expect(await destinationRows('events.duckdb', 'events')).toEqual(await sourceRows('events'));
  });
});

describe('etlctl backfill', () => {
  it('appends the rows of [from, to) the destination lacks, below the watermark, and adds nothing when run again', async () => {
    expect((await etl('start', 'feed', '--wait')).code).toBe(0);
    const watermark = (await etlJson('watermark', 'show', 'feed')).watermarks;
    expect(watermark).toEqual([expect.objectContaining({ value: at(30) })]);
    // Rows lost from the destination, a row committed late below the watermark, one committed late
    // at exactly the watermark and a new row above it: those two are the next scheduled run's
    // (it reads from the watermark on), which the backfill leaves alone, or that run would append
    // the one at the watermark a second time.
    await duck('feed.duckdb', 'DELETE FROM feed WHERE id BETWEEN 5 AND 9', true);
    await source(
      `INSERT INTO feed VALUES (100, 'late', '2024-01-01 07:30:00+00'), (101, 'late at the watermark', '${at(30)}'),
         (31, 'n31', '${at(31)}')`,
    );

    const args = ['backfill', 'feed', '--from', '2024-01-01 05:00:00Z', '--to', '2030-01-01'];
    const first = await etl(...args, '--wait');
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain(`started backfill feed-2 of feed: [${at(5)}, 2030-01-01 00:00:00+00)`);
    expect(first.stdout).toMatch(/run feed-2 succeeded: 6 rows loaded/);
    const expected = (await sourceRows('feed')).filter((r) => r[0] !== 31 && r[0] !== 101);
    expect(await destinationRows('feed.duckdb', 'feed')).toEqual(expected);
    expect((await etlJson('watermark', 'show', 'feed')).watermarks).toEqual(watermark);

    const again = await etlJson(...args, '--wait');
    expect(again).toMatchObject({
      kind: 'backfill',
      backfill: { from: at(5), to: '2030-01-01 00:00:00+00', shard: null },
      status: 'succeeded',
      rows_loaded: 0,
      verdict: 'match',
    });
    expect(again.notes).toContain(
      '26 row(s) of the backfill range were in the destination already and were not appended again',
    );
    expect(await destinationRows('feed.duckdb', 'feed')).toEqual(expected);
    expect((await etlJson('watermark', 'show', 'feed')).watermarks).toEqual(watermark);

    // The schedule's next run still reads from the watermark: the two rows there, once each.
    expect(await etlJson('start', 'feed', '--wait')).toMatchObject({ rows_loaded: 2 });
    expect(await destinationRows('feed.duckdb', 'feed')).toEqual(await sourceRows('feed'));
    const history = (await etlJson('history', 'feed')).runs;
    expect(history.map((r: { kind: string }) => r.kind)).toEqual([
      'normal',
      'backfill',
      'backfill',
      'normal',
    ]);
  });

  it('merges the range in merge mode, idempotently, without moving the watermark', async () => {
    expect((await etl('start', 'customers', '--wait')).code).toBe(0);
    const watermark = (await etlJson('watermark', 'show', 'customers')).watermarks;
    expect(watermark).toEqual([expect.objectContaining({ value: '100' })]);
    await duck(
      'customers.duckdb',
      `UPDATE customers SET name = 'corrupt' WHERE id IN (2, 3); DELETE FROM customers WHERE id = 4`,
      true,
    );
    const rows = (): Promise<unknown[][]> =>
      duck('customers.duckdb', 'SELECT id, name, version FROM customers ORDER BY id');
    for (let i = 0; i < 2; i++) {
      expect((await etl('backfill', 'customers', '--from', '20', '--to', '40', '--wait')).code).toBe(0);
      expect(await rows()).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10].map((id) => [id, `c${id}`, id * 10]));
      expect((await etlJson('watermark', 'show', 'customers')).watermarks).toEqual(watermark);
    }
  });

  it('refuses what it cannot do with a usage error naming the problem', async () => {
    const badValue = await etl('backfill', 'customers', '--from', 'abc', '--to', '40');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain(
      'pipeline customers: "abc" is not a valid value of its cursor column "version" (int64',
    );
    const reversed = await etl('backfill', 'feed', '--from', '2024-01-02', '--to', '2024-01-01');
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('is empty: --from must be below --to');
    expect((await etl('backfill', 'feed', '--to', '2024-01-01')).code).toBe(2);
    const full = await etl('backfill', 'broken', '--from', '1', '--to', '2');
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('pipeline broken keeps no watermark');
  });
});

describe('waiting for runs', () => {
  let lock: pg.Client | undefined;
  afterAll(async () => {
    await lock?.end();
  });

  it('wait follows a running run to its end, with --timeout, and changes are refused while it runs', async () => {
    // A transaction holding the source table keeps the run in progress until it ends.
    lock = new pg.Client({ host: server.host, port: server.port, user: server.user, database: 'shop1' });
    await lock.connect();
    await lock.query('BEGIN; LOCK TABLE slow_items IN ACCESS EXCLUSIVE MODE');
    const started = await etlJson('start', 'slow');
    expect(started).toEqual({ schema: 1, run_id: 'slow-1', pipeline: 'slow', kind: 'normal' });
    await waitFor(
      async () =>
        (await etlJson('runs', '--status', 'running', '--pipeline', 'slow')).runs.length === 1
          ? true
          : undefined,
      {
        what: 'the run to be running',
      },
    );

    const set = await etl('watermark', 'set', 'slow', '2024-01-01');
    expect(set.code).toBe(1);
    expect(set.stderr).toContain(
      'pipeline slow is already running (run slow-1); stop it (etlctl stop slow) or wait for it',
    );
    const backfill = await etl('backfill', 'slow', '--from', '2024-01-01', '--to', '2024-01-02');
    expect(backfill.code).toBe(1);
    expect(backfill.stderr).toContain('pipeline slow has a run in progress');
    const attach = await etl('start', 'slow', '--attach');
    expect(attach.code).toBe(1);
    expect(attach.stderr).toContain('pipeline slow is already running');

    const timedOut = await etl('wait', 'slow', '--timeout', '1s');
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('stopped waiting after 1s: run slow-1 is running and continues');

    const waiter = spawnEtlctl(['--home', home.dir, 'wait', 'slow']);
    await waitFor(() => (waiter.out.stdout.includes('waiting for run slow-1') ? true : undefined), {
      what: 'etlctl wait to be waiting',
    });
    await lock.query('ROLLBACK');
    expect(await waiter.exit).toBe(0);
    expect(waiter.out.stdout).toContain('run slow-1 succeeded: 3 rows loaded');
    // A run that has ended is reported at once, by pipeline or by run id.
    expect(await etlJson('wait', 'slow-1')).toMatchObject({ id: 'slow-1', status: 'succeeded' });
  });

  it('wait exits 1 for a failed run; history and runs filter by status and time', async () => {
    expect((await etl('start', 'broken', '--wait')).code).toBe(1);
    expect((await etl('wait', 'broken')).code).toBe(1);
    const failed = (await etlJson('runs', '--failed')).runs;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((r: { status: string }) => r.status === 'failed')).toBe(true);
    expect(failed[0]).toMatchObject({
      pipeline: 'broken',
      status: 'failed',
      error: { code: 'SOURCE_QUERY' },
    });
    const starts = failed.map((r: { started_at: string }) => r.started_at);
    expect(starts).toEqual([...starts].sort().reverse());
    expect((await etl('runs', '--failed')).stdout).toMatch(/\nbroken-1 +broken +failed/);
    expect((await etlJson('history', 'broken', '--status', 'failed', '--since', '24h')).runs).toHaveLength(1);
    expect((await etlJson('history', 'feed', '--status', 'failed', '--since', '24h')).runs).toEqual([]);
    expect(
      (await etlJson('history', 'feed', '--since', new Date(Date.now() + 60_000).toISOString())).runs,
    ).toEqual([]);
    const all = (await etlJson('runs', '-n', '500')).runs;
    expect(new Set(all.map((r: { pipeline: string }) => r.pipeline))).toEqual(
      new Set(['events', 'feed', 'customers', 'orders', 'slow', 'broken']),
    );

    // --before pages through the same listing: pages of two, each after the last of the one before.
    const paged: string[] = [];
    for (let before: string | undefined; paged.length <= all.length;) {
      const page = (await etlJson('runs', '-n', '2', ...(before === undefined ? [] : ['--before', before])))
        .runs as { id: string }[];
      paged.push(...page.map((r) => r.id));
      before = page.at(-1)?.id;
      if (page.length < 2) break;
    }
    expect(paged).toEqual(all.map((r: { id: string }) => r.id));
    const [newestBroken] = (await etlJson('history', 'broken', '-n', '1')).runs as { id: string }[];
    expect(
      (await etlJson('history', 'broken', '--before', newestBroken?.id ?? '')).runs.map(
        (r: { id: string }) => r.id,
      ),
    ).not.toContain(newestBroken?.id);
    const unknown = await etl('runs', '--before', 'no-such-run-1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run with id "no-such-run-1"');

    expect((await etl('runs', '--status', 'bogus')).code).toBe(2);
    expect((await etl('history', 'feed', '--since', 'yesterday')).code).toBe(2);
    expect((await etl('wait', 'slow', '--timeout', 'soon')).code).toBe(2);
    expect((await etl('start', 'feed', '--timeout', '1m')).code).toBe(2);
    expect((await etl('wait', 'nothing-here')).code).toBe(1);
    expect((await etlctl(['--home', join(home.dir, 'nowhere'), 'runs', '--failed'])).code).toBe(3);
    expect((await etlctl(['--home', join(home.dir, 'nowhere'), 'wait', 'feed'])).code).toBe(3);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
