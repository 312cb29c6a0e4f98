/**
 * A host dies (SIGKILL) in the middle of a long run; the other host of the fleet finds the run
 * left `running` with no live lease once the lease time (5 s) passed, takes it over and finishes
 * it: the run commits exactly once and the destination equals the source row by row. A host that
 * is only paused (SIGSTOP, a stopped VM) past its lease wakes up after its run was continued and a
 * newer run committed: its late commit must write nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectWhenListening } from '../helpers/daemon-process.js';
import { startWhenReady } from '../helpers/daemon-kill.js';
import type { PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import {
  fleetHome,
  launchHost,
  ordersPipeline,
  startFleetPostgres,
  stopHosts,
  type FleetHostProcess,
} from './fleet-harness.js';

let pg: PostgresServer;
let lake: string;
const hosts: FleetHostProcess[] = [];

beforeAll(async () => {
  pg = await startFleetPostgres(5000);
  lake = mkdtempSync(join(tmpdir(), 'etld-fleet-lake-'));
});
afterAll(async () => {
  await stopHosts(hosts);
  rmSync(lake, { recursive: true, force: true });
  await pg.destroy();
});

interface AttemptRow {
  id: string;
  sequence: number;
  attempt: number;
  status: string;
  trigger: string;
  error_code: string | null;
}

async function destinationRows(file: string, table: string): Promise<{ id: number; amount: string }[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT id::BIGINT AS id, amount::VARCHAR AS amount FROM ${table} ORDER BY id`,
    );
    return reader.getRowObjects().map((r) => ({ id: Number(r.id), amount: String(r.amount) }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Two hosts (lease 5 s) of a pipeline `name` into `<lake>/<name>.duckdb` whose every read of the
 * source takes `readSeconds`, so a run is surely in flight when its first host is struck.
 */
async function twoHostsOfSlowPipeline(
  name: string,
  readSeconds: number,
  hostNames: readonly [string, string],
): Promise<{ destination: string; first: FleetHostProcess; second: FleetHostProcess }> {
  const destination = join(lake, `${name}.duckdb`);
  const pipeline = {
    file: `${name}.yaml`,
    yaml: ordersPipeline(pg, name, {
      query: `SELECT o.id, o.amount FROM orders o CROSS JOIN (SELECT pg_sleep(${readSeconds})) AS s`,
      destination,
    }),
  };
  const url = pg.url('etld_state');
  const [firstName, secondName] = hostNames;
  const first = await launchHost(firstName, fleetHome(firstName, 5, [pipeline]), url);
  hosts.push(first);
  const second = await launchHost(secondName, fleetHome(secondName, 5, [pipeline]), url);
  hosts.push(second);
  return { destination, first, second };
}

test('a run whose host was killed is taken over by another host after the lease time and commits once', async () => {
  const {
    destination,
    first: doomed,
    second: survivor,
  } = await twoHostsOfSlowPipeline('slow', 8, ['host-doomed', 'host-survivor']);

  const client = await connectWhenListening(doomed.home.socketPath, 'takeover-test');
  try {
    await startWhenReady(client, 'slow');
  } finally {
    await client.close();
  }
  await waitFor(
    async () => {
      const rows = await pg.query<AttemptRow>(
        "SELECT status FROM runs WHERE pipeline = 'slow'",
        [],
        'etld_state',
      );
      return rows.some((r) => r.status === 'running') ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'the run to be running on host-doomed' },
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const killedAt = Date.now();
  doomed.daemon.signal('SIGKILL');
  await doomed.daemon.exited();

  await survivor.daemon.waitForLine(/lost its host \(no live run lease\): this host takes it over/, 30_000);
  const tookOverAfterMs = Date.now() - killedAt;
  const attempts = await waitFor(
    async () => {
      const rows = await pg.query<AttemptRow>(
        `SELECT id, sequence::int AS sequence, attempt, status, trigger, error_code
           FROM runs WHERE pipeline = 'slow' ORDER BY sequence, attempt`,
        [],
        'etld_state',
      );
      return rows.some((r) => r.status === 'succeeded') ? rows : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, what: 'the taken-over run to succeed' },
  );
  const doneAfterMs = Date.now() - killedAt;
  // One logical run: the killed attempt is interrupted, the survivor's next attempt succeeded.
  expect(new Set(attempts.map((a) => a.sequence)).size).toBe(1);
  expect(attempts.filter((a) => a.status === 'succeeded')).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ attempt: 1, status: 'interrupted', error_code: 'INTERRUPTED' });
  expect(attempts.at(-1)).toMatchObject({ status: 'succeeded', trigger: 'startup-recovery' });
  // The lease went no earlier than its expiry (5 s after the last heartbeat, at most ~1.7 s before the kill).
  expect(tookOverAfterMs).toBeGreaterThanOrEqual(3_000);

  expect(await survivor.daemon.stop()).toBe(0);
  const source = await pg.query<{ id: string; amount: string }>(
    'SELECT o.id::text AS id, o.amount::text AS amount FROM orders o ORDER BY o.id',
    [],
    'shop',
  );
  const loaded = await destinationRows(destination, 'slow');
  expect(loaded).toHaveLength(source.length);
  expect(loaded).toEqual(source.map((r) => ({ id: Number(r.id), amount: r.amount })));
  console.info(
    `fleet takeover: ${attempts.length} attempts (${attempts.map((a) => `${a.attempt}:${a.status}`).join(', ')}), taken over ${tookOverAfterMs} ms after the kill, succeeded ${doneAfterMs} ms after it, ${loaded.length} rows equal to the source`,
  );
}, 180_000);

