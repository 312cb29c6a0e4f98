/**
 * The supervisor inside a real spawned etld with a real PostgreSQL source and a DuckDB
 * destination: pause survives a restart, SIGTERM drains a run in flight, and a run killed with
 * SIGKILL is marked interrupted, retried with its sequence and loads every row exactly once.
 * Long runs come from `pg_sleep` in the source query, so nothing depends on machine speed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { connectClient } from '../../shared/client/ws-client.js';
import type { DaemonClient } from '../../shared/client/client.js';
import type { RunRecord } from '../../shared/protocol.js';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';

let pg: PostgresServer;
const homes: TempHome[] = [];
const daemons: DaemonProcess[] = [];
const clients: DaemonClient[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, g * 1.5, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 500) g;`,
    [],
    'shop',
  );
});
afterAll(async () => {
  await pg.destroy();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const d of daemons.splice(0)) {
    if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
  }
  for (const h of homes.splice(0)) h.remove();
});

/** A pipeline reading `orders`; `sleepSeconds` makes every read of the source take that long. */
function pipelineYaml(
  name: string,
  options: { schedule?: string; sleepSeconds?: number; mode?: 'full' | 'incremental' } = {},
): string {
  const sleep = options.sleepSeconds ?? 0;
  const source =
    sleep > 0
      ? `  query: "SELECT o.id, o.amount, o.updated_at FROM orders o CROSS JOIN (SELECT pg_sleep(${sleep})) AS s"`
      : '  table: public.orders';
  const load =
    options.mode === 'incremental'
      ? '{ mode: incremental, cursor: updated_at, start_from: "2025-01-01" }'
      : '{ mode: full }';
  return `name: ${name}
${options.schedule !== undefined ? `schedule: "${options.schedule}"\n` : ''}timezone: UTC
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }
${source}
load: ${load}
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 3, retry_delay: 1s, max_retry_delay: 5s, retry_timeout: 5m }
`;
}

function home(settings?: string): TempHome {
  const h = makeTempHome('etld-sched-');
  homes.push(h);
  if (settings !== undefined) h.writeSettings(settings);
  return h;
}

async function launch(h: TempHome): Promise<{ daemon: DaemonProcess; client: DaemonClient }> {
  const daemon = spawnDaemon(h.dir);
  daemons.push(daemon);
  await daemon.waitForLine(/etld running/, 60_000);
  const client = await connectClient({
    socketPath: h.socketPath,
    clientName: 'scheduler-test',
    reconnect: false,
  });
  clients.push(client);
  return { daemon, client };
}

async function closeClient(client: DaemonClient): Promise<void> {
  clients.splice(clients.indexOf(client), 1);
  await client.close();
}

async function history(client: DaemonClient, pipeline: string): Promise<RunRecord[]> {
  return client.call('history', { pipeline, limit: 50 });
}

async function waitForRun(
  client: DaemonClient,
  pipeline: string,
  id: string,
  statuses: RunRecord['status'][],
): Promise<RunRecord> {
  return waitFor(
    async () => (await history(client, pipeline)).find((r) => r.id === id && statuses.includes(r.status)),
    { timeoutMs: 90_000, intervalMs: 200, what: `run ${id} to be ${statuses.join('|')}` },
  );
}

