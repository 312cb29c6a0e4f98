/**
 * Three real daemons sharing one PostgreSQL state store run 50 pipelines on a 5-second schedule
 * for about a minute and a half. Read back from the store: every fire time in the window was
 * claimed by exactly one host and ran exactly once, and no two runs of a pipeline overlapped.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { fleetHome, launchHost, ordersPipeline, type FleetHostProcess } from './fleet-harness.js';

const PIPELINES = 50;
const INTERVAL_MS = 5_000;
const WINDOW_MS = 90_000;
const HOSTS = ['host-a', 'host-b', 'host-c'];

let pg: PostgresServer;
const hosts: FleetHostProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.createDatabase('etld_state');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL);
     INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 20) g;`,
    [],
    'shop',
  );
});
afterAll(async () => {
  for (const host of hosts) if (host.daemon.child.exitCode === null) await host.daemon.stop();
  for (const host of hosts) host.home.remove();
  await pg.destroy();
});

interface RunRow {
  pipeline: string;
  sequence: number;
  attempt: number;
  status: string;
  trigger: string;
  started_at: string;
  finished_at: string | null;
}

test('every fire time runs exactly once across three hosts, never two runs of a pipeline at once', async () => {
  const pipelines = Array.from({ length: PIPELINES }, (_, i) => {
    const name = `p${String(i).padStart(2, '0')}`;
    return { file: `${name}.yaml`, yaml: ordersPipeline(pg, name, { schedule: 'every 5s' }) };
  });
  const url = pg.url('etld_state');
  // The first host migrates the store; the others start together against it.
  const first = fleetHome(HOSTS[0] ?? '', 10, pipelines);
  hosts.push(await launchHost(HOSTS[0] ?? '', first, url));
  hosts.push(
    ...(await Promise.all(
      HOSTS.slice(1).map((name) => launchHost(name, fleetHome(name, 10, pipelines), url)),
    )),
  );
  // The window starts once all hosts are up and ends before any stops.
  const from = Date.now() + 2_000;
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const to = Date.now() - 2 * INTERVAL_MS;
  const exits = await Promise.all(hosts.map((h) => h.daemon.stop()));

  const claims = await pg.query<{ pipeline: string; fire_key: string; host: string }>(
    'SELECT pipeline, fire_key, host FROM fleet_fire_claims',
    [],
    'etld_state',
  );
  const runs = await pg.query<RunRow>(
    `SELECT pipeline, sequence::int AS sequence, attempt, status, trigger, started_at, finished_at
       FROM runs ORDER BY pipeline, started_at`,
    [],
    'etld_state',
  );

  const claimed = new Map<string, string>();
  for (const c of claims) claimed.set(`${c.pipeline}|${c.fire_key}`, c.host);
  let fires = 0;
  const missing: string[] = [];
  const twice: string[] = [];
  const claimsByHost = new Map<string, number>();
  const firstFire = Math.ceil(from / INTERVAL_MS) * INTERVAL_MS;
  for (const { file } of pipelines) {
    const name = file.replace('.yaml', '');
    const started = runs.filter((r) => r.pipeline === name && r.trigger === 'schedule');
    for (let at = firstFire; at <= to; at += INTERVAL_MS) {
      fires += 1;
      const key = new Date(at).toISOString();
      const host = claimed.get(`${name}|${key}`);
      if (host === undefined) missing.push(`${name} ${key}: no claim`);
      else claimsByHost.set(host, (claimsByHost.get(host) ?? 0) + 1);
      // The run of this fire starts after its fire time and before the next one.
      const ran = started.filter((r) => {
        const t = Date.parse(r.started_at);
        return t >= at && t < at + INTERVAL_MS;
      });
      if (ran.length === 0) missing.push(`${name} ${key}: no run`);
      if (ran.length > 1) twice.push(`${name} ${key}: ${ran.length} runs`);
    }
    // No two runs of one pipeline overlap in time (whichever hosts ran them).
    const ordered = runs
      .filter((r) => r.pipeline === name)
      .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
    for (let i = 1; i < ordered.length; i += 1) {
      const before = ordered[i - 1];
      const after = ordered[i];
      if (before === undefined || after === undefined) continue;
      expect(before.finished_at, `${name} run ${before.sequence} unfinished`).not.toBeNull();
      expect(Date.parse(before.finished_at ?? '')).toBeLessThanOrEqual(Date.parse(after.started_at));
    }
    // One sequence per run: no two hosts took the same sequence.
    const sequences = ordered.map((r) => `${r.sequence}-${r.attempt}`);
    expect(new Set(sequences).size).toBe(sequences.length);
  }
  const inWindow = runs.filter((r) => Date.parse(r.started_at) >= firstFire);
  console.info(
    `fleet fire-once: ${fires} fire times checked, ${runs.length} runs in all (${inWindow.length} in the window), claims by host ${JSON.stringify(Object.fromEntries(claimsByHost))}, statuses ${JSON.stringify(countBy(runs.map((r) => r.status)))}`,
  );
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(fires).toBeGreaterThanOrEqual(PIPELINES * 15);
  // The work was shared: every host won some fires.
  for (const name of HOSTS) expect(claimsByHost.get(name) ?? 0).toBeGreaterThan(0);
  expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
  // Each host drained and stopped cleanly (its last lines tell why when not).
  hosts.forEach((h, i) => expect(exits[i], h.daemon.lines.slice(-15).join('\n')).toBe(0));
}, 180_000);

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
