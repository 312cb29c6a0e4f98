/**
 * etl-console's state operations in a real terminal (tmux) against a spawned etld reading a real
 * PostgreSQL: `F` asks, then runs a full refresh (a run of kind full_refresh in the history); `B`
 * opens the backfill form naming the cursor column, shows the daemon's refusal of a bad range in
 * the form, and runs a backfill of a good one (a run of kind backfill with its range).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
import type { RunRecord } from '../../shared/protocol.js';
import {
  CONSOLE_MAIN,
  connectWhenListening,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';
import { TmuxSession } from './tmux.js';

let pg: PostgresServer;
let home: TempHome;
let daemon: DaemonProcess;
let client: DaemonClient;
const tmux = new TmuxSession();

/** The newest run of `events` once it has ended, when it is of `kind`. */
async function finishedRunOf(kind: string): Promise<RunRecord> {
  return waitFor(
    async () => {
      const [newest] = await client.call('history', { pipeline: 'events', limit: 1 });
      if (newest === undefined || newest.kind !== kind) return undefined;
      return newest.status === 'succeeded' || newest.status === 'failed' ? newest : undefined;
    },
    { timeoutMs: 60_000, what: `a finished ${kind} run of events` },
  );
}

beforeAll(async () => {
  // dist/ is built once by the tests' global setup; a rebuild here would race other files' daemons.
  if (!existsSync(CONSOLE_MAIN)) throw new Error(`${CONSOLE_MAIN} is missing: the global setup builds dist/`);
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE events (id bigint PRIMARY KEY, note text NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO events SELECT g, 'n' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
       FROM generate_series(1, 50) g;`,
    [],
    'shop',
  );
  home = makeTempHome('etl-console-actions-');
  home.writePipeline(
    'events.yaml',
    `name: events
timezone: UTC
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }
  table: public.events
load: { mode: incremental, cursor: updated_at }
destination: { type: duckdb, path: events.duckdb, table: events }
error_handling: { max_retries: 0 }
`,
  );
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
  client = await connectWhenListening(home.socketPath, 'console-actions-e2e');
  await client.call('start', { pipeline: 'events' });
  await finishedRunOf('normal');
  // Wide enough for the form and the daemon's whole message on its line.
  await tmux.start(320, 40, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  });
}, 180_000);

afterAll(async () => {
  await tmux.kill();
  await client?.close();
  if (daemon !== undefined && daemon.child.exitCode === null && daemon.child.signalCode === null)
    await daemon.stop();
  home?.remove();
  await pg?.destroy();
});

describe('etl-console state operations (tmux, spawned etld, PostgreSQL → DuckDB)', () => {
  it('F asks and runs a full refresh; B refuses a bad range in its form and runs a good one', async () => {
    await tmux.run(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(CONSOLE_MAIN)} --home ${JSON.stringify(home.dir)}`,
    );
    await tmux.waitForScreen(
      (s) => s.includes('● connected') && /[› ] events /.test(s),
      'the pipeline table with events',
    );

    // F: a question first; nothing runs until y.
    await tmux.keys('F');
    await tmux.waitForScreen(
      (s) => s.includes('Full refresh of events: replace') && s.includes('[y/N]'),
      'the full refresh question',
    );
    expect((await client.call('history', { pipeline: 'events', limit: 5 })).map((r) => r.kind)).toEqual([
      'normal',
    ]);
    await tmux.keys('y');
    const refresh = await finishedRunOf('full_refresh');
    expect(refresh).toMatchObject({ status: 'succeeded', rows_loaded: 50 });

    // B: the form names the cursor; a range whose from is not below its to is refused by the daemon.
    await tmux.keys('Enter', false);
    await tmux.waitForScreen((s) => s.includes('events ·'), 'the detail view');
    await tmux.keys('B');
    await tmux.waitForScreen(
      (s) => s.includes('backfill events') && s.includes('(cursor updated_at)'),
      'the backfill form with its cursor column',
    );
    await tmux.keys('2026-01-01 00:30:00');
    await tmux.keys('Tab', false);
    await tmux.keys('2026-01-01 00:10:00');
    await tmux.keys('Enter', false);
    const refused = await tmux.waitForScreen(
      (s) => /backfill events failed: \[USAGE\] .* is empty: --from must be below --to/.test(s),
      "the daemon's refusal in the form",
    );
    expect(refused).toContain('backfill events');
    expect((await client.call('history', { pipeline: 'events', limit: 5 }))[0]?.kind).toBe('full_refresh');

    // Correct the range in place: from 00:00 to 00:10.
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => !s.includes('(cursor updated_at)'), 'the form to close');
    await tmux.keys('B');
    await tmux.waitForScreen((s) => s.includes('(cursor updated_at)'), 'the backfill form again');
    await tmux.keys('2026-01-01 00:00:00');
    await tmux.keys('Tab', false);
    await tmux.keys('2026-01-01 00:10:00');
    await tmux.keys('Enter', false);
    const backfill = await finishedRunOf('backfill');
    // An append pipeline's backfill appends only what the table lacks: it holds every row.
    expect(backfill).toMatchObject({ status: 'succeeded', rows_loaded: 0 });
    expect(backfill.rows_extracted).toBe(9);
    expect(backfill.backfill).toMatchObject({ shard: null });
  }, 240_000);
});
