/**
 * etl-console in a real terminal (tmux) against a spawned etld with real pipelines reading a
 * real PostgreSQL into DuckDB: the table lists them, `s` starts a run whose progress and
 * success appear, `/` filters, the console survives a daemon restart, and `q` exits 0 with the
 * terminal restored (alternate screen left, cursor visible).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_MAIN,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { TmuxSession } from './tmux.js';

let pg: PostgresServer;
let home: TempHome;
let daemon: DaemonProcess;
const tmux = new TmuxSession();

function pipelineYaml(
  name: string,
  table: string,
  options: { schedule?: string; slowPerRow?: boolean } = {},
): string {
  // A per-row pg_sleep streams rows over a few seconds, so the run is visibly in progress.
  const source = options.slowPerRow
    ? `  query: "SELECT o.id, o.amount, o.updated_at FROM ${table} o CROSS JOIN LATERAL (SELECT pg_sleep(0.01) WHERE o.id > 0) AS s"`
    : `  table: public.${table}`;
  return `name: ${name}
${options.schedule === undefined ? '' : `schedule: "${options.schedule}"\n`}timezone: UTC
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }
${source}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 1, retry_delay: 1s, max_retry_delay: 2s, retry_timeout: 1m }
`;
}

async function startDaemon(): Promise<void> {
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
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
     INSERT INTO orders SELECT g, g * 1.5, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 500) g;
     CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
     INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g;`,
    [],
    'shop',
  );
  home = makeTempHome('etl-console-e2e-');
  home.writePipeline('orders.yaml', pipelineYaml('orders', 'orders', { slowPerRow: true }));
  home.writePipeline('customers.yaml', pipelineYaml('customers', 'customers', { schedule: '0 */2 * * *' }));
  home.writePipeline('invoices.yaml', pipelineYaml('invoices', 'orders', { schedule: '@daily' }));
  await startDaemon();
  await tmux.start(120, 40, {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  });
});

afterAll(async () => {
  await tmux.kill();
  if (daemon !== undefined && daemon.child.exitCode === null && daemon.child.signalCode === null)
    await daemon.stop();
  home?.remove();
  await pg?.destroy();
});

