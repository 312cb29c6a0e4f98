/**
 * The shared state database goes away for 30 s while three hosts run incremental (append)
 * pipelines on a short schedule and rows keep arriving in the source. Afterwards: no daemon
 * exited or restarted (no crash loop), each host said once that the store was unreachable and
 * once that it was back, every fire after the outage was claimed by one host and started at most
 * one run, runs succeed again, and each destination holds every source row exactly once: the
 * runs cut off by the outage were continued under their own sequences, not loaded again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import { startSmtpReceiver, type SmtpReceiver } from '../ops/smtp-receiver.js';
import {
  fleetHome,
  launchHost,
  overlappingAttempts,
  stopHosts,
  type FleetHostProcess,
} from './fleet-harness.js';

const HOSTS = ['host-a', 'host-b', 'host-c'];
const PIPELINES = 6;
const OUTAGE_MS = 30_000;

let source: PostgresServer;
let state: PostgresServer;
let lake: string;
let smtp: SmtpReceiver;
const hosts: FleetHostProcess[] = [];

beforeAll(async () => {
  [source, state] = await Promise.all([startPostgres(), startPostgres()]);
  await source.createDatabase('shop');
  await state.createDatabase('etld_state');
  for (let i = 0; i < PIPELINES; i += 1)
    await source.query(
      // Read through a view that takes 2 s, so runs are in flight when the store goes away.
      `CREATE TABLE events_${i} (id bigint PRIMARY KEY, note text NOT NULL);
       INSERT INTO events_${i} SELECT g, 'n' || g FROM generate_series(1, 200) g;
       CREATE VIEW slow_events_${i} AS SELECT e.id, e.note FROM events_${i} e CROSS JOIN (SELECT pg_sleep(2)) AS s;`,
      [],
      'shop',
    );
  lake = mkdtempSync(join(tmpdir(), 'etld-fleet-outage-'));
  smtp = await startSmtpReceiver();
});
afterAll(async () => {
  await stopHosts(hosts);
  rmSync(lake, { recursive: true, force: true });
  await Promise.all([source.destroy(), state.destroy(), smtp.close()]);
});

function eventsPipeline(i: number): { file: string; yaml: string } {
  return {
    file: `events_${i}.yaml`,
    yaml: `name: events_${i}
schedule: "every 5s"
timezone: UTC
source:
  type: postgres
  connection: { host: ${source.host}, port: ${source.port}, database: shop, user: ${source.user} }
  table: public.slow_events_${i}
load: { mode: incremental, cursor: id }
destination: { type: duckdb, path: ${join(lake, `events_${i}.duckdb`)}, table: events }
error_handling: { max_retries: 20, retry_delay: 2s, exponential_backoff: false, retry_timeout: 10m }
`,
  };
}

async function destinationIds(file: string): Promise<number[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll('SELECT id::BIGINT AS id FROM events ORDER BY id');
    return reader.getRowObjects().map((r) => Number(r.id));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A wait that fails says what the hosts were doing. */
async function withHostLines<T>(wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    const lines = hosts
      .map(
        (h) =>
          `--- ${h.name}\n${h.daemon.lines
            .filter((l) => /alert|heartbeat/.test(l))
            .slice(-15)
            .join('\n')}`,
      )
      .join('\n');
    throw new Error(`${(error as Error).message}\n${lines}`, { cause: error });
  }
}

interface RunRow {
  id: string;
  pipeline: string;
  sequence: number;
  attempt: number;
  status: string;
  trigger: string;
  started_at: string | null;
  finished_at: string | null;
}

