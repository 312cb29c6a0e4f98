/**
 * The PostgreSQL fleet coordinator against a real server: fire claims from three hosts at the
 * same moment (three threads, three connections) have exactly one winner each; run leases are
 * granted, refused, taken once expired and kept alive by heartbeats; hosts() tells alive, lost
 * and stopped hosts apart; a second daemon under a live host's name is refused, the name of a
 * killed one is taken over. Lease time is the server's: the tests wait real seconds.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, REPO_ROOT } from '../helpers/daemon-process.js';
import { FleetDatabase } from './fleet-database.js';

let db: FleetDatabase;

beforeAll(async () => {
  db = await FleetDatabase.start('fleet');
});
afterAll(() => db.destroy());

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface WorkerResult {
  readonly host: string;
  readonly fires: string[];
  readonly leases: string[];
}

describe('PostgreSQL fleet coordinator', () => {
  test('three hosts claiming the same fires and leases at once: exactly one winner each', async () => {
    assertBuilt();
    const keys = Array.from({ length: 200 }, (_, i) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString());
    const pipelines = Array.from({ length: 10 }, (_, i) => `race_${i}`);
    const barrier = new SharedArrayBuffer(16);
    const gate = new Int32Array(barrier);
    const workers = ['host-a', 'host-b', 'host-c'].map(
      (host, index) =>
        new Worker(join(REPO_ROOT, 'test', 'fleet', 'claim-worker.ts'), {
          workerData: {
            coordinatorModule: join(REPO_ROOT, 'dist', 'daemon', 'fleet', 'postgres-coordinator.js'),
            url: db.url,
            host,
            keys,
            pipelines,
            barrier,
            offset: Math.floor((index * keys.length) / 3),
            workers: 3,
          },
        }),
    );
    const results = workers.map(
      (worker) =>
        new Promise<WorkerResult>((resolve, reject) => {
          worker.once('message', (message: WorkerResult) => resolve(message));
          worker.once('error', reject);
        }),
    );
    while (Atomics.load(gate, 0) < workers.length) await sleep(10);
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    const answers = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));

    const winners = new Map<string, string[]>();
    for (const answer of answers)
      for (const fire of answer.fires) winners.set(fire, [...(winners.get(fire) ?? []), answer.host]);
    expect(winners.size).toBe(keys.length * pipelines.length);
    expect([...winners.values()].filter((hosts) => hosts.length !== 1)).toEqual([]);
    // Each host won some: the claims really raced.
    for (const answer of answers) expect(answer.fires.length).toBeGreaterThan(0);
    const rows = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM fleet_fire_claims WHERE pipeline LIKE 'race_%'",
    );
    expect(rows[0]?.n).toBe(keys.length * pipelines.length);
    const leaseWinners = answers.flatMap((a) => a.leases);
    expect(leaseWinners.sort()).toEqual([...pipelines].sort());
  }, 60_000);

  test('a lease is granted, refused to another host, renewed by heartbeats, taken once expired', async () => {
    const a = db.coordinator('lease-a', 2_000);
    const b = db.coordinator('lease-b', 2_000);
    expect(a.acquireRunLease('orders', 'orders-1')).toEqual({ granted: true });
    // Asking again for one's own lease renews it.
    expect(a.acquireRunLease('orders', 'orders-1')).toEqual({ granted: true });
    const refused = b.acquireRunLease('orders', 'orders-2');
    expect(refused.granted).toBe(false);
    if (!refused.granted) {
      expect(refused.holder).toBe('lease-a');
      expect(Number.isNaN(Date.parse(refused.expiresAt))).toBe(false);
    }
    expect(b.leaseHolder('orders')).toBe('lease-a');

    // Heartbeats every lease/3 keep it past several lease times.
    for (let i = 0; i < 6; i += 1) {
      await sleep(700);
      a.heartbeat();
      b.heartbeat();
      expect(b.acquireRunLease('orders', 'orders-2').granted).toBe(false);
    }

    // Without heartbeats it expires, and another host takes it.
    await sleep(2_300);
    expect(b.leaseHolder('orders')).toBeNull();
    expect(b.acquireRunLease('orders', 'orders-2')).toEqual({ granted: true });
    expect(a.acquireRunLease('orders', 'orders-3').granted).toBe(false);
    // A heartbeat of the former holder extends only its own leases: b keeps this one.
    a.heartbeat();
    expect(a.leaseHolder('orders')).toBe('lease-b');

    // Released, it is free at once.
    b.releaseRunLease('orders');
    expect(a.leaseHolder('orders')).toBeNull();
    expect(a.acquireRunLease('orders', 'orders-3')).toEqual({ granted: true });
    // A release by a host that does not hold it changes nothing.
    b.releaseRunLease('orders');
    expect(b.leaseHolder('orders')).toBe('lease-a');
  }, 30_000);

  test('hosts(): alive while heartbeating, lost after a lease time without, stopped after leave()', async () => {
    const alive = db.coordinator('health-alive', 2_000);
    const lost = db.coordinator('health-lost', 2_000);
    const stopped = db.coordinator('health-stopped', 2_000);
    alive.acquireRunLease('health_pipeline', 'health_pipeline-1');
    stopped.acquireRunLease('stopped_pipeline', 'stopped_pipeline-1');
    stopped.leave();
    for (let i = 0; i < 4; i += 1) {
      await sleep(700);
      alive.heartbeat();
    }
    const byHost = new Map(alive.hosts().map((h) => [h.host, h]));
    expect(byHost.get('health-alive')?.health).toBe('alive');
    expect(byHost.get('health-alive')?.running).toEqual(['health_pipeline']);
    expect(byHost.get('health-lost')?.health).toBe('lost');
    expect(byHost.get('health-stopped')?.health).toBe('stopped');
    expect(byHost.get('health-stopped')?.running).toEqual([]);
    expect(byHost.get('health-alive')?.pid).toBe(100);
    expect(Number.isNaN(Date.parse(byHost.get('health-alive')?.heartbeatAt ?? ''))).toBe(false);
    // The stopped host dropped its lease at once.
    expect(alive.leaseHolder('stopped_pipeline')).toBeNull();
    // A lost host that beats again is alive again.
    lost.heartbeat();
    expect(alive.hosts().find((h) => h.host === 'health-lost')?.health).toBe('alive');
  }, 30_000);

  test('a daemon joining under the name of a running daemon is refused; a killed one is taken over', async () => {
    const running = db.coordinator('twin', 3_000);
    const beating = setInterval(() => running.heartbeat(), 1_000);
    try {
      const waits: string[] = [];
      const started = Date.now();
      await expect(db.join('twin', 3_000, (message) => waits.push(message))).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/fleet\.host_name twin is in use by another running daemon \(pid 100/),
      });
      expect(waits).toEqual([expect.stringMatching(/waiting up to 3000 ms/)]);
      expect(Date.now() - started).toBeLessThan(3_500);
      running.heartbeat();
    } finally {
      clearInterval(beating);
    }

    // Killed: its row looks alive, but nothing heartbeats it any more.
    const killed = db.coordinator('reborn', 3_000);
    killed.acquireRunLease('reborn_pipeline', 'reborn_pipeline-1');
    const successor = await db.join('reborn', 3_000);
    expect(successor.acquireRunLease('reborn_pipeline', 'reborn_pipeline-2')).toEqual({ granted: true });
    // Had the killed one only been paused, it finds its name taken and keeps away from its leases.
    expect(() => killed.heartbeat()).toThrow(
      /fleet host name reborn was taken by another daemon \(pid 200\)/,
    );
    killed.leave();
    expect(successor.leaseHolder('reborn_pipeline')).toBe('reborn');
    expect(successor.hosts().find((h) => h.host === 'reborn')).toMatchObject({ health: 'alive', pid: 200 });

    // Stopped cleanly: the name is free at once.
    const before = db.coordinator('clean', 3_000);
    before.leave();
    const quick = Date.now();
    await db.join('clean', 3_000);
    expect(Date.now() - quick).toBeLessThan(1_000);
  }, 30_000);
});