describe('etl-console end to end (tmux, spawned etld, PostgreSQL → DuckDB)', () => {
  it('lists, starts with progress and success, filters, rides out a daemon restart and quits cleanly', async () => {
    await tmux.run(
      `${JSON.stringify(process.execPath)} ${JSON.stringify(CONSOLE_MAIN)} --home ${JSON.stringify(home.dir)}; echo "console exited $?"`,
    );

    // The table lists the three pipelines, in the alternate screen.
    let screen = await tmux.waitForScreen(
      (s) =>
        s.includes('● connected') &&
        ['orders', 'customers', 'invoices'].every((name) => rowOf(s, name) !== ''),
      'the pipeline table',
    );
    expect(await tmux.paneVariable('alternate_on')).toBe('1');
    // With colour allowed, the connection state is green (SGR 32).
    expect(await tmux.captureWithColors()).toContain('\u001B[32m● connected');
    expect(rowOf(screen, 'customers')).toMatch(/idle\s+every 2 hours/);
    // Schedules in words with the next run (the daemon's wording or the console's own).
    expect(rowOf(screen, 'invoices')).toMatch(/idle\s+\S.*\s+in \d+ (min|h|s)\b/);
    expect(rowOf(screen, 'orders')).toMatch(/idle\s+manual.*never/);
    expect(screen).toContain('pipelines 3');
    expect(screen).toMatch(/s start {2}x stop {2}p pause\/resume {2}r retry/);

    // Details of `orders` (last row by name), then `s` starts a run there.
    await tmux.keys('G');
    await tmux.keys('Enter', false);
    await tmux.waitForScreen((s) => s.includes('orders · idle') && s.includes('postgres'), 'the detail view');
    await tmux.keys('s');
    await tmux.waitForScreen((s) => /started orders: run \S+/.test(s), 'the start notice');
    // The run reads its rows over several seconds (pg_sleep per row), so its live section and
    // a progress bar for its part are on screen before it ends.
    screen = await tmux.waitForScreen((s) => s.includes('▶ run') && /\[[█░·]+\]/.test(s), 'live progress');
    expect(screen).toMatch(/▶ run orders-\d+ · \w+ · [\d,]+ rows( of ~[\d,]+ \(\d+%\))? · [\d.k]+ r\/s/);
    expect(screen).toMatch(/table \[[█░]+\]\s+\d+% [\d.k]+\/[\d.k]+/);
    screen = await tmux.waitForScreen((s) => s.includes('last run: succeeded'), 'the run to succeed', 90_000);
    expect(screen).toMatch(/extracted 500 · loaded 500/);
    expect(screen).toContain('reconciliation: match');

    // Back in the table the run shows as the last run.
    await tmux.keys('Escape', false);
    screen = await tmux.waitForScreen(
      (s) => /ok .*ago\s+.*500/.test(rowOf(s, 'orders')),
      'the last run in the table',
    );
    expect(rowOf(screen, 'orders')).toMatch(/^› orders\s+idle/);

    // `/` filters as you type; enter keeps the filter, esc clears it.
    await tmux.keys('/');
    await tmux.keys('cust');
    await tmux.keys('Enter', false);
    screen = await tmux.waitForScreen((s) => s.includes('1 of 3 pipelines'), 'the filtered table');
    expect(rowOf(screen, 'customers')).not.toBe('');
    expect(rowOf(screen, 'orders')).toBe('');
    expect(rowOf(screen, 'invoices')).toBe('');
    await tmux.keys('Escape', false);
    await tmux.waitForScreen((s) => s.includes('3 of 3 pipelines'), 'the cleared filter');

    // The daemon goes away: the console says so and keeps running; it recovers when etld is back.
    expect(await daemon.stop()).toBe(0);
    screen = await tmux.waitForScreen(
      (s) => s.includes('disconnected — reconnecting…'),
      'the disconnected header',
    );
    expect(rowOf(screen, 'orders')).not.toBe('');
    await startDaemon();
    await tmux.waitForScreen(
      (s) => s.includes('● connected') && rowOf(s, 'customers') !== '',
      'the reconnected console',
      90_000,
    );

    // `q` exits with status 0 and gives the terminal back.
    await tmux.keys('q');
    // The typed command line contains `console exited $?` too: wait for the echoed status.
    screen = await tmux.waitForScreen((s) => /console exited \d+/.test(s), 'the console to exit');
    expect(screen).toContain('console exited 0');
    expect(await tmux.paneVariable('alternate_on')).toBe('0');
    expect(await tmux.paneVariable('cursor_flag')).toBe('1');
    // The primary screen is back as it was: the command line typed before the console.
    expect(screen).toMatch(/main\.js" --home [^\n]*\n(?:.*\n)*console exited 0/);
  });

  it('NO_COLOR and --readonly: no colour codes, no actions, still readable', async () => {
    await tmux.run(
      `clear; NO_COLOR=1 ${JSON.stringify(process.execPath)} ${JSON.stringify(CONSOLE_MAIN)} --home ${JSON.stringify(home.dir)} --readonly; echo "readonly exited $?"`,
    );
    const screen = await tmux.waitForScreen(
      (s) => s.includes('[read-only]') && rowOf(s, 'customers') !== '',
      'the read-only table',
    );
    expect(screen).not.toMatch(/s start|x stop|pause\/resume|r retry/);
    expect(screen).toMatch(/enter details/);
    const colored = await tmux.captureWithColors();
    // Colour-setting SGR parameters (30–37, 40–47, 90–97, 100–107, 38;…, 48;…); tmux itself writes
    // 39/49 ("default colour") resets when it serialises the pane, so those are not counted.
    // eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
    expect(colored).not.toMatch(/\u001B\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|38;|48;)[0-9;]*m/);
    // The capture does carry escape codes (bold), so the absence of colour is not an artefact.
    // eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
    expect(colored).toMatch(/\u001B\[1m/);
    await tmux.keys('s');
    await tmux.waitForScreen(
      (s) => s.includes('read-only console (--readonly): actions are disabled'),
      'the refusal',
    );
    await tmux.keys('q');
    expect(await tmux.waitForScreen((s) => /readonly exited \d+/.test(s), 'the exit')).toContain(
      'readonly exited 0',
    );
  });
});