test('a host paused past its lease wakes up after its run was continued and a newer run committed: its late commit writes nothing', async () => {
  const {
    destination,
    first: sleeper,
    second: awake,
  } = await twoHostsOfSlowPipeline('paused', 4, ['host-sleeper', 'host-awake']);
  const attemptsOf = (): Promise<AttemptRow[]> =>
    pg.query<AttemptRow>(
      `SELECT id, sequence::int AS sequence, attempt, status, trigger, error_code
         FROM runs WHERE pipeline = 'paused' ORDER BY sequence, attempt`,
      [],
      'etld_state',
    );
  const start = async (host: FleetHostProcess): Promise<void> => {
    const client = await connectWhenListening(host.home.socketPath, 'paused-host-test');
    try {
      await startWhenReady(client, 'paused');
    } finally {
      await client.close();
    }
  };

  await start(sleeper);
  await waitFor(async () => ((await attemptsOf()).some((r) => r.status === 'running') ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'the run to be running on host-sleeper',
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // A stopped VM: the process keeps its sockets and its attempt, but does nothing.
  sleeper.daemon.signal('SIGSTOP');
  try {
    await awake.daemon.waitForLine(/lost its host \(no live run lease\): this host takes it over/, 30_000);
    await waitFor(
      async () => ((await attemptsOf()).some((r) => r.status === 'succeeded') ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the continued run to succeed on host-awake' },
    );
    // The source moves on and a newer run loads it (full mode: the table is replaced).
    await pg.query(
      'INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(5001, 5300) g ON CONFLICT DO NOTHING',
      [],
      'shop',
    );
    await start(awake);
    await waitFor(
      async () =>
        (await attemptsOf()).some((r) => r.sequence === 2 && r.status === 'succeeded') ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 250, what: 'run 2 to succeed on host-awake' },
    );
  } finally {
    sleeper.daemon.signal('SIGCONT');
  }
  // The paused attempt goes on where it stopped: it reads the old rows and reaches its commit,
  // which finds its sequence (and a later one) committed.
  await sleeper.daemon.waitForLine(
    /sequence 1 is already committed in the destination .*nothing written/,
    60_000,
  );
  await sleeper.daemon.waitForLine(
    /run paused-1-1 succeeded here, but another host took the run over/,
    30_000,
  );
  const exits = [await sleeper.daemon.stop(), await awake.daemon.stop()];

  const source = await pg.query<{ id: string; amount: string }>(
    'SELECT o.id::text AS id, o.amount::text AS amount FROM orders o ORDER BY o.id',
    [],
    'shop',
  );
  const loaded = await destinationRows(destination, 'paused');
  console.info(
    `fleet paused host: attempts ${JSON.stringify(await attemptsOf())}; sleeper's last lines:\n${sleeper.daemon.lines.slice(-12).join('\n')}`,
  );
  // Run 2's table stands: the late commit of run 1 (fewer rows) did not replace it.
  expect(loaded).toHaveLength(source.length);
  expect(loaded).toEqual(source.map((r) => ({ id: Number(r.id), amount: r.amount })));
  expect(exits).toEqual([0, 0]);
  // The takeover's record stands: the late attempt did not write its end over it.
  expect((await attemptsOf()).map((a) => [a.id, a.status, a.trigger])).toEqual([
    ['paused-1-1', 'interrupted', 'manual'],
    ['paused-1-2', 'succeeded', 'startup-recovery'],
    ['paused-2-1', 'succeeded', 'manual'],
  ]);
}, 240_000);
