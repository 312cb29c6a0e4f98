import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../daemon/state/migrations.js';
import { openPostgresStateStore } from '../../daemon/state/postgres-store.js';
import { MIGRATION_LOCK_KEY, POSTGRES_SCHEMA_VERSION } from '../../daemon/state/postgres-migrations.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { stateBackends } from '../helpers/state-backends.js';
import { waitFor } from '../helpers/wait.js';

const backends = stateBackends();

describe.each(backends.all)('the state store on $name', (backend) => {
  test('runs: sequences, attempts, patches and newest-first history', async () => {
    let clock = Date.parse('2026-11-21T10:00:00Z');
    const store = backend.open(await backend.fresh(), () => new Date((clock += 1000)));
    expect(store.nextSequence('orders')).toBe(1);
    const first = store.insertRun({
      pipeline: 'orders',
      sequence: 1,
      attempt: 1,
      trigger: 'manual',
      kind: { kind: 'normal' },
      status: 'running',
    });
    expect(first.id).toBe('orders-1-1');
    store.updateRun(first.id, {
      status: 'failed',
      errorCode: 'SOURCE_CONNECTION',
      errorMessage: 'refused',
      firstFailureAt: '2026-11-21T10:00:02.000Z',
    });
    const retry = store.insertRun({
      pipeline: 'orders',
      sequence: 1,
      attempt: 2,
      trigger: 'retry',
      kind: { kind: 'normal' },
      status: 'running',
      firstFailureAt: '2026-11-21T10:00:02.000Z',
    });
    store.updateRun(retry.id, {
      status: 'succeeded',
      rowsLoaded: 42,
      verdict: 'match',
      finishedAt: '2026-11-21T10:00:09.000Z',
    });
    expect(store.nextSequence('orders')).toBe(2);
    expect(store.listRuns('orders', 10).map((r) => r.id)).toEqual(['orders-1-2', 'orders-1-1']);
    expect(store.lastSuccess('orders')?.rowsLoaded).toBe(42);
    expect(store.runsWithStatus(['failed']).map((r) => r.id)).toEqual(['orders-1-1']);
    expect(() => store.updateRun('nope-1-1', { status: 'failed' })).toThrow(/run nope-1-1 not found/);
    store.close();
  });

  test('pause, fire marks and watermarks survive reopening; committed sequence feeds nextSequence', async () => {
    const file = await backend.fresh();
    const store = backend.open(file);
    store.setPaused('orders', true);
    store.markFire('orders', '2026-11-21T00:00:00.000Z');
    store.markSkip('orders', 'paused', '2026-11-21T02:00:00.000Z');
    store.commitWatermarks('orders', 7, [
      {
        shard: 's1',
        value: '2026-11-20 10:00:00',
        boundary: ['1', '2'],
        identity: { columns: ['id', 'amount'] },
      },
    ]);
    const run = store.insertRun({
      pipeline: 'orders',
      sequence: 8,
      attempt: 1,
      trigger: 'manual',
      kind: { kind: 'normal' },
      status: 'running',
    });
    store.upsertPart({
      runId: run.id,
      partId: 's1',
      shard: 's1',
      chunk: null,
      status: 'done',
      rows: 1,
      bytes: 2,
      estimatedRows: null,
      errorCode: null,
      errorMessage: null,
      startedAt: null,
      finishedAt: null,
    });
    store.close();
    const reopened = backend.open(file);
    const runtime = reopened.getRuntime('orders');
    expect(runtime).toMatchObject({
      paused: true,
      lastFireAt: '2026-11-21T00:00:00.000Z',
      lastSkipReason: 'paused',
      committedSequence: 7,
    });
    expect(reopened.getWatermarks('orders')).toEqual([
      expect.objectContaining({
        shard: 's1',
        value: '2026-11-20 10:00:00',
        boundary: ['1', '2'],
        sequence: 7,
      }),
    ]);
    expect(reopened.nextSequence('orders')).toBe(9);
    expect(reopened.listParts('orders-8-1')).toEqual([
      expect.objectContaining({ partId: 's1', rows: 1, status: 'done' }),
    ]);
    reopened.setPaused('orders', false);
    expect(reopened.getRuntime('orders').paused).toBe(false);
    reopened.close();
  });

  test('the file that defines each pipeline survives reopening', async () => {
    const file = await backend.fresh();
    const fresh = backend.open(file);
    expect(fresh.pipelineFiles()).toEqual(new Map());
    fresh.setPaused('orders', true);
    fresh.setPipelineFiles([
      { name: 'orders', file: '/etc/etld/pipelines/orders.yaml' },
      { name: 'users', file: '/etc/etld/pipelines/users.yaml' },
    ]);
    fresh.setPipelineFiles([{ name: 'users', file: '/etc/etld/pipelines/people.yaml' }]);
    fresh.close();
    const reopened = backend.open(file);
    expect(reopened.pipelineFiles()).toEqual(
      new Map([
        ['orders', '/etc/etld/pipelines/orders.yaml'],
        ['users', '/etc/etld/pipelines/people.yaml'],
      ]),
    );
    expect(reopened.getRuntime('orders').paused).toBe(true);
    reopened.close();
  });

  test('run kinds and requesters are kept per attempt; findRuns filters logical runs by pipeline, status and start', async () => {
    let clock = Date.parse('2026-11-21T10:00:00Z');
    const store = backend.open(await backend.fresh(), () => new Date((clock += 60_000)));
    const range = { from: '2026-01-01 00:00:00+00', to: '2026-02-01 00:00:00+00', shard: 's1' };
    const insert = (
      pipeline: string,
      sequence: number,
      attempt: number,
      status: 'failed' | 'succeeded',
    ): void => {
      const row = store.insertRun({
        pipeline,
        sequence,
        attempt,
        trigger: attempt === 1 ? 'manual' : 'retry',
        kind: sequence === 2 ? { kind: 'backfill', range } : { kind: 'normal' },
        requestedBy: 'alice (etlctl/0.1.0, unix)',
        status: 'running',
      });
      store.updateRun(row.id, { status });
    };
    insert('orders', 1, 1, 'failed'); // 10:01
    insert('orders', 2, 1, 'failed'); // 10:02, retried at 10:03 and succeeded
    insert('orders', 2, 2, 'succeeded');
    insert('billing', 1, 1, 'failed'); // 10:04
    expect(store.getRun('orders-2-2')).toMatchObject({
      kind: 'backfill',
      backfill: range,
      requestedBy: 'alice (etlctl/0.1.0, unix)',
    });
    const ids = (runs: { id: string }[][]): string[] => runs.map((attempts) => attempts.at(-1)?.id ?? '');
    expect(ids(store.findRuns({ limit: 10 }))).toEqual(['billing-1-1', 'orders-2-2', 'orders-1-1']);
    // A run's status is its latest attempt's: run 2 failed once but succeeded.
    expect(ids(store.findRuns({ limit: 10, statuses: ['failed'] }))).toEqual(['billing-1-1', 'orders-1-1']);
    expect(ids(store.findRuns({ limit: 10, pipeline: 'orders', statuses: ['failed'] }))).toEqual([
      'orders-1-1',
    ]);
    // A run is as old as its first attempt: run 2 started at 10:02 even though it ended later.
    expect(ids(store.findRuns({ limit: 10, since: '2026-11-21T10:02:00.000Z' }))).toEqual([
      'billing-1-1',
      'orders-2-2',
    ]);
    expect(ids(store.findRuns({ limit: 10, since: '2026-11-21T10:02:30.000Z' }))).toEqual(['billing-1-1']);
    expect(ids(store.findRuns({ limit: 1 }))).toEqual(['billing-1-1']);
    // A backfill re-reads the past: it is not the last success freshness and stats speak of.
    expect(store.lastSuccess('orders')).toBeUndefined();
    expect(store.lastSuccess('orders', ['backfill'])?.id).toBe('orders-2-2');
    store.close();
  });

  test('operator changes keep who and each shard before and after; a full refresh replaces every watermark', async () => {
    let clock = Date.parse('2026-11-21T10:00:00Z');
    const store = backend.open(await backend.fresh(), () => new Date((clock += 60_000)));
    const watermark = (shard: string, value: string) => ({ shard, value, boundary: [], identity: null });
    store.commitWatermarks('orders', 3, [watermark('s1', '10'), watermark('s2', '20')]);
    store.replaceWatermarks('orders', 3, [watermark('s1', '10'), watermark('s2', '25')], {
      action: 'set',
      actor: 'alice (etlctl/0.1.0, unix)',
      shards: [{ shard: 's2', old: '20', new: '25' }],
      detail: 'shard s2 set to 25',
    });
    store.replaceWatermarks('orders', 3, [], {
      action: 'reset',
      actor: null,
      shards: [],
      detail: 'reset',
    });
    expect(store.listStateChanges('orders', 10)).toEqual([
      { at: '2026-11-21T10:03:00.000Z', action: 'reset', actor: null, shards: [], detail: 'reset' },
      {
        at: '2026-11-21T10:02:00.000Z',
        action: 'set',
        actor: 'alice (etlctl/0.1.0, unix)',
        shards: [{ shard: 's2', old: '20', new: '25' }],
        detail: 'shard s2 set to 25',
      },
    ]);
    expect(store.listStateChanges('orders', 10, '2026-11-21T10:03:00.000Z').map((c) => c.action)).toEqual([
      'reset',
    ]);
    // A normal commit replaces the shards it names; a full refresh's replaces every one.
    store.commitWatermarks('orders', 4, [watermark('s1', '11'), watermark('s2', '30')]);
    store.commitWatermarks('orders', 5, [watermark('s1', '12')]);
    expect(store.getWatermarks('orders').map((w) => [w.shard, w.value])).toEqual([
      ['s1', '12'],
      ['s2', '30'],
    ]);
    store.commitWatermarks('orders', 6, [watermark('s1', '13')], { replaceAll: true });
    expect(store.getWatermarks('orders').map((w) => [w.shard, w.value, w.sequence])).toEqual([
      ['s1', '13', 6],
    ]);
    expect(store.getRuntime('orders').committedSequence).toBe(6);
    store.close();
  });

  test('a commit of an older sequence after a later one leaves the watermarks and the sequence alone', async () => {
    const store = backend.open(await backend.fresh());
    try {
      store.commitWatermarks('orders', 6, [{ shard: 'default', value: '600', boundary: [], identity: null }]);
      // A host that lost its lease while alive finishes sequence 5 late.
      store.commitWatermarks('orders', 5, [{ shard: 'default', value: '500', boundary: [], identity: null }]);
      store.commitWatermarks('orders', 5, [], { replaceAll: true });
      expect(store.getWatermarks('orders').map((w) => [w.value, w.sequence])).toEqual([['600', 6]]);
      expect(store.getRuntime('orders').committedSequence).toBe(6);
      // The same sequence again (its own retry) still writes.
      store.commitWatermarks('orders', 6, [{ shard: 'default', value: '610', boundary: [], identity: null }]);
      expect(store.getWatermarks('orders').map((w) => w.value)).toEqual(['610']);
    } finally {
      store.close();
    }
  });

  test('alerts and schema history', async () => {
    const store = backend.open(await backend.fresh());
    const alert = store.recordAlert({
      pipeline: 'p',
      kind: 'failure',
      runId: 'p-1-4',
      status: 'pending',
      recipients: 'a@b.c',
      subject: 's',
      detail: null,
    });
    store.updateAlert(alert.id, 'sent');
    expect(store.listAlerts('p', '1970-01-01T00:00:00Z')).toEqual([
      expect.objectContaining({ status: 'sent', kind: 'failure' }),
    ]);
    store.recordSchema('p', '[1]');
    store.recordSchema('p', '[1]');
    store.recordSchema('p', '[2]');
    expect(store.latestSchema('p')).toBe('[2]');
    store.close();
  });
});

