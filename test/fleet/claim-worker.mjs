// A worker thread with its own PostgreSQL coordinator (the built one, dist/): waits at a shared
// barrier so every worker's claims and leases hit the server at the same moment.
import { parentPort, workerData } from 'node:worker_threads';

const { coordinatorModule, url, host, keys, pipelines, barrier, offset } = workerData;
const { PostgresCoordinator } = await import(coordinatorModule);
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
const fires = [];
// Each worker starts at its own place in the list, so they meet head-on on some keys.
const rotated = [...keys.slice(offset), ...keys.slice(0, offset)];
for (const pipeline of pipelines)
  for (const key of rotated) if (coordinator.claimFire(pipeline, key)) fires.push(`${pipeline}|${key}`);
const leases = [];
for (const pipeline of pipelines)
  if (coordinator.acquireRunLease(pipeline, `${pipeline}-1`).granted) leases.push(pipeline);
// Nobody leaves (dropping its leases) before every worker has asked for them.
Atomics.add(gate, 2, 1);
while (Atomics.load(gate, 2) < workerData.workers) Atomics.wait(gate, 3, 0, 20);
coordinator.leave();
parentPort.postMessage({ host, fires, leases });
