// A worker thread playing one etld host: its own coordinator (own connection) and fleet source
// governor, the built ones (dist/). It waits at a shared barrier, then asks for `acquires` slots
// on one source at once, holds each a few milliseconds, and counts the slots held across every
// worker in shared memory (incremented once granted, decremented before the release).
import { parentPort, workerData } from 'node:worker_threads';
import type { FleetSourceGovernor as FleetSourceGovernorClass } from '../../daemon/fleet/fleet-source-governor.js';
import type { PostgresCoordinator as PostgresCoordinatorClass } from '../../daemon/fleet/postgres-coordinator.js';

interface SlotsWork {
  readonly distDir: string;
  readonly url: string;
  readonly host: string;
  readonly source: string;
  readonly cap: number;
  readonly acquires: number;
  /** Int32: [0] held now fleet-wide, [1] most ever held, [2] workers ready, [3] go. */
  readonly counters: SharedArrayBuffer;
}

const work = workerData as SlotsWork;
const { PostgresCoordinator } = (await import(`${work.distDir}/daemon/fleet/postgres-coordinator.js`)) as {
  PostgresCoordinator: typeof PostgresCoordinatorClass;
};
const { FleetSourceGovernor } = (await import(`${work.distDir}/daemon/fleet/fleet-source-governor.js`)) as {
  FleetSourceGovernor: typeof FleetSourceGovernorClass;
};
const coordinator = new PostgresCoordinator({
  url: work.url,
  host: work.host,
  pid: 1,
  version: 'test',
  startedAt: new Date().toISOString(),
  leaseMs: 60_000,
});
// A short retry so slots freed on other hosts are seen quickly (the daemon's is 500 ms).
const governor = new FleetSourceGovernor({
  slots: coordinator.sourceSlots,
  slotsPerHost: work.cap,
  retryMs: 20,
});
const counters = new Int32Array(work.counters);
Atomics.add(counters, 2, 1);
while (Atomics.load(counters, 3) === 0) Atomics.wait(counters, 3, 0, 50);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
// The governor's retry timers are unref'd (a daemon is kept up by its socket): this keeps the
// thread up while its waiters wait.
const keepAlive = setInterval(() => undefined, 1_000);
const granted: number[] = [];
let waits = 0;
const signal = new AbortController().signal;
const all = Array.from({ length: work.acquires }, (_, index) =>
  governor
    .acquire(work.source, signal, () => waits++)
    .then(async (release) => {
      granted.push(index);
      const now = Atomics.add(counters, 0, 1) + 1;
      for (let seen = Atomics.load(counters, 1); now > seen; seen = Atomics.load(counters, 1))
        if (Atomics.compareExchange(counters, 1, seen, now) === seen) break;
      await sleep(3 + Math.floor(Math.random() * 12));
      Atomics.sub(counters, 0, 1);
      release();
    }),
);
await Promise.all(all);
clearInterval(keepAlive);
const left = governor.usage();
coordinator.leave();
parentPort?.postMessage({ host: work.host, granted, waits, left });