describe('the SQLite state store file', () => {
  test('a store from before the pipeline files record (version 4) keeps its pipelines and records none', async () => {
    const [sqlite] = backends.all;
    const file = (await sqlite?.fresh()) ?? '';
    const old = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 4)) old.exec(sql);
    old.pragma('user_version = 4');
    old.exec("INSERT INTO pipelines (name, paused) VALUES ('orders', 1)");
    old.close();
    const store = openStateStore(file);
    expect(store.pipelineFiles()).toEqual(new Map());
    expect(store.getRuntime('orders').paused).toBe(true);
    store.close();
  });

  test('a corrupt file is a clear STATE_STORE error, not a stack trace', async () => {
    const file = (await backends.all[0]?.fresh()) ?? '';
    writeFileSync(file, 'this is not a database, just text that happens to be long enough '.repeat(100));
    expect(() => openStateStore(file)).toThrow(
      expect.objectContaining({
        code: 'STATE_STORE',
        message: expect.stringMatching(/cannot open state store .*state\.db/),
      }),
    );
  });

  test('a store written by a newer etld is refused with STATE_STORE_NEWER', async () => {
    const file = (await backends.all[0]?.fresh()) ?? '';
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => openStateStore(file)).toThrow(
      expect.objectContaining({ code: 'STATE_STORE_NEWER', message: expect.stringMatching(/newer etld/) }),
    );
  });
});

