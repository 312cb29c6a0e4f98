/**
 * "Config that never lies", as an operator meets it: etlctl against a spawned etld. A copied
 * file never takes over a pipeline (across reloads and restarts); a broken edit is flagged
 * wherever the pipeline is shown and makes `reload` exit 1; connections.yaml is read on reload;
 * `etld --check-config` checks everything without starting a daemon. No pipeline runs here: the
 * sources point at a port where nothing listens, and nothing is scheduled.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DAEMON_MAIN,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { runCommand } from '../helpers/process.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

const homes: TempHome[] = [];
const daemons: DaemonProcess[] = [];

beforeAll(() => {
  assertCliBuilt();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const h of homes.splice(0)) h.remove();
});

function home(): TempHome {
  const h = makeTempHome('etld-config-');
  homes.push(h);
  return h;
}

async function launch(h: TempHome, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const daemon = spawnDaemon(h.dir, { env });
  daemons.push(daemon);
  await daemon.waitForLine(/etld running/, 60_000);
  return daemon;
}

async function restart(h: TempHome, daemon: DaemonProcess): Promise<DaemonProcess> {
  expect(await daemon.stop()).toBe(0);
  daemons.splice(daemons.indexOf(daemon), 1);
  return launch(h);
}

function pipeline(
  name: string,
  connection = '{ host: 127.0.0.1, port: 1, database: shop, user: etl }',
): string {
  return `name: ${name}
source:
  type: postgres
  connection: ${connection}
  table: public.${name}
load: { mode: full }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
`;
}

function ctl(h: TempHome, ...args: string[]): ReturnType<typeof etlctl> {
  return etlctl(['--home', h.dir, ...args]);
}

async function statusOf(
  h: TempHome,
  name: string,
): Promise<{ file: string; file_status: string; problems: string[] }> {
  const r = await ctl(h, 'status', name, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('a second file claiming a pipeline name', () => {
  it('never takes the pipeline over: the file that defined it keeps it across reloads and restarts', async () => {
    const h = home();
    // b.yaml defines orders; a copy named a.yaml sorts first and is not named after the pipeline,
    // so only the daemon's record of b.yaml can keep the name with it.
    const original = h.writePipeline('b.yaml', pipeline('orders'));
    const daemon = await launch(h);
    const copy = join(h.dir, 'pipelines', 'a.yaml');
    copyFileSync(original, copy);

    const reload = await ctl(h, 'reload');
    expect(reload.code).toBe(1);
    expect(reload.stdout).toContain('changed: -');
    expect(reload.stdout).toContain('invalid: orders@a.yaml');
    expect(reload.stdout).toContain(
      `invalid  ${copy}:1:7 name: pipeline "orders" is already defined in ${original}, which keeps it (it defined the pipeline before)`,
    );
    expect((await statusOf(h, 'orders')).file).toBe(original);

    await restart(h, daemon);
    expect((await statusOf(h, 'orders')).file).toBe(original);
    const list = (
      JSON.parse((await ctl(h, 'list', '--json')).stdout) as { pipelines: { name: string; state: string }[] }
    ).pipelines;
    expect(list.map((p) => [p.name, p.state])).toEqual([
      ['orders', 'idle'],
      ['orders@a.yaml', 'invalid'],
    ]);

    // The check beside the running daemon reads the same record and says the same.
    const check = await runCommand(process.execPath, [DAEMON_MAIN, '--home', h.dir, '--check-config'], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`ok       orders (${original})`);
    expect(check.stdout).toContain(
      `invalid  ${copy}:1:7 name: pipeline "orders" is already defined in ${original}`,
    );
  });
});

describe('a broken edit of a running pipeline', () => {
  it('is flagged in list, status, info and problems, and reload exits 1 while applying the valid files', async () => {
    const h = home();
    const file = h.writePipeline('payments.yaml', pipeline('payments'));
    h.writePipeline('orders.yaml', pipeline('orders'));
    await launch(h);

    writeFileSync(
      file,
      pipeline('payments').replace('load: { mode: full }', 'load: { mode: full }\nschedule: "every 5x"'),
    );
    h.writePipeline('users.yaml', pipeline('users'));
    const reload = await ctl(h, 'reload');
    expect(reload.code).toBe(1);
    expect(reload.stdout).toContain('added: users');
    expect(reload.stdout).toContain('invalid: payments');
    const problem = `${file}:7:11 schedule: expected "every <duration>" such as "every 15m", got "every 5x"`;
    expect(reload.stdout).toContain(`invalid  ${problem}`);
    const flag = `running the last good version; file invalid: ${problem}`;

    const list = await ctl(h, 'list');
    expect(list.stdout).toMatch(/^payments\s+idle\*\s/m);
    expect(list.stdout).toContain(`* payments: ${flag}`);
    expect(list.stdout).toMatch(/^users\s+idle\s/m);

    const status = await ctl(h, 'status', 'payments');
    expect(status.stdout).toContain(flag);
    expect(await statusOf(h, 'payments')).toMatchObject({ file_status: 'last_good', problems: [problem] });
    expect((await statusOf(h, 'orders')).file_status).toBe('ok');

    const info = await ctl(h, 'info');
    expect(info.stdout).toMatch(/config\s+1 running the last good version \(etlctl problems\)/);
    expect(info.stdout).toContain(flag);

    const problems = await ctl(h, 'problems');
    expect(problems.code).toBe(1);
    expect(problems.stdout).toContain('payments: running the last good version; file invalid');
    expect(problems.stdout).toContain(problem);
    expect(JSON.parse((await ctl(h, 'problems', '--json')).stdout).problems).toEqual([
      { severity: 'error', pipeline: 'payments', file, effect: 'last_good', problems: [problem] },
    ]);

    // Fixed and reloaded: nothing to report any more.
    writeFileSync(file, pipeline('payments'));
    expect((await ctl(h, 'reload')).code).toBe(0);
    expect((await ctl(h, 'problems')).stdout).toContain('no problems');
    expect((await statusOf(h, 'payments')).file_status).toBe('ok');
  });
});

describe('connections.yaml', () => {
  it('is used by name, warned about at load, re-read on reload, and checked locally', async () => {
    const h = home();
    const connections = join(h.dir, 'connections.yaml');
    writeFileSync(
      connections,
      'shop_pg:\n  host: 127.0.0.1\n  port: 1\n  database: shop\n  user: etl\n  password_env: ETLD_TEST_UNSET_PW\n',
    );
    const file = h.writePipeline('orders.yaml', pipeline('orders', 'shop_pg'));
    await launch(h);

    const status = await statusOf(h, 'orders');
    expect(status.file_status).toBe('ok');
    const warning = `${connections}:6:17 shop_pg.password_env: environment variable ETLD_TEST_UNSET_PW is not set in the daemon's environment: runs fail until it is`;
    const problems = await ctl(h, 'problems', '--json');
    expect(problems.code).toBe(0);
    expect(JSON.parse(problems.stdout).problems).toEqual([
      { severity: 'warning', pipeline: 'orders', file, effect: 'running', problems: [warning] },
    ]);
    expect((await ctl(h, 'list')).stdout).toContain('1 pipeline file(s) with warnings');

    // A typo in connections.yaml: the reload reports it there, and orders keeps its last good version.
    writeFileSync(connections, readFileSync(connections, 'utf8').replace('  port: 1', '  prot: 1'));
    const reload = await ctl(h, 'reload');
    expect(reload.code).toBe(1);
    expect(reload.stdout).toContain(
      `invalid  ${connections}:3:3 shop_pg: unknown field "prot" (did you mean "port"?)`,
    );
    expect((await statusOf(h, 'orders')).file_status).toBe('last_good');

    // A name that is not there gets a did-you-mean, from the daemon and from etlctl alone.
    writeFileSync(connections, readFileSync(connections, 'utf8').replace('  prot: 1', '  port: 1'));
    writeFileSync(file, pipeline('orders', 'shop_gp'));
    const expected = `${file}:4:15 source.connection: unknown connection "shop_gp" (did you mean "shop_pg"?)`;
    const viaDaemon = await ctl(h, 'validate');
    expect(viaDaemon.code).toBe(1);
    expect(viaDaemon.stdout).toContain(expected);
    const local = await etlctl(['validate', join(h.dir, 'pipelines')]);
    expect(local.code).toBe(1);
    expect(local.stdout).toContain(expected);
  });
});

describe('etld --check-config and etlctl validate --settings', () => {
  async function checkConfig(h: TempHome, env: Record<string, string> = {}) {
    return runCommand(process.execPath, [DAEMON_MAIN, '--home', h.dir, '--check-config'], {
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
  }

  it('checks settings, pipelines and connections without starting a daemon; exit 0 or 1', async () => {
    const h = home();
    h.writeSettings('defaults: { parallelism: 2 }\n');
    h.writePipeline(
      'orders.yaml',
      pipeline('orders', '{ host: 127.0.0.1, port: 1, password_env: ETLD_TEST_PW }'),
    );
    const ok = await checkConfig(h, { ETLD_TEST_PW: 'not-shown-anywhere' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`ok       daemon settings (${join(h.dir, 'etld.yaml')})`);
    expect(ok.stdout).toContain('1 pipeline(s) valid, 0 invalid, 0 warning(s)');
    expect(ok.stdout).not.toContain('not-shown-anywhere');
    expect(existsSync(join(h.dir, 'state'))).toBe(false);
    expect(existsSync(join(h.dir, 'run'))).toBe(false);

    // The daemon's environment lacks the variable: a warning, still exit 0.
    const warned = await checkConfig(h);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(
      /warning {2}.*orders\.yaml:4:\d+ source\.connection\.password_env: environment variable ETLD_TEST_PW is not set/,
    );

    h.writePipeline('broken.yaml', pipeline('broken').replace('mode: full', 'mode: upsert'));
    const broken = await checkConfig(h, { ETLD_TEST_PW: 'x' });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /invalid {2}.*broken\.yaml:6:15 load\.mode: expected one of full \| incremental \| merge, got "upsert"/,
    );

    h.writeSettings('defaults: { paralelism: 2 }\n');
    const settings = await checkConfig(h);
    expect(settings.code).toBe(1);
    expect(settings.stdout).toContain(
      `invalid  ${join(h.dir, 'etld.yaml')}:1:13 defaults: unknown field "paralelism" (did you mean "parallelism"?)`,
    );

    const validate = await etlctl(['validate', '--settings', join(h.dir, 'etld.yaml')]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain('defaults: unknown field "paralelism" (did you mean "parallelism"?)');
    h.writeSettings('defaults: { parallelism: 2 }\n');
    expect((await etlctl(['validate', '--settings', join(h.dir, 'etld.yaml')])).code).toBe(0);
    expect(existsSync(join(h.dir, 'state'))).toBe(false);
  });

  it('reads the secrets the settings name, as a start-up would, naming each missing one and never a value', async () => {
    const h = home();
    const tokenFile = join(h.dir, 'operator.token');
    h.writeSettings(
      [
        'smtp: { host: 127.0.0.1, port: 2525, user: etl, password_env: ETLD_TEST_SMTP_PW, from: "etld <e@x>" }',
        'alerts:',
        '  channels:',
        '    - { name: chat, type: slack, url_env: ETLD_TEST_SLACK_URL }',
        '    - { name: hook, type: webhook, url_file: /nonexistent/hook.url }',
        'http: { token_env: ETLD_TEST_METRICS_TOKEN }',
        `control: { tcp: { listen: "127.0.0.1:7070", token_file: ${tokenFile}, readonly_token_env: ETLD_TEST_RO } }`,
        '',
      ].join('\n'),
    );
    const missing = await checkConfig(h);
    expect(missing.code).toBe(1);
    const settingsFile = join(h.dir, 'etld.yaml');
    expect(missing.stdout).toContain(`invalid  daemon settings (${settingsFile}): etld would not start`);
    for (const problem of [
      "smtp: environment variable ETLD_TEST_SMTP_PW (password_env) is not set in the daemon's environment",
      "alerts.channels chat: environment variable ETLD_TEST_SLACK_URL (url_env) is not set in the daemon's environment",
      'alerts.channels hook: cannot read url_file /nonexistent/hook.url (ENOENT)',
      "http: environment variable ETLD_TEST_METRICS_TOKEN (token_env) is not set in the daemon's environment",
      `control.tcp: cannot read token_file ${tokenFile} (ENOENT)`,
    ]) {
      expect(missing.stdout).toContain(`invalid  ${settingsFile}: ${problem}`);
    }

    writeFileSync(tokenFile, 'operator-secret-value\n');
    h.writeSettings(
      [
        'smtp: { host: 127.0.0.1, port: 2525, user: etl, password_env: ETLD_TEST_SMTP_PW, from: "etld <e@x>" }',
        'http: { token_env: ETLD_TEST_METRICS_TOKEN }',
        `control: { tcp: { listen: "127.0.0.1:7070", token_env: ETLD_TEST_OP, readonly_token_file: ${tokenFile} } }`,
        '',
      ].join('\n'),
    );
    const secrets = {
      ETLD_TEST_SMTP_PW: 'smtp-secret-value',
      ETLD_TEST_METRICS_TOKEN: 'metrics-secret-value',
      ETLD_TEST_OP: 'op-secret-value',
    };
    const ok = await checkConfig(h, secrets);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`ok       daemon settings (${settingsFile})`);
    for (const value of [...Object.values(secrets), 'operator-secret-value'])
      expect(ok.stdout + ok.stderr + missing.stdout + missing.stderr).not.toContain(value);

    // An empty operator token is refused as start-up refuses it.
    const empty = await checkConfig(h, { ...secrets, ETLD_TEST_OP: '' });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain(`invalid  ${settingsFile}: control.tcp: the operator token is empty`);
  });

  it('etlctl suggests the verb an operator meant', async () => {
    const r = await etlctl(['stauts', 'orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('etlctl: unknown verb "stauts": did you mean "status"? (etlctl status --help)\n');
  });
});
