/**
 * The tables of multi-table runs in the state store (`run_tables`), on SQLite files and PostgreSQL
 * databases: a version-8 SQLite store keeps its data through the migration; a table's row is created
 * once and patched field by field; the tables of one run and each table's newest row.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../daemon/state/migrations.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { stateBackends } from '../helpers/state-backends.js';

const backends = stateBackends();

describe('run_tables of the SQLite state store', () => {
  it('migrates a version-8 store keeping its runs and file ledger', async () => {
    const [sqlite] = backends.all;
    const file = (await sqlite?.fresh()) ?? '';
    const old = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 8)) old.exec(sql);
    old.pragma('user_version = 8');
    old.exec(`INSERT INTO pipelines (name, paused, committed_sequence) VALUES ('shop', 0, 3);
      INSERT INTO runs (id, pipeline, sequence, attempt, status, trigger, created_at, rows_loaded)
        VALUES ('shop-3-1', 'shop', 3, 1, 'succeeded', 'schedule', '2026-02-01T00:00:00.000Z', 5);`);
    old.close();
    const store = openStateStore(file);
    try {
      expect(SCHEMA_VERSION).toBe(9);
      expect(store.getRun('shop-3-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 5 });
      expect(store.listRunTables('shop', 3)).toEqual([]);
      expect(store.latestRunTables('shop')).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe.each(backends.all)('run_tables of the state store on $name', (backend) => {
  it('creates a table row once, patches it, and lists a run and each table newest', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const store = backend.open(await backend.fresh(), () => new Date((clock += 60_000)));
    try {
      const created = store.upsertRunTable('shop', 1, 'public.orders', 'shop/public.orders', {});
      expect(created).toMatchObject({
        status: 'pending',
        memberSequence: null,
        attempts: 0,
        rowsLoaded: 0,
        errorCode: null,
        retryable: false,
      });
      store.upsertRunTable('shop', 1, 'public.orders', 'shop/public.orders', {
        memberSequence: 1,
        attempts: 1,
        status: 'running',
      });
      const failed = store.upsertRunTable('shop', 1, 'public.orders', 'shop/public.orders', {
        status: 'failed',
        errorCode: 'SOURCE_PERMISSION',
        errorMessage: 'permission denied for table orders',
        retryable: true,
      });
      // Fields not in a patch keep their values.
      expect(failed).toMatchObject({ memberSequence: 1, attempts: 1, status: 'failed', retryable: true });
      store.upsertRunTable('shop', 1, 'public."Order Items"', 'shop/public."Order Items"', {
        status: 'succeeded',
        rowsExtracted: 7,
        rowsLoaded: 7,
        bytes: 120,
        verdict: 'match',
      });
      store.upsertRunTable('shop', 2, 'public.orders', 'shop/public.orders', {
        status: 'succeeded',
        errorCode: null,
        errorMessage: null,
        memberSequence: 2,
      });
      expect(store.listRunTables('shop', 1).map((t) => [t.table, t.status])).toEqual([
        ['public."Order Items"', 'succeeded'],
        ['public.orders', 'failed'],
      ]);
      expect(store.latestRunTables('shop').map((t) => [t.table, t.sequence, t.memberSequence])).toEqual([
        ['public."Order Items"', 1, null],
        ['public.orders', 2, 2],
      ]);
      expect(store.listRunTables('shop', 2)[0]).toMatchObject({ errorCode: null, errorMessage: null });
      expect(store.latestRunTables('other')).toEqual([]);
    } finally {
      store.close();
    }
  });
});