async function duckCount(file: string, table: string): Promise<{ rows: number; distinct: number }> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d FROM "${table}"`,
    );
    const [row] = reader.getRowObjects();
    return { rows: Number(row?.n), distinct: Number(row?.d) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function storeRuns(
  h: TempHome,
): { id: string; status: string; trigger: string; error_code: string | null }[] {
  const db = new Database(join(h.dir, 'state', 'etld.db'), { readonly: true });
  try {
    return db
      .prepare('SELECT id, status, trigger, error_code FROM runs ORDER BY sequence, attempt')
      .all() as {
      id: string;
      status: string;
      trigger: string;
      error_code: string | null;
    }[];
  } finally {
    db.close();
  }
}

describe('supervisor in a spawned etld', () => {
  test('pause survives a restart: the schedule keeps firing into "paused" and nothing runs', async () => {
    const h = home();
    h.writePipeline('ticker.yaml', pipelineYaml('ticker', { schedule: '*/2 * * * * *' }));
    const first = await launch(h);
    expect(await first.client.call('pause', { pipeline: 'ticker' })).toEqual({
      pipeline: 'ticker',
      paused: true,
    });
    await closeClient(first.client);
    expect(await first.daemon.stop()).toBe(0);
    const before = storeRuns(h).length;

    const second = await launch(h);
    const listed = await second.client.call('list');
    expect(listed.find((p) => p.name === 'ticker')).toMatchObject({
      paused: true,
      state: 'paused',
      next_run_at: null,
    });
    const why = await waitFor(
      async () => {
        const answer = await second.client.call('why', { pipeline: 'ticker' });
        return answer.lines.some((l) => /paused: the schedule fired at/.test(l)) ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'a paused fire to be recorded' },
    );
    expect(why.lines[0]).toMatch(/^paused since/);
    expect(await history(second.client, 'ticker')).toHaveLength(before);

    await second.client.call('resume', { pipeline: 'ticker' });
    const ran = await waitFor(
      async () => (await history(second.client, 'ticker')).find((r) => r.status === 'succeeded'),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'a scheduled run after resume',
      },
    );
    expect(ran.trigger).toBe('schedule');
  });

  test('SIGTERM drain: a run that finishes within the grace period completes, the daemon exits 0', async () => {
    const h = home('defaults: { grace_period: 60s }\n');
    h.writePipeline('slow.yaml', pipelineYaml('slow', { sleepSeconds: 3 }));
    const { daemon, client } = await launch(h);
    const { run_id } = await client.call('start', { pipeline: 'slow' });
    await waitForRun(client, 'slow', run_id, ['running']);
    await closeClient(client);
    daemon.signal('SIGTERM');
    expect(await daemon.exited(90_000)).toBe(0);
    expect(storeRuns(h)).toEqual([
      { id: `${run_id}-1`, status: 'succeeded', trigger: 'manual', error_code: null },
    ]);
    expect(await duckCount(join(h.dir, 'lake', 'slow.duckdb'), 'slow')).toEqual({ rows: 500, distinct: 500 });
  });

  test('SIGTERM drain: a run still going after the grace period is cancelled as interrupted, exit 0, destination untouched', async () => {
    const h = home('defaults: { grace_period: 1s }\n');
    h.writePipeline('stuck.yaml', pipelineYaml('stuck', { sleepSeconds: 600 }));
    const { daemon, client } = await launch(h);
    const { run_id } = await client.call('start', { pipeline: 'stuck' });
    await waitForRun(client, 'stuck', run_id, ['running']);
    await closeClient(client);
    daemon.signal('SIGTERM');
    expect(await daemon.exited(90_000)).toBe(0);
    expect(daemon.lines.some((l) => /grace period over: cancelling run stuck-1-1/.test(l))).toBe(true);
    expect(storeRuns(h)).toEqual([
      { id: `${run_id}-1`, status: 'interrupted', trigger: 'manual', error_code: 'INTERRUPTED' },
    ]);
    // Nothing reached the destination: no file, or a file without the table.
    const lakeFile = join(h.dir, 'lake', 'stuck.duckdb');
    if (existsSync(lakeFile)) await expect(duckCount(lakeFile, 'stuck')).rejects.toThrow(/stuck/);
    // The source query was cancelled, not left sleeping in PostgreSQL.
    await waitFor(
      async () => {
        const active = await pg.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()",
        );
        return active[0]?.n === '0' ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the sleeping source query to be cancelled' },
    );
  });

  test('SIGKILL during a run: interrupted at start-up, retried with its sequence, every row loaded exactly once', async () => {
    const h = home();
    h.writePipeline('orders.yaml', pipelineYaml('orders', { sleepSeconds: 4, mode: 'incremental' }));
    const first = await launch(h);
    const { run_id } = await first.client.call('start', { pipeline: 'orders' });
    expect(run_id).toBe('orders-1');
    await waitForRun(first.client, 'orders', run_id, ['running']);
    await closeClient(first.client);
    first.daemon.signal('SIGKILL');
    await first.daemon.exited();
    expect(storeRuns(h)).toMatchObject([{ id: 'orders-1-1', status: 'running' }]);

    const second = await launch(h);
    // The same run goes on across the crash: attempt 1 was interrupted, attempt 2 succeeded.
    const retried = await waitForRun(second.client, 'orders', 'orders-1', ['succeeded', 'failed']);
    expect(retried).toMatchObject({
      status: 'succeeded',
      trigger: 'manual',
      sequence: 1,
      attempt: 2,
      rows_loaded: 500,
    });
    const detail = await second.client.call('run', { run_id: 'orders-1' });
    expect(detail.attempts.map((a) => [a.id, a.status, a.trigger, a.error?.code ?? null])).toEqual([
      ['orders-1-1', 'interrupted', 'manual', 'INTERRUPTED'],
      ['orders-1-2', 'succeeded', 'startup-recovery', null],
    ]);
    expect(
      second.daemon.lines.some((l) =>
        /run orders-1-1 was running when the daemon stopped: marked interrupted/.test(l),
      ),
    ).toBe(true);

    // A further manual run finds nothing new above the watermark: still exactly 500 rows.
    const again = await second.client.call('start', { pipeline: 'orders' });
    const next = await waitForRun(second.client, 'orders', again.run_id, ['succeeded', 'failed']);
    expect(next).toMatchObject({ status: 'succeeded', sequence: 2, rows_loaded: 0 });
    await closeClient(second.client);
    expect(await second.daemon.stop()).toBe(0);
    expect(await duckCount(join(h.dir, 'lake', 'orders.duckdb'), 'orders')).toEqual({
      rows: 500,
      distinct: 500,
    });
  });
});
