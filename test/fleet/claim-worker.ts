// A worker thread with its own PostgreSQL coordinator (the built one, dist/): waits at a shared
// barrier so every worker's claims and leases hit the server at the same moment.
import { parentPort, workerData } from 'node:worker_threads';
import type { PostgresCoordinator as PostgresCoordinatorClass } from '../../daemon/fleet/postgres-coordinator.js';

interface ClaimWork {
  readonly coordinatorModule: string;
  readonly url: string;
  readonly host: string;
  readonly keys: readonly string[];
  readonly pipelines: readonly string[];
  readonly barrier: SharedArrayBuffer;
  readonly offset: number;
  readonly workers: number;
}

const work = workerData as ClaimWork;
const { coordinatorModule, url, host, keys, pipelines, barrier, offset } = work;
// The built coordinator: Node strips this file's types, but would not resolve the sources' .js imports.
const { PostgresCoordinator } = (await import(coordinatorModule)) as {
  PostgresCoordinator: typeof PostgresCoordinatorClass;
};
const coordinator = new PostgresCoordinator({
  url,
  host,
  pid: 1,
  version: 'test',
  startedAt: new Date().toISOString(),
  leaseMs: 60_000,
});
const gate = new Int32Array(barrier);
Atomics.add(gate, 0, 1);
while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 50);
const fires: string[] = [];
// Each worker starts at its own place in the list, so they meet head-on on some keys.
const rotated = [...keys.slice(offset), ...keys.slice(0, offset)];
for (const pipeline of pipelines)
  for (const key of rotated) if (coordinator.claimFire(pipeline, key)) fires.push(`${pipeline}|${key}`);
const leases: string[] = [];
for (const pipeline of pipelines)
  if (coordinator.acquireRunLease(pipeline, `${pipeline}-1`).granted) leases.push(pipeline);
// Nobody leaves (dropping its leases) before every worker has asked for them.
Atomics.add(gate, 2, 1);
while (Atomics.load(gate, 2) < work.workers) Atomics.wait(gate, 3, 0, 20);
coordinator.leave();
parentPort?.postMessage({ host, fires, leases });