test('the state database down for 30 s: no crash loop, no fire run twice, every row once', async () => {
  const pipelines = Array.from({ length: PIPELINES }, (_, i) => eventsPipeline(i));
  const url = state.url('etld_state');
  // Each host mails the on-call address when the store goes and when it is back.
  const mail = [
    `smtp: { host: 127.0.0.1, port: ${smtp.port}, tls: false, starttls: false, from: "etld <etld@test.local>" }`,
    'alerts: { email: [oncall@test.local] }',
    '',
  ].join('\n');
  hosts.push(await launchHost(HOSTS[0] ?? '', fleetHome(HOSTS[0] ?? '', 10, pipelines, mail), url));
  hosts.push(
    ...(await Promise.all(
      HOSTS.slice(1).map((name) => launchHost(name, fleetHome(name, 10, pipelines, mail), url)),
    )),
  );
  const pids = hosts.map((h) => h.daemon.child.pid);

  // Rows keep arriving throughout, so every run has something to append.
  let nextId = 201;
  let feeding = true;
  const feed = (async () => {
    while (feeding) {
      for (let i = 0; i < PIPELINES; i += 1)
        await source.query(`INSERT INTO events_${i} VALUES ($1, $2)`, [nextId, `n${nextId}`], 'shop');
      nextId += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  // A failing wait below must not leave the feed writing into a server being torn down.
  onTestFinished(async () => {
    feeding = false;
    await feed.catch(() => undefined);
  });

  // Runs are under way on the hosts when the store goes.
  await withHostLines(
    waitFor(
      async () => {
        const rows = await state.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM runs WHERE status = 'succeeded'",
          [],
          'etld_state',
        );
        return (rows[0]?.n ?? 0) >= PIPELINES ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a first round of runs' },
    ),
  );
  // Pull the store away while runs are reading.
  await withHostLines(
    waitFor(
      async () => {
        const rows = await state.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM runs WHERE status = 'running'",
          [],
          'etld_state',
        );
        return (rows[0]?.n ?? 0) >= 2 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'runs in flight' },
    ),
  );
  const downAt = new Date();
  await state.stop();
  // The store cannot record these alerts while it is down: each host mails them all the same.
  await withHostLines(
    waitFor(
      () =>
        HOSTS.every((name) =>
          smtp.mails.some((m) => m.subject === `[etld] state store UNREACHABLE from ${name}`),
        )
          ? true
          : undefined,
      { timeoutMs: OUTAGE_MS - 5_000, intervalMs: 200, what: 'a state store alert from every host' },
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt.getTime() + OUTAGE_MS - Date.now())));
  await state.start();
  const upAt = new Date();

  // Back to work: every pipeline has a run that started and succeeded after the outage.
  await withHostLines(
    waitFor(
      async () => {
        const rows = await state.query<{ pipeline: string }>(
          `SELECT DISTINCT pipeline FROM runs WHERE status = 'succeeded' AND started_at > $1`,
          [upAt.toISOString()],
          'etld_state',
        );
        return rows.length === PIPELINES ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'runs of every pipeline to succeed after the outage' },
    ),
  );
  feeding = false;
  await feed;
  const lastId = nextId - 1;
  // One more round after the last row, so every destination can have caught up with it.
  const caughtUp = new Date();
  await withHostLines(
    waitFor(
      async () => {
        const rows = await state.query<{ pipeline: string }>(
          `SELECT DISTINCT pipeline FROM runs WHERE status = 'succeeded' AND started_at > $1`,
          [caughtUp.toISOString()],
          'etld_state',
        );
        return rows.length === PIPELINES ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a round of runs after the last source row' },
    ),
  );

  // No crash loop: the same three processes, still running, each having logged the outage once.
  expect(hosts.map((h) => h.daemon.child.pid)).toEqual(pids);
  for (const host of hosts) {
    expect(host.daemon.child.exitCode, host.daemon.lines.slice(-20).join('\n')).toBeNull();
    const failed = host.daemon.lines.filter((l) => /fleet heartbeat failed/.test(l));
    const back = host.daemon.lines.filter((l) => /fleet heartbeat works again/.test(l));
    expect(failed.length, `${host.name}: outage lines\n${failed.join('\n')}\n${back.join('\n')}`).toBe(1);
    expect(back.length, `${host.name}: recovery lines`).toBe(1);
  }

  // Every fire claimed after the outage started at most one run, and no run lacks its fire.
  const claims = await state.query<{ pipeline: string; fire_key: string; outcome: string | null }>(
    'SELECT pipeline, fire_key, outcome FROM fleet_fire_claims WHERE fire_key >= $1',
    [upAt.toISOString()],
    'etld_state',
  );
  const runs = await state.query<RunRow>(
    'SELECT id, pipeline, sequence::int AS sequence, attempt, status, trigger, started_at, finished_at FROM runs ORDER BY pipeline, sequence, attempt',
    [],
    'etld_state',
  );
  const startedBy = new Map<string, string>();
  for (const claim of claims) {
    const run = /^run (.+)$/.exec(claim.outcome ?? '')?.[1];
    if (run === undefined) continue;
    expect(startedBy.get(run), `run ${run} started by two fires`).toBeUndefined();
    startedBy.set(run, claim.fire_key);
  }
  const scheduledAfter = runs.filter(
    (r) => r.trigger === 'schedule' && Date.parse(r.started_at ?? '') >= upAt.getTime() + 1_000,
  );
  expect(scheduledAfter.filter((r) => !startedBy.has(r.id)).map((r) => r.id)).toEqual([]);
  // Never two runs of one pipeline at once, across the outage too (see overlappingAttempts).
  expect(overlappingAttempts(runs).violations).toEqual([]);

  // Once back, each host mailed the end of the outage, and the alert history holds both alerts.
  await withHostLines(
    waitFor(
      () =>
        HOSTS.every((name) =>
          smtp.mails.some((m) => m.subject.startsWith(`[etld] state store reachable again from ${name}`)),
        )
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 200, what: 'a state store recovery alert from every host' },
    ),
  );
  const recorded = await state.query<{ subject: string; status: string }>(
    "SELECT subject, status FROM alerts WHERE kind = 'state_store' ORDER BY id",
    [],
    'etld_state',
  );
  for (const name of HOSTS) {
    expect(recorded).toContainEqual({
      subject: `[etld] state store UNREACHABLE from ${name}`,
      status: 'sent',
    });
    expect(
      recorded.filter((r) => r.subject.startsWith(`[etld] state store reachable again from ${name}`)),
    ).toHaveLength(1);
  }

  const exits = await Promise.all(hosts.map((h) => h.daemon.stop()));
  hosts.forEach((h, i) => expect(exits[i], h.daemon.lines.slice(-15).join('\n')).toBe(0));

  // Exactly once: each destination holds 1..lastId, every id once.
  const expected = Array.from({ length: lastId }, (_, k) => k + 1);
  for (let i = 0; i < PIPELINES; i += 1) {
    const ids = await destinationIds(join(lake, `events_${i}.duckdb`));
    expect(ids.length, `events_${i}: rows`).toBe(lastId);
    expect(ids, `events_${i}: ids`).toEqual(expected);
  }
  const cut = runs.filter(
    (r) => (r.started_at === null || Date.parse(r.started_at) < upAt.getTime()) && r.status !== 'succeeded',
  );
  // The outage did cut runs off (else this test proved nothing about them).
  expect(cut.length).toBeGreaterThan(0);
  console.info(
    `fleet state outage: store down ${downAt.toISOString()} for ${OUTAGE_MS / 1000} s; ${runs.length} attempts in all, ${cut.length} cut off or failed around the outage (${[...new Set(cut.map((r) => r.status))].join(', ')}), ${claims.length} fires claimed after it; ${PIPELINES} destinations hold ids 1..${lastId} exactly once`,
  );
}, 300_000);
