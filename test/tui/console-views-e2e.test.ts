/**
 * etl-console's views in a real terminal (tmux) against a spawned etld reading a real PostgreSQL:
 * a wide table that spends its width on errors rather than names, a live run whose bar follows the
 * rows against the best estimate and never shows 100 % before the run ends, full run ids, the `:`
 * palette (`:runs` with `/failed`, `:alerts`, `:logs`), details on demand, `y` (the file as on
 * disk), the log pane's dates, wrap and sideways scroll, a console on the read-only socket, and
 * `:hosts` (a daemon alone lists itself).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
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

const LONG = 'orders_from_the_eu_shop_shards';
let pg: PostgresServer;
let home: TempHome;
let daemon: DaemonProcess;
let client: DaemonClient;
const tmux = new TmuxSession();

function pipelineYaml(name: string, source: string, comment: string): string {
  return `# ${comment}
name: ${name}
timezone: UTC
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }
  ${source}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 0 }
`;
}

const rowOf = (screen: string, name: string): string =>
  screen.split('\n').find((line) => new RegExp(`^[› ] ${name} `).test(line)) ?? '';

beforeAll(async () => {
  // dist/ is built once by the tests' global setup; a rebuild here would race other files' daemons.
  if (!existsSync(CONSOLE_MAIN)) throw new Error(`${CONSOLE_MAIN} is missing: the global setup builds dist/`);
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, g * 1.5, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 400) g;
     ANALYZE orders;`,
    [],
    'shop',
  );
  home = makeTempHome('etl-console-views-');
  home.writeSettings('control: { readonly_socket: {} }\n');
  // A per-row pg_sleep makes the run last a few seconds; the regular expression makes the planner
  // expect far fewer rows than come (the premise is checked below), so rows overtake the estimate.
  home.writePipeline(
    `${LONG}.yaml`,
    pipelineYaml(
      LONG,
      `query: "SELECT o.id, o.amount, o.updated_at FROM orders o CROSS JOIN LATERAL (SELECT pg_sleep(0.01) WHERE o.id > 0) AS s WHERE o.id::text ~ '^[0-9]+$'"`,
      'the EU shards, read slowly',
    ),
  );
  home.writePipeline(
    'broken_source.yaml',
    pipelineYaml(
      'broken_source',
      'query: "SELECT id FROM public.a_table_that_is_not_there"',
      'its table is gone',
    ),
  );
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
  client = await connectWhenListening(home.socketPath, 'console-views-e2e');
  // A failed run to show in the table, :runs and :alerts.
  const broken = await client.call('start', { pipeline: 'broken_source' });
  await waitFor(
    async () =>
      (await client.call('run', { run_id: broken.run_id })).status === 'failed' ? true : undefined,
    { timeoutMs: 60_000, what: 'the broken run to fail' },
  );
  await tmux.start(200, 45, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  });
});

afterAll(async () => {
  await tmux.kill();
  await client?.close();
  if (daemon !== undefined && daemon.child.exitCode === null && daemon.child.signalCode === null)
    await daemon.stop();
  home?.remove();
  await pg?.destroy();
});

const consoleCommand = (extra: string): string =>
  `${JSON.stringify(process.execPath)} ${JSON.stringify(CONSOLE_MAIN)} ${extra}`;

describe('etl-console views (tmux, spawned etld, PostgreSQL → DuckDB)', () => {
  it('wide table, live progress never at 100 % early, palette, runs, details, yaml, alerts and logs', async () => {
    const estimate = (await client.call('plan', { pipeline: LONG })).parts[0]?.estimated_rows ?? null;
    expect(estimate, 'premise: the planner expects fewer rows than the 400 that come').not.toBeNull();
    expect(estimate).toBeLessThan(400);

    await tmux.run(`${consoleCommand(`--home ${JSON.stringify(home.dir)}`)}; echo "console exited $?"`);
    let screen = await tmux.waitForScreen(
      (s) => s.includes('● connected') && rowOf(s, 'broken_source').includes('[SOURCE'),
      'the wide table with the error',
    );
    // NAME is as wide as the longest name; the error gets the width that is left, in one line.
    const header = screen.split('\n').find((l) => l.startsWith('  NAME')) ?? '';
    expect(header.indexOf('STATE')).toBe(2 + LONG.length + 1);
    expect(header).toMatch(/LAST RUN .* ERROR/);
    const broken = rowOf(screen, 'broken_source');
    expect(broken).toMatch(/failed .*\[SOURCE_QUERY\] postgres source "default"/);
    const next = screen.split('\n')[screen.split('\n').indexOf(broken) + 1] ?? '';
    expect(next === '' || /^[› ] \S/.test(next)).toBe(true);

    // Start the long-named pipeline from its details and watch the bar until the run ends.
    await tmux.keys('G');
    await tmux.keys('Enter', false);
    await tmux.waitForScreen((s) => s.includes(`${LONG} · idle`), 'the detail view');
    await tmux.keys('s');
    const percents: number[] = [];
    const rows: number[] = [];
    screen = await waitFor(
      async () => {
        const now = await tmux.capture();
        const bar = /table\s+\[[█░]+\]\s+(\d+)% ([\d.k]+)\//.exec(now);
        if (now.includes('▶ run')) {
          // The run id in full, never cut to 12 characters.
          expect(now).toMatch(new RegExp(`▶ run ${LONG}-1 · `));
          if (bar) {
            percents.push(Number(bar[1]));
            rows.push(Number((bar[2] ?? '0').replace('k', '')));
          }
        }
        return now.includes('last run: succeeded') ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: 'the run to succeed' },
    );
    expect(percents.length, 'the bar was seen while the run read').toBeGreaterThan(2);
    expect(Math.max(...percents)).toBeLessThanOrEqual(99);
    // Rows overtook the estimate: the bar followed them to 99 %, and the rows kept counting.
    expect(percents).toContain(99);
    expect(rows.at(-1)).toBeGreaterThan(rows[0] ?? 0);
    expect(screen).toMatch(/extracted 400 · loaded 400/);

    // :runs lists every run with its full id; /failed narrows it; enter shows the whole error.
    await tmux.keys(':');
    await tmux.keys('runs');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen((s) => s.includes('2 runs, newest first'), 'the runs view');
    expect(rowOf(screen, `${LONG}-1`)).toMatch(/succeeded\s+manual/);
    expect(rowOf(screen, 'broken_source-1')).toMatch(/failed\s+manual.*\[SOURCE_\w+\]/);
    await tmux.keys('/');
    await tmux.keys('failed');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen(
      (s) => s.includes('1 run, newest first · filter "failed"'),
      'the filtered runs',
    );
    expect(rowOf(screen, `${LONG}-1`)).toBe('');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen((s) => s.includes('run broken_source-1 · failed'), 'the run details');
    expect(screen).toMatch(/error SOURCE_\w+:/);
    expect(screen).toContain('a_table_that_is_not_there');
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => !s.includes('run broken_source-1 · failed'), 'the details to close');

    // y: the file as it is on disk, comment included.
    await tmux.keys('y');
    screen = await tmux.waitForScreen(
      (s) => s.includes('yaml: broken_source') && / 1 │ # its table is gone/.test(s),
      'the YAML view',
    );
    expect(screen).toContain(join(home.dir, 'pipelines', 'broken_source.yaml'));
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => s.includes('1 run, newest first'), 'back to the runs');

    // :alerts lists the failure alert (no SMTP here: recorded as failed, with the reason).
    await tmux.keys(':alerts');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen((s) => /failure\s+failed\s+broken_source/.test(s), 'the alerts view');
    expect(screen).toContain('[etld] broken_source FAILED');

    // :logs: every pipeline's log, dated; w wraps long lines, → shifts cut ones.
    await tmux.keys(':logs');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen(
      (s) =>
        s.includes('logs: every pipeline') &&
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (INFO|NOTE|WARN|ERR ) etld /m.test(s),
      'the dated log of every pipeline',
    );
    // The source column is at most 20 wide: a longer name is cut, the run id it logs is not.
    expect(screen).toMatch(
      new RegExp(`^[-\\d]{10} [:\\d]{8} INFO orders_from_the_eu_… run ${LONG}-1-1 started`, 'm'),
    );
    // A narrower terminal, so some lines are longer than the pane.
    await tmux.resize(100, 45);
    await tmux.waitForScreen((s) => s.split('\n').some((l) => l.endsWith('…')), 'lines cut at the edge');
    await tmux.keys('w');
    screen = await tmux.waitForScreen((s) => s.includes('following · wrap'), 'wrapped lines');
    expect(screen.split('\n').some((l) => /^ {30,}\S/.test(l))).toBe(true);
    await tmux.keys('w');
    await tmux.keys('Right', false);
    await tmux.waitForScreen((s) => s.includes('following · cut → +8'), 'the shifted lines');
    await tmux.resize(200, 45);

    await tmux.keys('q');
    screen = await tmux.waitForScreen((s) => /console exited \d+/.test(s), 'the console to exit');
    expect(screen).toContain('console exited 0');
  });

  it('on the read-only socket: [read-only], no action keys, and the daemon says why it refuses', async () => {
    const socket = join(home.dir, 'run', 'etld-ro.sock');
    // Whatever the test before left running gives the terminal back first (ctrl-c quits the console).
    await tmux.keys('C-c', false);
    await tmux.waitForScreen((s) => /console exited \d+/.test(s), 'the shell');
    await tmux.run(`clear; ${consoleCommand(`--socket ${JSON.stringify(socket)}`)}; echo "ro exited $?"`);
    const screen = await tmux.waitForScreen(
      (s) => s.includes('[read-only]') && rowOf(s, 'broken_source') !== '',
      'the read-only table',
    );
    expect(screen).not.toMatch(/s start|x stop|pause\/resume|r retry/);
    await tmux.keys('s');
    const refused = await tmux.waitForScreen((s) => s.includes('[read-only] start'), 'the refusal');
    expect(refused).toMatch(
      /\[read-only\] start broken_source refused: this connection is read-only \(the read-only socket \S*etld-ro\.sock\)/,
    );
    expect((await client.call('history', { pipeline: 'broken_source' })).length).toBe(1);
    await tmux.keys('q');
    expect(await tmux.waitForScreen((s) => /ro exited \d+/.test(s), 'the exit')).toContain('ro exited 0');
  });

  it(':hosts shows this daemon alone, alive, with its pid; esc goes back to the table', async () => {
    const info = await client.call('info');
    await tmux.run(`clear; ${consoleCommand(`--home ${JSON.stringify(home.dir)}`)}; echo "hosts exited $?"`);
    await tmux.waitForScreen((s) => rowOf(s, 'broken_source') !== '', 'the table');
    await tmux.keys(':');
    await tmux.keys('hosts');
    await tmux.keys('Enter', false);
    const screen = await tmux.waitForScreen((s) => s.includes('* this daemon'), 'the hosts view');
    const row = screen.split('\n').find((l) => l.includes(`${info.host} *`)) ?? '';
    expect(row).toMatch(new RegExp(`alive\\s+${info.pid}\\s+${info.version.replace(/\./g, '\\.')}\\s`));
    expect(screen).toContain(`* this daemon (${info.host}), alone: its state store is its own`);
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => rowOf(s, 'broken_source') !== '', 'the table again');
    await tmux.keys('q');
    expect(await tmux.waitForScreen((s) => /hosts exited \d+/.test(s), 'the exit')).toContain(
      'hosts exited 0',
    );
  });
});
