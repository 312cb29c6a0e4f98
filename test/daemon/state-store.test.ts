import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../daemon/state/migrations.js';

const dirs: string[] = [];
function tempFile(name = 'state.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'etld-state-'));
  dirs.push(dir);
  return join(dir, name);
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite state store', () => {
  test('runs: sequences, attempts, patches and newest-first history', () => {
    let clock = Date.parse('2026-11-21T10:00:00Z');
    const store = openStateStore(tempFile(), () => new Date((clock += 1000)));
    expect(store.nextSequence('orders')).toBe(1);
    const first = store.insertRun({
      pipeline: 'orders',
      sequence: 1,
      attempt: 1,
      trigger: 'manual',
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

  test('pause, fire marks and watermarks survive reopening; committed sequence feeds nextSequence', () => {
    const file = tempFile();
    const store = openStateStore(file);
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
    const reopened = openStateStore(file);
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

  test('the file that defines each pipeline survives reopening, also for a store from before the record', () => {
    const file = tempFile();
    // A store as etld wrote it before the record (schema version 4), with a paused pipeline in it.
    const old = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 4)) old.exec(sql);
    old.pragma('user_version = 4');
    old.exec("INSERT INTO pipelines (name, paused) VALUES ('orders', 1)");
    old.close();
    const store = openStateStore(file);
    expect(store.pipelineFiles()).toEqual(new Map());
    expect(store.getRuntime('orders').paused).toBe(true);
    store.close();

    const fresh = openStateStore(file.replace('state.db', 'fresh.db'));
    fresh.setPaused('orders', true);
    fresh.setPipelineFiles([
      { name: 'orders', file: '/etc/etld/pipelines/orders.yaml' },
      { name: 'users', file: '/etc/etld/pipelines/users.yaml' },
    ]);
    fresh.setPipelineFiles([{ name: 'users', file: '/etc/etld/pipelines/people.yaml' }]);
    fresh.close();
    const reopened = openStateStore(file.replace('state.db', 'fresh.db'));
    expect(reopened.pipelineFiles()).toEqual(
      new Map([
        ['orders', '/etc/etld/pipelines/orders.yaml'],
        ['users', '/etc/etld/pipelines/people.yaml'],
      ]),
    );
    expect(reopened.getRuntime('orders').paused).toBe(true);
    reopened.close();
  });

  test('alerts and schema history', () => {
    const store = openStateStore(':memory:');
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

  test('a corrupt file is a clear STATE_STORE error, not a stack trace', () => {
    const file = tempFile();
    writeFileSync(file, 'this is not a database, just text that happens to be long enough '.repeat(100));
    expect(() => openStateStore(file)).toThrow(
      expect.objectContaining({
        code: 'STATE_STORE',
        message: expect.stringMatching(/cannot open state store .*state\.db/),
      }),
    );
  });

  test('a store written by a newer etld is refused with STATE_STORE_NEWER', () => {
    const file = tempFile();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => openStateStore(file)).toThrow(
      expect.objectContaining({ code: 'STATE_STORE_NEWER', message: expect.stringMatching(/newer etld/) }),
    );
  });
});
