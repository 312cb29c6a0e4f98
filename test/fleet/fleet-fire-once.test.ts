/**
 * Three real daemons sharing one PostgreSQL state store run 50 pipelines on a 10-second schedule
 * for two minutes. Read back from the store: every fire time in the window was claimed by exactly
 * one host, which recorded what it did: started a run (a run no other fire started) or skipped
 * it because a run of the pipeline was still going (overlap: skip, fleet-wide); no scheduled run
 * without its fire; no two runs of a pipeline overlapped. On this 2-core machine three daemons
 * cannot finish 5 runs a second, so skips are expected; a lost or doubled fire is not.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PostgresServer } from '../helpers/postgres-server.js';
import {
  fleetHome,
  overlappingAttempts,
  launchHost,
  ordersPipeline,
  startFleetPostgres,
  stopHosts,
  type FleetHostProcess,
} from './fleet-harness.js';

const PIPELINES = 50;
const INTERVAL_MS = 10_000;
const WINDOW_MS = 130_000;
const HOSTS = ['host-a', 'host-b', 'host-c'];

let pg: PostgresServer;
const hosts: FleetHostProcess[] = [];

beforeAll(async () => {
  pg = await startFleetPostgres(20);
});
afterAll(async () => {
  await stopHosts(hosts);
  await pg.destroy();
});

interface RunRow {
  id: string;
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
    return { file: `${name}.yaml`, yaml: ordersPipeline(pg, name, { schedule: 'every 10s' }) };
  });
  const url = pg.url('etld_state');
  // Every pipeline reads the one source server, and source_slots_per_host caps the whole fleet:
  // 24 slots (3 hosts × the default 8) leave the fleet the throughput this test measures fires by.
  const slots = 'defaults: { source_slots_per_host: 24 }\n';
  // The first host migrates the store; the others start together against it.
  const first = fleetHome(HOSTS[0] ?? '', 30, pipelines, slots);
  hosts.push(await launchHost(HOSTS[0] ?? '', first, url));
  hosts.push(
    ...(await Promise.all(
      HOSTS.slice(1).map((name) => launchHost(name, fleetHome(name, 30, pipelines, slots), url)),
    )),
  );
  // The window starts once all hosts are up and ends before any stops.
  const from = Date.now() + 2_000;
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const to = Date.now() - 2 * INTERVAL_MS;
  const exits = await Promise.all(hosts.map((h) => h.daemon.stop()));

  const claims = await pg.query<{ pipeline: string; fire_key: string; host: string; outcome: string | null }>(
    'SELECT pipeline, fire_key, host, outcome FROM fleet_fire_claims',
    [],
    'etld_state',
  );
  const runs = await pg.query<RunRow>(
    `SELECT id, pipeline, sequence::int AS sequence, attempt, status, trigger, started_at, finished_at
       FROM runs ORDER BY pipeline, started_at`,
    [],
    'etld_state',
  );

  const claimed = new Map<string, { host: string; outcome: string | null }>();
  for (const c of claims) claimed.set(`${c.pipeline}|${c.fire_key}`, c);
  const runIds = new Set(runs.map((r) => r.id));
  let fires = 0;
  let ran = 0;
  const lost: string[] = [];
  const badSkips: string[] = [];
  const runsFromFires = new Map<string, string>();
  const claimsByHost = new Map<string, number>();
  const firstFire = Math.ceil(from / INTERVAL_MS) * INTERVAL_MS;
  for (const { file } of pipelines) {
    const name = file.replace('.yaml', '');
    for (let at = firstFire; at <= to; at += INTERVAL_MS) {
      fires += 1;
      const key = new Date(at).toISOString();
      // The primary key allows one claim per fire; a fire without one was lost.
      const claim = claimed.get(`${name}|${key}`);
      if (claim === undefined || claim.outcome === null) {
        lost.push(
          `${name} ${key}: ${claim === undefined ? 'no claim' : `claimed by ${claim.host}, no outcome`}`,
        );
        continue;
      }
      claimsByHost.set(claim.host, (claimsByHost.get(claim.host) ?? 0) + 1);
      const started = /^run (.+)$/.exec(claim.outcome)?.[1];
      if (started !== undefined) {
        ran += 1;
        if (!runIds.has(started)) lost.push(`${name} ${key}: run ${started} is not in the store`);
        // Two fires starting one run would be one fire run twice over, or a fire lost.
        const other = runsFromFires.get(started);
        if (other !== undefined) lost.push(`${name} ${key}: run ${started} also started by fire ${other}`);
        runsFromFires.set(started, key);
      } else if (!/^skipped: (overlap: run \S+ was|running on host \S+ when)/.test(claim.outcome)) {
        // The only reason to skip here is a run of the pipeline still going (overlap: skip).
        badSkips.push(`${name} ${key}: ${claim.outcome}`);
      }
    }
  }
  // Every scheduled run was started by exactly one claimed fire.
  const unclaimed = runs.filter(
    (r) =>
      r.trigger === 'schedule' && Date.parse(r.started_at) >= firstFire && Date.parse(r.started_at) <= to,
  );
  const orphans = unclaimed.filter((r) => !runsFromFires.has(r.id)).map((r) => r.id);
  // Never two runs of a pipeline at once, whichever hosts ran them (but see overlappingAttempts).
  const overlaps = overlappingAttempts(runs);
  const supersededIds = new Set(overlaps.superseded.map((line) => line.split(' ')[0]));
  console.info(
    `fleet fire-once: ${fires} fire times checked, ${ran} ran, ${fires - ran - lost.length} skipped (a run still going), ${runs.length} runs in all, claims by host ${JSON.stringify(Object.fromEntries(claimsByHost))}, statuses ${JSON.stringify(countBy(runs.map((r) => r.status)))}, ${overlaps.superseded.length} attempts of hosts that looked dead under load ran on beside their takeover`,
  );
  expect(lost).toEqual([]);
  expect(badSkips).toEqual([]);
  expect(orphans).toEqual([]);
  expect(fires).toBeGreaterThanOrEqual(PIPELINES * 10);
  // How many fires find the previous run still going depends on the machine's load (idle: 388 of
  // 550 ran; a loaded CI machine ran one pipeline only twice), so no floor beyond this: every
  // pipeline ran from its fires, and every host did work.
  const ranByPipeline = countBy([...runsFromFires.keys()].map((id) => id.replace(/-\d+-\d+$/, '')));
  expect(Object.keys(ranByPipeline)).toHaveLength(PIPELINES);
  for (const name of HOSTS) expect(claimsByHost.get(name) ?? 0).toBeGreaterThan(0);
  expect(overlaps.violations).toEqual([]);
  // An attempt another host continued (its host looked dead under load) stays interrupted.
  const continued = (r: RunRow): boolean =>
    r.status === 'interrupted' &&
    runs.some((o) => o.pipeline === r.pipeline && o.sequence === r.sequence && o.attempt > r.attempt);
  expect(runs.filter((r) => r.status !== 'succeeded' && !supersededIds.has(r.id) && !continued(r))).toEqual(
    [],
  );
  // Each host drained and stopped cleanly (its last lines tell why when not).
  hosts.forEach((h, i) => expect(exits[i], h.daemon.lines.slice(-15).join('\n')).toBe(0));
}, 240_000);

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
