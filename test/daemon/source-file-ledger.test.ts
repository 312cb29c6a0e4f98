/**
 * The file ledger of the state store (`source_files`), on SQLite files and PostgreSQL databases:
 * a version-7 SQLite store keeps its data through the migration; a run's files and its committed sequence
 * are written in one transaction (a trigger that fails the write midway leaves neither); the
 * sequence is only ever raised; lookups of more keys than one batch; keyset paging with the
 * status and text filters; a full run's set replacing the loaded entries; forgetting.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../daemon/state/migrations.js';
import { openStateStore } from '../../daemon/state/sqlite-store.js';
import type { NewSourceFile, SourceFileRecord, StateStore } from '../../daemon/state/store.js';
import { stateBackends, type StateBackend } from '../helpers/state-backends.js';

const backends = stateBackends();

/** A store whose clock starts at 2026-03-01 10:00 and moves a minute per write. */
function openAt(backend: StateBackend, location: string): StateStore {
  let clock = Date.parse('2026-03-01T10:00:00Z');
  return backend.open(location, () => new Date((clock += 60_000)));
}

function loaded(key: string, size = 100): NewSourceFile {
  return {
    key,
    size,
    version: `etag-${key}`,
    modifiedAt: '2026-02-28T08:00:00.000Z',
    status: 'loaded',
    reason: null,
  };
}

function quarantined(key: string, reason: string): NewSourceFile {
  return { ...loaded(key, 7), status: 'quarantined', reason };
}

const keysOf = (records: readonly SourceFileRecord[]): string[] => records.map((r) => r.key);

