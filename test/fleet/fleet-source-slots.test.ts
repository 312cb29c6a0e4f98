/**
 * The fleet-wide source governor against a real PostgreSQL server: three hosts (three threads,
 * three connections) racing for a source capped at 2 never hold more than 2 slots between them,
 * and each host grants its own waiters in order; a host that stops heartbeating loses its slots
 * after the lease time (the server's clock) to a host that waits; an aborted wait rejects
 * CANCELLED and frees nothing; a store that stops answering fails the waits with STATE_STORE.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FleetSourceGovernor } from '../../daemon/fleet/fleet-source-governor.js';
import { FleetSourceSlots } from '../../daemon/fleet/fleet-source-slots.js';
import type { PostgresCoordinator } from '../../daemon/fleet/postgres-coordinator.js';
import { openSyncPgClient } from '../../daemon/state/pg-sync-client.js';
import type { HostSlotUsage } from '../../daemon/scheduler/slot-queues.js';
import { assertBuilt, REPO_ROOT } from '../helpers/daemon-process.js';
import { FleetDatabase } from './fleet-database.js';

let db: FleetDatabase;

beforeAll(async () => {
  db = await FleetDatabase.start('slots');
});
afterAll(() => db.destroy());

function governor(on: PostgresCoordinator, slotsPerHost = 2): FleetSourceGovernor {
  return new FleetSourceGovernor({ slots: on.sourceSlots, slotsPerHost, retryMs: 100 });
}

async function rows(source: string): Promise<string[]> {
  const found = await db.query<{ host: string }>(
    'SELECT host FROM fleet_source_slots WHERE source = $1 ORDER BY host',
    [source],
  );
  return found.map((r) => r.host);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to the grant, or to 'waiting' if none came within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'waiting'> {
  return Promise.race([promise, sleep(ms).then(() => 'waiting' as const)]);
}

interface WorkerResult {
  readonly host: string;
  readonly granted: number[];
  readonly waits: number;
  readonly left: HostSlotUsage[];
}

describe('fleet source governor (PostgreSQL)', () => {
  test('three hosts, cap 2: never more than 2 held fleet-wide, every acquire granted, FIFO per host', async () => {
    assertBuilt();
    const acquires = 40;
    const counters = new SharedArrayBuffer(16);
    const gate = new Int32Array(counters);
    const workers = ['race-a', 'race-b', 'race-c'].map(
      (host) =>
        new Worker(join(REPO_ROOT, 'test', 'fleet', 'slots-worker.ts'), {
          workerData: {
            distDir: join(REPO_ROOT, 'dist'),
            url: db.url,
            host,
            source: 'db1:5432',
            cap: 2,
            acquires,
            counters,
          },
        }),
    );
    const results = workers.map(
      (worker) =>
        new Promise<WorkerResult>((resolve, reject) => {
          worker.once('message', (message: WorkerResult) => resolve(message));
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`slots worker exited (${code}) without an answer`)));
        }),
    );
    while (Atomics.load(gate, 2) < workers.length) await sleep(10);
    Atomics.store(gate, 3, 1);
    Atomics.notify(gate, 3);
    const answers = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));

    // The cap held across hosts, and it was reached: the hosts really competed.
    expect(Atomics.load(gate, 1)).toBe(2);
    expect(Atomics.load(gate, 0)).toBe(0);
    const ordered = Array.from({ length: acquires }, (_, i) => i);
    for (const answer of answers) {
      expect(answer.granted).toEqual(ordered);
      expect(answer.waits).toBeGreaterThan(0);
      expect(answer.left).toEqual([]);
    }
    expect(await rows('db1:5432')).toEqual([]);
  }, 60_000);

  test('a host that stops heartbeating loses its slots after the lease time to a waiting host', async () => {
    const a = db.coordinator('expire-a', 2_000);
    const b = db.coordinator('expire-b', 2_000);
    const ga = governor(a);
    const gb = governor(b);
    const signal = new AbortController().signal;
    const held = [await ga.acquire('db2:5432', signal), await ga.acquire('db2:5432', signal)];
    let waited = false;
    const waiting = gb.acquire('db2:5432', signal, () => (waited = true));
    expect(waited).toBe(true);
    expect(gb.usage()).toEqual([{ host: 'db2:5432', inUse: 0, waiting: 1 }]);

    // Heartbeats every lease/3 keep a's slots past two lease times.
    for (let i = 0; i < 6; i += 1) {
      await sleep(700);
      a.heartbeat();
      b.heartbeat();
      expect(await within(waiting, 0)).toBe('waiting');
    }
    expect(await rows('db2:5432')).toEqual(['expire-a', 'expire-a']);

    // Without them they expire, and b's retry takes one.
    const silentSince = Date.now();
    const release = await waiting;
    expect(Date.now() - silentSince).toBeGreaterThan(1_000);
    expect(gb.inUse('db2:5432')).toBe(1);
    expect(await rows('db2:5432')).toEqual(['expire-b']);
    // a still believes it holds two; giving them back must not free b's.
    expect(ga.inUse('db2:5432')).toBe(2);
    for (const r of held) r();
    expect(await rows('db2:5432')).toEqual(['expire-b']);
    release();
    expect(await rows('db2:5432')).toEqual([]);
    expect([...ga.usage(), ...gb.usage()]).toEqual([]);
  }, 30_000);

  test('an aborted wait rejects CANCELLED, frees nothing, and gives its place to the next waiter', async () => {
    const a = db.coordinator('abort-a', 60_000);
    const b = db.coordinator('abort-b', 60_000);
    const ga = governor(a);
    const gb = governor(b);
    const signal = new AbortController().signal;
    const first = await ga.acquire('db3:5432', signal);
    const second = await ga.acquire('db3:5432', signal);

    const elsewhere = new AbortController();
    const remote = gb.acquire('db3:5432', elsewhere.signal);
    const here = new AbortController();
    const local = ga.acquire('db3:5432', here.signal);
    const next = gb.acquire('db3:5432', signal);
    elsewhere.abort(new Error('stop requested'));
    here.abort(new Error('pipeline removed'));
    await expect(remote).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('stop requested'),
    });
    await expect(local).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('pipeline removed'),
    });
    expect(ga.usage()).toEqual([{ host: 'db3:5432', inUse: 2, waiting: 0 }]);
    expect(gb.usage()).toEqual([{ host: 'db3:5432', inUse: 0, waiting: 1 }]);
    expect(await rows('db3:5432')).toEqual(['abort-a', 'abort-a']);
    await expect(ga.acquire('db3:5432', AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELLED' });

    // A slot freed on a: b's remaining waiter gets it on its next retry.
    first();
    first(); // a double release frees nothing more
    const granted = await within(next, 2_000);
    expect(granted).not.toBe('waiting');
    expect(await rows('db3:5432')).toEqual(['abort-a', 'abort-b']);
    second();
    if (granted !== 'waiting') granted();
    expect(await rows('db3:5432')).toEqual([]);
  }, 30_000);

  test('a store that stops answering fails the waits with STATE_STORE (retryable); a release never throws', async () => {
    const client = openSyncPgClient({ url: db.url, applicationName: 'etld-test slots' });
    const slots = new FleetSourceSlots({ db: client, host: 'outage', leaseMs: 60_000 });
    const releaseErrors: string[] = [];
    const g = new FleetSourceGovernor({
      slots,
      slotsPerHost: 1,
      retryMs: 50,
      onReleaseError: (error) => releaseErrors.push(error.code),
    });
    const signal = new AbortController().signal;
    const held = await g.acquire('db4:5432', signal);
    const waiting = g.acquire('db4:5432', signal);
    client.close();
    // Its turn comes with the release: the slot cannot be given back, and the next cannot be taken.
    expect(() => held()).not.toThrow();
    expect(releaseErrors).toEqual(['STATE_STORE']);
    await expect(waiting).rejects.toMatchObject({ code: 'STATE_STORE', retryable: true });
    await expect(g.acquire('db9:5432', signal)).rejects.toMatchObject({
      code: 'STATE_STORE',
      retryable: true,
    });
    expect(g.usage()).toEqual([]);
    // Its row stays until the lease expires (nobody renews it); the fleet stays capped meanwhile.
    expect(await rows('db4:5432')).toEqual(['outage']);
  }, 30_000);
});
