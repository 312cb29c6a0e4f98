/**
 * Guards the idle daemon's footprint: with pipelines of every source kind, SMTP alerts and the HTTP
 * endpoint configured, a daemon that runs nothing must not load DuckDB, nodemailer, the source
 * drivers, the BigQuery client or systeminformation. Each of these costs 10-35 MB of RSS, and one
 * static import on the start-up path is enough to bring it back. RSS itself is measured by the
 * bench (`npm run bench:idle`), never asserted here: the machine is too noisy.
 *
 * What was loaded is recorded by a module hook in the daemon process (every module, ESM or CJS,
 * passes its `load` hook) and, for native addons, read from /proc/PID/maps.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  connectWhenListening,
  makeTempHome,
  REPO_ROOT,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { freePort } from '../helpers/free-port.js';
import { runCommand, waitFor } from '../helpers/process.js';

const CLI = join(REPO_ROOT, 'dist', 'tui', 'cli', 'main.js');

/**
 * Packages an idle daemon must not load (node-unix-socket: only a daemon under systemd sends
 * datagrams, and its binaries exist for Linux x64 alone).
 */
const HEAVY_PACKAGES = [
  '@duckdb/node-api',
  '@duckdb/node-bindings',
  'nodemailer',
  'pg',
  'pg-copy-streams',
  'mysql2',
  'tedious',
  '@google-cloud/bigquery',
  'google-auth-library',
  'systeminformation',
  'node-unix-socket',
];

const HOOK = `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const log = process.env.ETLD_TEST_MODULE_LOG;
registerHooks({
  load(url, context, next) {
    appendFileSync(log, url + '\\n');
    return next(url, context);
  },
});
`;

function pipeline(name: string, source: 'postgres' | 'mysql' | 'sqlserver', port: number): string {
  return `name: ${name}
schedule: "0 0 1 1 *"
source:
  type: ${source}
  connection: { host: 127.0.0.1, port: ${port}, database: db, user: u }
  table: ${source === 'mysql' ? 'db' : 'dbo'}.t_${name}
  key: [id]
load: { mode: full }
destination: { type: delta, path: lake/${name} }
`;
}

function packageOf(url: string): string | null {
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return match?.[1] ?? null;
}

function loadedPackages(logFile: string): Set<string> {
  const packages = new Set<string>();
  for (const url of readFileSync(logFile, 'utf8').split('\n')) {
    const name = packageOf(url);
    if (name !== null) packages.add(name);
  }
  return packages;
}

function mappedAddons(pid: number): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/)[5] ?? '')
    .filter((path) => path.endsWith('.node'));
}

const homes: TempHome[] = [];
const daemons: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const h of homes.splice(0)) h.remove();
});

describe('idle daemon footprint (spawned daemon)', () => {
  test('an idle daemon loads no heavy package; the first run loads DuckDB and its source driver', async () => {
    const h = makeTempHome('etld-idle-');
    homes.push(h);
    const hook = join(h.dir, 'module-log-hook.mjs');
    const logFile = join(h.dir, 'modules.log');
    writeFileSync(hook, HOOK);
    writeFileSync(logFile, '');
    h.writeSettings(
      [
        'smtp: { host: 127.0.0.1, port: 1, from: etld@example.com }',
        'alerts: { email: [ops@example.com] }',
        `http: { listen: "127.0.0.1:${await freePort()}" }`,
        '',
      ].join('\n'),
    );
    // Nothing listens on port 1: sources stay unreachable, which an idle daemon must not notice.
    h.writePipeline('pg.yaml', pipeline('pg', 'postgres', 1));
    h.writePipeline('my.yaml', pipeline('my', 'mysql', 1));
    h.writePipeline('ms.yaml', pipeline('ms', 'sqlserver', 1));

    const daemon = spawnDaemon(h.dir, {
      env: { NODE_OPTIONS: `--import=${hook}`, ETLD_TEST_MODULE_LOG: logFile },
    });
    daemons.push(daemon);
    // Logged once start-up reconciliation is done.
    await daemon.waitForLine(/etld running: 3 pipeline\(s\) loaded/);
    // And past the resource monitor's first sample, which `info` reports once it is taken.
    const client = await connectWhenListening(h.socketPath, 'idle-footprint');
    try {
      await waitFor(async () => ((await client.call('info')).resources === null ? undefined : true), {
        what: "the resource monitor's first sample",
      });
    } finally {
      await client.close();
    }

    const idle = loadedPackages(logFile);
    // The hook saw the daemon's own start-up, so an empty answer below means something.
    expect(idle).toContain('zod');
    expect(idle).toContain('better-sqlite3');
    expect(HEAVY_PACKAGES.filter((name) => idle.has(name))).toEqual([]);
    const pid = daemon.child.pid ?? 0;
    const addons = mappedAddons(pid);
    expect(addons.some((path) => path.includes('better-sqlite3'))).toBe(true);
    expect(addons.filter((path) => /duckdb/i.test(path))).toEqual([]);

    // First use still works: a run imports the staging engine (DuckDB) and the PostgreSQL driver.
    const run = await runCommand(process.execPath, [CLI, '--socket', h.socketPath, 'start', 'pg'], {
      env: { ...process.env, NO_COLOR: '1', ETLD_HOME: '' },
    });
    expect(run.code, run.stderr).toBe(0);
    const afterRun = await waitFor(
      () => {
        const loaded = loadedPackages(logFile);
        return loaded.has('@duckdb/node-api') && loaded.has('pg') ? loaded : undefined;
      },
      { what: 'the run to load DuckDB and pg' },
    );
    await waitFor(() => (mappedAddons(pid).some((path) => /duckdb/i.test(path)) ? true : undefined), {
      what: 'duckdb.node in the process maps',
    });
    expect(afterRun).not.toContain('mysql2');
    expect(afterRun).not.toContain('tedious');
  });
});