describe.each(backends.all)('the file ledger of the state store on $name', (backend) => {
  it('records what a run committed and reads it back by key', async () => {
    const store = openAt(backend, await backend.fresh());
    store.commitSourceFiles('orders', 3, 'orders-3-2', [
      loaded('in/a.csv', 2048),
      quarantined('in/b.csv', 'in/b.csv line 17, column amount: not a decimal(12,2)'),
    ]);
    const found = store.lookupSourceFiles('orders', ['in/a.csv', 'in/b.csv', 'in/none.csv']);
    expect([...found.keys()].sort()).toEqual(['in/a.csv', 'in/b.csv']);
    expect(found.get('in/a.csv')).toEqual({
      key: 'in/a.csv',
      size: 2048,
      version: 'etag-in/a.csv',
      modifiedAt: '2026-02-28T08:00:00.000Z',
      status: 'loaded',
      sequence: 3,
      runId: 'orders-3-2',
      reason: null,
      recordedAt: '2026-03-01T10:01:00.000Z',
    });
    expect(found.get('in/b.csv')).toMatchObject({
      status: 'quarantined',
      reason: 'in/b.csv line 17, column amount: not a decimal(12,2)',
    });
    // Another pipeline's ledger is its own.
    expect(store.lookupSourceFiles('billing', ['in/a.csv']).size).toBe(0);
    expect(store.lookupSourceFiles('orders', []).size).toBe(0);

    // A quarantined file fixed and loaded later: the entry is replaced, reason and all.
    store.commitSourceFiles('orders', 4, 'orders-4-1', [{ ...loaded('in/b.csv', 9), version: 'etag-fixed' }]);
    expect(store.lookupSourceFiles('orders', ['in/b.csv']).get('in/b.csv')).toMatchObject({
      status: 'loaded',
      reason: null,
      version: 'etag-fixed',
      size: 9,
      sequence: 4,
      runId: 'orders-4-1',
    });
    expect(store.sourceFileTotals('orders')).toEqual({
      loaded: 2,
      quarantined: 0,
      loadedBytes: 2048 + 9,
      lastRecordedAt: '2026-03-01T10:02:00.000Z',
    });
    store.close();
  });

  it('looks up more keys than one batch holds (1,200, with duplicates and unknown ones)', async () => {
    const store = openAt(backend, await backend.fresh());
    const keys = Array.from({ length: 1200 }, (_, i) => `day/${String(i).padStart(5, '0')}.ndjson`);
    store.commitSourceFiles(
      'events',
      1,
      'events-1-1',
      keys.map((k, i) => loaded(k, i)),
    );
    const asked = [...keys, ...keys.slice(0, 50), 'day/99999.ndjson', 'elsewhere.csv'];
    const found = store.lookupSourceFiles('events', asked);
    expect(found.size).toBe(1200);
    expect([...found.keys()].sort()).toEqual(keys);
    expect(found.get('day/01199.ndjson')?.size).toBe(1199);
    expect(found.get('day/00500.ndjson')?.size).toBe(500);
    store.close();
  });

  it('writes the files and the sequence in one transaction: a failure midway leaves neither', async () => {
    const file = await backend.fresh();
    const store = openAt(backend, file);
    store.commitSourceFiles('orders', 5, 'orders-5-1', [loaded('old.csv')]);
    store.close();

    // The second file's insert fails after the first one was written.
    await backend.failWrites(file, { sourceFileKey: 'b.csv' });
    const failing = openAt(backend, file);
    expect(() =>
      failing.commitSourceFiles(
        'orders',
        6,
        'orders-6-1',
        [loaded('a.csv'), loaded('b.csv'), loaded('c.csv')],
        {
          replaceLoaded: true,
        },
      ),
    ).toThrow(/simulated disk full/);
    expect(failing.getRuntime('orders').committedSequence).toBe(5);
    expect(keysOf(failing.listSourceFiles('orders', { limit: 10 }))).toEqual(['old.csv']);
    // A pipeline the store had not seen gets no row either.
    expect(() =>
      failing.commitSourceFiles('fresh', 1, 'fresh-1-1', [loaded('a.csv'), loaded('b.csv')]),
    ).toThrow(/simulated disk full/);
    expect(failing.getRuntime('fresh').committedSequence).toBe(0);
    expect(failing.lookupSourceFiles('fresh', ['a.csv']).size).toBe(0);
    failing.close();
    await backend.allowWrites(file, { sourceFileKey: 'b.csv' });

    // The sequence's write fails after every file was written.
    await backend.failWrites(file, { committedSequence: true });
    const late = openAt(backend, file);
    expect(() =>
      late.commitSourceFiles('orders', 6, 'orders-6-1', [loaded('a.csv'), loaded('d.csv')]),
    ).toThrow(/simulated disk full/);
    expect(late.getRuntime('orders').committedSequence).toBe(5);
    expect(late.lookupSourceFiles('orders', ['a.csv', 'd.csv']).size).toBe(0);
    expect(late.sourceFileTotals('orders')).toMatchObject({ loaded: 1, quarantined: 0 });
    late.close();
  });

  it('only ever raises the committed sequence, as a watermark commit does', async () => {
    const store = openAt(backend, await backend.fresh());
    store.commitSourceFiles('orders', 7, 'orders-7-1', [loaded('a.csv')]);
    expect(store.getRuntime('orders').committedSequence).toBe(7);
    store.commitSourceFiles('orders', 4, 'orders-4-1', [loaded('b.csv')]);
    expect(store.getRuntime('orders').committedSequence).toBe(7);
    expect(store.lookupSourceFiles('orders', ['b.csv']).get('b.csv')?.sequence).toBe(4);
    store.setCommittedSequence('orders', 12);
    store.commitSourceFiles('orders', 9, 'orders-9-1', []);
    expect(store.getRuntime('orders').committedSequence).toBe(12);
    store.commitSourceFiles('orders', 13, 'orders-13-1', []);
    expect(store.getRuntime('orders').committedSequence).toBe(13);
    expect(store.nextSequence('orders')).toBe(14);
    store.close();
  });

  it('pages in key order with `after`, by status and by text, each entry exactly once', async () => {
    const store = openAt(backend, await backend.fresh());
    const files: NewSourceFile[] = [];
    for (let i = 0; i < 250; i++) {
      const key = `${['a', 'B', 'c', 'ä'][i % 4]}/${String((i * 37) % 250).padStart(3, '0')}.csv`;
      files.push(i % 5 === 0 ? quarantined(key, `${key} line ${i}: Unterminated quote`) : loaded(key, i));
    }
    store.commitSourceFiles('orders', 1, 'orders-1-1', files);
    store.commitSourceFiles('billing', 1, 'billing-1-1', [loaded('a/000.csv')]);
    // Keys compare by their bytes (SQLite does; PostgreSQL's columns are COLLATE "C"): the order a listing keeps.
    const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const walk = (filter: { status?: 'loaded' | 'quarantined'; text?: string }, limit: number): string[] => {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = store.listSourceFiles('orders', {
          ...filter,
          limit,
          ...(after === undefined ? {} : { after }),
        });
        seen.push(...keysOf(page));
        if (page.length < limit) return seen;
        after = page.at(-1)?.key;
      }
    };
    const all = files.map((f) => f.key).sort(byteOrder);
    expect(walk({}, 7)).toEqual(all);
    expect(walk({}, 250)).toEqual(all);
    expect(walk({ status: 'quarantined' }, 4)).toEqual(
      files
        .filter((f) => f.status === 'quarantined')
        .map((f) => f.key)
        .sort(byteOrder),
    );
    expect(walk({ status: 'loaded' }, 33)).toHaveLength(200);
    // The text matches the key or the reason, ignoring case (ä as well).
    expect(walk({ text: 'b/' }, 5)).toEqual(all.filter((k) => k.startsWith('B/')));
    expect(walk({ text: 'Ä/01' }, 3)).toEqual(all.filter((k) => k.startsWith('ä/01')));
    expect(walk({ text: 'UNTERMINATED' }, 9)).toEqual(walk({ status: 'quarantined' }, 9));
    expect(walk({ text: 'line 5:', status: 'quarantined' }, 9)).toHaveLength(1);
    // `after` need not be a recorded key: paging goes on from where it would sort.
    expect(keysOf(store.listSourceFiles('orders', { after: 'B/0995', limit: 2 }))).toEqual(
      all.filter((k) => byteOrder(k, 'B/0995') > 0).slice(0, 2),
    );
    expect(store.listSourceFiles('orders', { after: 'ä/999', limit: 5 })).toEqual([]);
    store.close();
  });

  it("replaceLoaded: a full run's set replaces the loaded entries and keeps the quarantined ones", async () => {
    const store = openAt(backend, await backend.fresh());
    store.commitSourceFiles('snap', 1, 'snap-1-1', [
      loaded('a.csv'),
      loaded('b.csv'),
      quarantined('q.csv', 'q.csv line 2: 3 columns, 4 expected'),
    ]);
    store.commitSourceFiles('other', 1, 'other-1-1', [loaded('a.csv')]);
    store.commitSourceFiles('snap', 2, 'snap-2-1', [loaded('b.csv', 5), loaded('c.csv', 6)], {
      replaceLoaded: true,
    });
    expect(store.listSourceFiles('snap', { limit: 10 }).map((f) => [f.key, f.status, f.sequence])).toEqual([
      ['b.csv', 'loaded', 2],
      ['c.csv', 'loaded', 2],
      ['q.csv', 'quarantined', 1],
    ]);
    expect(store.sourceFileTotals('snap')).toMatchObject({ loaded: 2, quarantined: 1, loadedBytes: 11 });
    expect(keysOf(store.listSourceFiles('other', { limit: 10 }))).toEqual(['a.csv']);
    // Without it, entries not named stay.
    store.commitSourceFiles('snap', 3, 'snap-3-1', [loaded('d.csv')]);
    expect(keysOf(store.listSourceFiles('snap', { limit: 10 }))).toEqual([
      'b.csv',
      'c.csv',
      'd.csv',
      'q.csv',
    ]);
    store.close();
  });

  it('forgets the entries named, or all of a pipeline, and says how many', async () => {
    const store = openAt(backend, await backend.fresh());
    const keys = Array.from({ length: 1200 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    store.commitSourceFiles('orders', 1, 'orders-1-1', [
      ...keys.map((k) => loaded(k)),
      quarantined('bad.csv', 'bad.csv line 1: empty'),
    ]);
    store.commitSourceFiles('billing', 1, 'billing-1-1', [loaded('k0001')]);
    expect(store.forgetSourceFiles('orders', ['k0001', 'k0002', 'nope', 'k0001'])).toBe(2);
    expect(store.lookupSourceFiles('orders', ['k0001', 'k0002', 'k0003']).size).toBe(1);
    expect(store.forgetSourceFiles('orders', keys.slice(0, 1100))).toBe(1098);
    expect(store.forgetSourceFiles('orders', [])).toBe(0);
    expect(store.sourceFileTotals('orders')).toMatchObject({ loaded: 100, quarantined: 1 });
    expect(store.forgetSourceFiles('orders')).toBe(101);
    expect(store.sourceFileTotals('orders')).toEqual({
      loaded: 0,
      quarantined: 0,
      loadedBytes: 0,
      lastRecordedAt: null,
    });
    expect(store.lookupSourceFiles('billing', ['k0001']).size).toBe(1);
    // Forgetting does not touch the committed sequence: the next run's sequence goes on.
    expect(store.getRuntime('orders').committedSequence).toBe(1);
    store.close();
  });
});

describe('the file ledger of the SQLite state store', () => {
  it('migrates a version-7 store to 8 (and on) keeping its runs, watermarks and committed sequence', async () => {
    const [sqlite] = backends.all;
    const file = (await sqlite?.fresh()) ?? '';
    const old = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 7)) old.exec(sql);
    old.pragma('user_version = 7');
    old.exec(`INSERT INTO pipelines (name, paused, committed_sequence) VALUES ('orders', 1, 41);
      INSERT INTO runs (id, pipeline, sequence, attempt, status, trigger, created_at, rows_loaded)
        VALUES ('orders-41-1', 'orders', 41, 1, 'succeeded', 'schedule', '2026-02-01T00:00:00.000Z', 12);
      INSERT INTO watermarks (pipeline, shard, value, sequence, updated_at)
        VALUES ('orders', 'default', '2026-01-31', 41, '2026-02-01T00:00:00.000Z');`);
    old.close();

    let clock = Date.parse('2026-03-01T10:00:00Z');
    const store = openStateStore(file, () => new Date((clock += 60_000)));
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(8);
    expect(store.getRuntime('orders')).toMatchObject({ paused: true, committedSequence: 41 });
    expect(store.getRun('orders-41-1')).toMatchObject({ status: 'succeeded', rowsLoaded: 12 });
    expect(store.getWatermarks('orders').map((w) => [w.shard, w.value, w.sequence])).toEqual([
      ['default', '2026-01-31', 41],
    ]);
    expect(store.sourceFileTotals('orders')).toEqual({
      loaded: 0,
      quarantined: 0,
      loadedBytes: 0,
      lastRecordedAt: null,
    });
    store.commitSourceFiles('orders', 42, 'orders-42-1', [loaded('a.csv')]);
    expect(store.getRuntime('orders').committedSequence).toBe(42);
    store.close();

    const reopened = new Database(file, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(
      reopened
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'source_files'")
        .all(),
    ).toContainEqual({ name: 'source_files_by_status' });
    reopened.close();
  });
});