describe('the PostgreSQL state store database', () => {
  const { postgres } = backends;
  const version = async (location: string): Promise<number | undefined> =>
    (
      await postgres
        .server()
        .query<{ version: number }>('SELECT version FROM etld_schema', [], postgres.database(location))
    )[0]?.version;

  test('migrates an empty database to the current schema, once', async () => {
    const location = await postgres.fresh();
    const store = postgres.open(location);
    expect(store.path).toBe(`127.0.0.1:${postgres.server().port}/${postgres.database(location)}`);
    store.close();
    expect(await version(location)).toBe(POSTGRES_SCHEMA_VERSION);
    const tables = await postgres
      .server()
      .query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        [],
        postgres.database(location),
      );
    expect(tables.map((t) => t.tablename)).toEqual([
      'alerts',
      'etld_schema',
      'fleet_fire_claims',
      'fleet_hosts',
      'fleet_run_leases',
      'fleet_source_slots',
      'pipelines',
      'run_parts',
      'run_tables',
      'runs',
      'schema_history',
      'source_files',
      'state_changes',
      'watermarks',
    ]);
    // Opening again finds the schema done and keeps the one version row.
    postgres.open(location).close();
    const rows = await postgres.server().query('SELECT * FROM etld_schema', [], postgres.database(location));
    expect(rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
  });

  test('a database written by a newer etld is refused with STATE_STORE_NEWER, and left alone', async () => {
    const location = await postgres.fresh();
    await postgres
      .server()
      .query(
        `CREATE TABLE etld_schema (version integer NOT NULL); INSERT INTO etld_schema VALUES (${POSTGRES_SCHEMA_VERSION + 5})`,
        undefined,
        postgres.database(location),
      );
    expect(() => openPostgresStateStore({ url: location })).toThrow(
      expect.objectContaining({ code: 'STATE_STORE_NEWER', message: expect.stringMatching(/newer etld/) }),
    );
    expect(await version(location)).toBe(POSTGRES_SCHEMA_VERSION + 5);
    const tables = await postgres
      .server()
      .query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", [], postgres.database(location));
    expect(tables).toEqual([{ tablename: 'etld_schema' }]);
  });

  test('stores opened at once on one empty database all succeed (the migration lock)', async () => {
    const location = await postgres.fresh();
    // A store's migration blocks its thread, so the daemons racing are processes, on the build.
    const module = pathToFileURL(join(REPO_ROOT, 'dist', 'daemon', 'state', 'postgres-store.js')).href;
    const script = `
      import { openPostgresStateStore } from ${JSON.stringify(module)};
      const [url, name] = process.argv.slice(2);
      const store = openPostgresStateStore({ url, applicationName: name });
      store.setPaused(name, true);
      store.close();
      process.exit(0);`;
    // A file, not `node -e`: a worker thread started under `--input-type=module` does not run.
    const scriptDir = mkdtempSync(join(tmpdir(), 'etld-racer-'));
    const scriptFile = join(scriptDir, 'racer.mjs');
    writeFileSync(scriptFile, script);
    // The lock is held while they start, so all of them wait for it and then run one after another.
    const holder = new pg.Client({ connectionString: postgres.server().url(postgres.database(location)) });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      const names = ['racer1', 'racer2', 'racer3', 'racer4'];
      const exits = names.map(
        (name) =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [scriptFile, location, name], {
              stdio: ['ignore', 'ignore', 'pipe'],
            });
            let stderr = '';
            child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            child.on('exit', (code) => resolve({ code, stderr }));
          }),
      );
      await waitFor(
        async () => {
          const waiting = await holder.query(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
          );
          return (waiting.rows[0] as { n: number }).n === names.length ? true : undefined;
        },
        { timeoutMs: 30_000, what: 'every store waiting for the migration lock' },
      );
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
      expect(await Promise.all(exits)).toEqual(names.map(() => ({ code: 0, stderr: '' })));
      expect(await version(location)).toBe(POSTGRES_SCHEMA_VERSION);
      const store = postgres.open(location);
      expect(names.map((name) => store.getRuntime(name).paused)).toEqual([true, true, true, true]);
      store.close();
    } finally {
      await holder.end();
      rmSync(scriptDir, { recursive: true, force: true });
    }
  });

  test('two hosts starting the same run: the first keeps it, the second is refused, not overwriting it', async () => {
    const location = await postgres.fresh();
    const first = postgres.open(location);
    const second = postgres.open(location);
    try {
      const run = { pipeline: 'orders', attempt: 1, kind: { kind: 'normal' }, status: 'running' } as const;
      // Both asked for the next sequence before either inserted.
      expect([first.nextSequence('orders'), second.nextSequence('orders')]).toEqual([1, 1]);
      first.insertRun({ ...run, sequence: 1, trigger: 'manual' });
      expect(() => second.insertRun({ ...run, sequence: 1, trigger: 'schedule' })).toThrow(
        expect.objectContaining({
          code: 'STATE_STORE',
          message: expect.stringMatching(/run orders-1-1 already exists/),
        }),
      );
      expect(second.getRun('orders-1-1')?.trigger).toBe('manual');
      expect(second.nextSequence('orders')).toBe(2);
    } finally {
      first.close();
      second.close();
    }
  });

  test('an unreachable server is a STATE_STORE error that names it without the password', () => {
    const url = `postgres://etld:secret@127.0.0.1:1/state`;
    expect(() => openPostgresStateStore({ url })).toThrow(
      expect.objectContaining({
        code: 'STATE_STORE',
        message: expect.stringMatching(/^the PostgreSQL state store at 127\.0\.0\.1:1\/state is unreachable/),
      }),
    );
    let message = '';
    try {
      openPostgresStateStore({ url });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toMatch(/secret/);
  });
});
