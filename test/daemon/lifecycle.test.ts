import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import {
  DAEMON_MAIN,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { runCommand } from '../helpers/process.js';

const homes: TempHome[] = [];
const daemons: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const h of homes.splice(0)) h.remove();
});

function pipeline(name: string, extra = ''): string {
  return `name: ${name}
description: test pipeline ${name}${extra}
source:
  type: postgres
  connection: { host: 127.0.0.1, port: 1, database: shop, user: etl }
  table: public.orders
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
`;
}

function home(): TempHome {
  const h = makeTempHome();
  homes.push(h);
  return h;
}

function start(h: TempHome, env?: Record<string, string>): DaemonProcess {
  const d = spawnDaemon(h.dir, env ? { env } : {});
  daemons.push(d);
  return d;
}

describe('etld lifecycle (spawned daemon)', () => {
  test('--help and --version answer without starting', async () => {
    const help = await runCommand(process.execPath, [DAEMON_MAIN, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: etld/);
    const version = await runCommand(process.execPath, [DAEMON_MAIN, '--version']);
    expect(version.stdout).toMatch(/^etld \d+\.\d+\.\d+/);
    const bad = await runCommand(process.execPath, [DAEMON_MAIN, '--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/frobnicate/);
  });

  test('a broken pipeline file is reported with file:line:col and skipped; the others load and the daemon keeps running', async () => {
    const h = home();
    h.writePipeline('good.yaml', pipeline('good'));
    h.writePipeline('bad.yaml', pipeline('bad').replace('type: postgres', 'type: postgress'));
    const d = start(h);
    const error = await d.waitForLine(/bad\.yaml:\d+:\d+ source\.type/);
    expect(error).toMatch(
      /^<3>.*bad\.yaml:4:9 source\.type: expected one of postgres \| mysql \| sqlserver \| files, got "postgress"/,
    );
    await d.waitForLine(/etld running: 1 pipeline\(s\) loaded, 1 invalid/);
    expect(d.child.exitCode).toBeNull();
  });

  test('SIGHUP picks up an added file and an edited one; a broken edit keeps the last good version', async () => {
    const h = home();
    h.writePipeline('a.yaml', pipeline('a'));
    const d = start(h);
    await d.waitForLine(/etld running: 1 pipeline/);
    h.writePipeline('b.yaml', pipeline('b'));
    h.writePipeline('a.yaml', pipeline('a', ' (edited)'));
    d.signal('SIGHUP');
    await d.waitForLine(/reloaded pipelines: added \[b\], changed \[a\], removed \[\], invalid \[\]/);
    h.writePipeline('a.yaml', pipeline('a').replace('mode: full', 'mode: fullest'));
    d.signal('SIGHUP');
    const kept = await d.waitForLine(/last good version keeps running/);
    expect(kept).toMatch(/a\.yaml:\d+:\d+ load\.mode/);
    await d.waitForLine(/reloaded pipelines: added \[\], changed \[\], removed \[\], invalid \[a\]/);
    expect(d.child.exitCode).toBeNull();
  });

  test('a second etld on the same home refuses to start and names the holder pid', async () => {
    const h = home();
    const first = start(h);
    await first.waitForLine(/etld running/);
    const second = start(h);
    const code = await second.exited();
    expect(code).toBe(1);
    expect(second.lines.join('\n')).toMatch(
      new RegExp(`another etld \\(pid ${first.child.pid}\\) is running`),
    );
    expect(first.child.exitCode).toBeNull();
  });

  test('SIGTERM drains and exits 0; the lock is released for the next start', async () => {
    const h = home();
    const d = start(h);
    await d.waitForLine(/etld running/);
    d.signal('SIGTERM');
    expect(await d.exited(20_000)).toBe(0);
    expect(d.lines.join('\n')).toMatch(/etld stopped/);
    const again = start(h);
    await again.waitForLine(/etld running/);
  });

  test('a corrupt state store and a newer one give a clear error and exit 78, not a stack trace', async () => {
    const h = home();
    mkdirSync(join(h.dir, 'state'), { recursive: true });
    writeFileSync(join(h.dir, 'state', 'etld.db'), 'garbage '.repeat(1000));
    const corrupt = start(h);
    expect(await corrupt.exited()).toBe(78);
    expect(corrupt.lines.join('\n')).toMatch(/<3>.*cannot open state store .*etld\.db/);
    expect(corrupt.lines.join('\n') + corrupt.stderr()).not.toMatch(/\n\s+at /);

    const h2 = home();
    mkdirSync(join(h2.dir, 'state'), { recursive: true });
    const db = new Database(join(h2.dir, 'state', 'etld.db'));
    db.pragma('user_version = 999');
    db.close();
    const newer = start(h2);
    expect(await newer.exited()).toBe(78);
    expect(newer.lines.join('\n')).toMatch(/written by a newer etld/);
  });

  test('invalid daemon settings stop start-up with file:line:col', async () => {
    const h = home();
    h.writeSettings('defaults: { grace_period: soon }\n');
    const d = start(h);
    expect(await d.exited()).toBe(78);
    expect(d.lines.join('\n')).toMatch(/etld\.yaml:1:\d+ defaults\.grace_period: expected a duration/);
  });
});
