import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RUN_STATUSES } from '../../shared/types.js';
import { SAMPLE_CHECKS } from '../control/fake-api.js';
import { startTestServer, type TestServer } from '../control/harness.js';
import { waitFor } from '../helpers/process.js';
import { assertCliBuilt, etlctl, spawnEtlctl } from './cli-harness.js';
import { VERBS } from '../../tui/cli/verbs.js';

let t: TestServer;
const TOKEN = 'cli-test-token-42';

beforeAll(async () => {
  assertCliBuilt();
  t = await startTestServer({ tcp: { host: '127.0.0.1', port: 0, token: TOKEN } });
});
afterAll(async () => {
  await t?.dispose();
});

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)));
const errorShape = z.object({ code: z.string(), message: z.string() }).strict().nullable();
// The --json contract: every document is versioned ("schema": 1); the keys a script may rely on
// (extra keys are allowed). Lists are wrapped under a key, so the version has a place.
const document = <T extends z.ZodRawShape>(shape: T) => z.object({ schema: z.literal(1), ...shape });
const listContract = z.array(
  z.object({
    name: z.string(),
    state: z.string(),
    paused: z.boolean(),
    schedule: z.string().nullable(),
    next_run_at: iso.nullable(),
    last_run: z.object({ id: z.string(), status: z.enum(RUN_STATUSES) }).nullable(),
  }),
);
const historyContract = z.array(
  z.object({
    id: z.string(),
    pipeline: z.string(),
    status: z.enum(RUN_STATUSES),
    trigger: z.string(),
    attempt: z.number().int(),
    started_at: iso.nullable(),
    finished_at: iso.nullable(),
    rows_extracted: z.number().int(),
    rows_loaded: z.number().int(),
    error: errorShape,
  }),
);

describe('etlctl against a control server', () => {
  it('list --json follows the scripting contract', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'list', '--json']);
    expect(r.code).toBe(0);
    const list = document({ pipelines: listContract }).parse(JSON.parse(r.stdout)).pipelines;
    expect(list.map((p) => p.name)).toEqual(['orders', 'users']);
    expect(list[1]).toMatchObject({ paused: true, schedule: null, next_run_at: null, last_run: null });
  });

  it('history --json follows the scripting contract, newest first', async () => {
    const r = await etlctl(['history', 'orders', '-n', '3', '--json', '--socket', t.socketPath]);
    expect(r.code).toBe(0);
    const runs = document({ runs: historyContract }).parse(JSON.parse(r.stdout)).runs;
    expect(runs.map((x) => x.started_at)).toEqual([...runs.map((x) => x.started_at)].sort().reverse());
    expect(runs[1]?.error).toEqual({ code: 'SOURCE_TIMEOUT', message: 'shard s2 timed out' });
  });

  it('prints human tables without colour when stdout is not a terminal', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATE\s+SCHEDULE\s+NEXT RUN\s+LAST RUN\s+ROWS/);
    expect(r.stdout).toMatch(/\norders\s+idle\s+0 \*\/2 \* \* \*/);
    expect(r.stdout).not.toContain('\u001B[');
    const history = await etlctl(['--socket', t.socketPath, 'history', 'orders']);
    expect(history.stdout).toContain('SOURCE_TIMEOUT: shard s2 timed out');
  });

  it('run lists the data quality checks, with the detail of those that did not pass', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'run', 'orders-run-2']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/\nCHECK +STATUS +OBSERVED +THRESHOLD +DETAIL\n/);
    expect(r.stdout).toMatch(/\nmin_rows +PASS +2,000 rows +≥ 1 rows\n/);
    expect(r.stdout).toMatch(
      /\nnot_null\(email\) +WARN +3 rows +0 rows +not_null\(email\): 3 rows have a NULL email\n/,
    );
    expect(r.stdout).toMatch(
      /\nrange\(amount\) +QUARANTINE +1 row +0 rows +range\(amount\): 1 row has amount outside 0\.\.10000 and went to the quarantine table\n/,
    );
    expect(r.stdout).toMatch(
      /\nmax_null_pct\(phone\) +FAIL +7\.5 % +≤ 5 % +max_null_pct\(phone\): 7\.5 % of rows have a NULL phone\n/,
    );
    expect(r.stdout).toMatch(/\nfreshness\(updated_at\) +PASS +1h +age ≤ 2h\n/);
    // A passing check's detail is noise next to the ones that need a look.
    expect(r.stdout).not.toContain('the batch has 2,000 rows');
    expect(r.stdout).not.toContain('\u001B[');

    const json = await etlctl(['--socket', t.socketPath, 'run', 'orders-run-2', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ schema: 1, checks: SAMPLE_CHECKS });
  });

  it('history counts the checks that did not pass in a CHECKS column', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'history', 'orders']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^RUN +STATUS +TRIGGER +ATTEMPTS +STARTED +TOOK +ROWS IN\/OUT +CHECKS +ERROR$/);
    expect(lines[1]).toMatch(/^orders-run-3 +succeeded .* 3,000\/3,000 +1 quarantine, 1 warn$/);
    expect(lines[2]).toMatch(/^orders-run-2 +failed .* 2,000\/0 +- +SOURCE_TIMEOUT: shard s2 timed out$/);
    expect(lines[3]).toMatch(/^orders-run-1 +succeeded .* 1,000\/1,000 +ok$/);
    const json = await etlctl(['--socket', t.socketPath, 'history', 'orders', '--json']);
    expect(JSON.parse(json.stdout).runs.map((run: { checks: unknown[] }) => run.checks.length)).toEqual([
      3, 0, 1,
    ]);
  });

  it('every read verb prints something sensible and exits 0', async () => {
    for (const args of [
      ['info'],
      ['status', 'orders'],
      ['run', 'orders-run-2'],
      ['why', 'users'],
      ['plan', 'orders'],
      ['preview', 'orders', '-n', '1'],
      ['reload'],
      ['validate'],
      ['vacuum', 'orders', '--dry-run'],
      ['pause', 'orders'],
      ['resume', 'orders'],
      ['stop', 'orders'],
      ['logs', 'orders'],
    ]) {
      const r = await etlctl(['--socket', t.socketPath, ...args]);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(r.stdout.length).toBeGreaterThan(0);
    }
    expect((await etlctl(['--socket', t.socketPath, 'why', 'users'])).stdout).toContain(
      'paused by an operator',
    );
    expect((await etlctl(['--socket', t.socketPath, 'logs', 'orders', '--errors'])).stdout).toMatch(
      /ERROR\s+orders orders-run-3 shard s2 failed: timeout/,
    );
  });

  it('every --json document carries "schema": 1, a list under a key, each logs line too', async () => {
    for (const args of [
      ['list'],
      ['info'],
      ['status', 'orders'],
      ['history', 'orders'],
      ['run', 'orders-run-2'],
      ['why', 'users'],
      ['plan', 'orders'],
      ['preview', 'orders', '-n', '1'],
      ['reload'],
      ['validate'],
      ['vacuum', 'orders', '--dry-run'],
      ['watermark', 'show', 'orders'],
    ]) {
      const r = await etlctl(['--socket', t.socketPath, '--json', ...args]);
      const parsed = JSON.parse(r.stdout);
      expect({ args, code: r.code, schema: parsed.schema }).toEqual({ args, code: 0, schema: 1 });
      expect(Array.isArray(parsed)).toBe(false);
    }
    const logs = await etlctl(['--socket', t.socketPath, 'logs', 'orders', '--json']);
    const lines = logs.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ schema: 1, pipeline: 'orders' });
    const usage = await etlctl(['--socket', t.socketPath, 'history', '--json']);
    expect(JSON.parse(usage.stderr)).toMatchObject({ schema: 1, error: { code: 'USAGE' } });
  });

  it('logs -n 0 prints no past line', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'logs', 'orders', '-n', '0']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('watermark show, set and reset print the position and the change history', async () => {
    const shown = await etlctl(['--socket', t.socketPath, 'watermark', 'show', 'orders']);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/committed\s+sequence 4 \(state store\), sequence 4 \(destination\)/);
    expect(shown.stdout).toMatch(/default\s+2026-03-04 00:00:00\s+2\s+4/);
    const set = await etlctl([
      '--socket',
      t.socketPath,
      'watermark',
      'set',
      'orders',
      '2026-03-05 00:00:00',
      '--json',
    ]);
    expect(JSON.parse(set.stdout)).toMatchObject({
      schema: 1,
      watermarks: [{ value: '2026-03-05 00:00:00' }],
      changes: [{ action: 'set' }],
    });
    const reset = await etlctl(['--socket', t.socketPath, 'watermark', 'reset', 'orders']);
    expect(reset.stdout).toMatch(/no watermark: the next run reads from start_from/);
    for (const args of [
      ['watermark', 'move', 'orders'],
      ['watermark', 'set', 'orders'],
      ['watermark', 'reset', 'orders', 'x'],
    ]) {
      expect((await etlctl(['--socket', t.socketPath, ...args])).code).toBe(2);
    }
  });

  it('a failed operation exits 1 with one line and no stack trace', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'status', 'ghost']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('etlctl: no pipeline named "ghost"\n');
    const json = await etlctl(['--socket', t.socketPath, 'status', 'ghost', '--json']);
    expect(JSON.parse(json.stderr)).toEqual({
      schema: 1,
      error: { code: 'NOT_FOUND', message: 'no pipeline named "ghost"', retryable: false },
    });
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['start'],
      ['bogus'],
      ['list', '--bogus'],
      ['history', 'orders', '-n', 'lots'],
      ['status', 'a', 'b'],
      ['logs', '--since', 'yesterday'],
      ['--url', 'ws://127.0.0.1:1', 'list'],
      ['generate', 'Bad Name'],
      ['generate', 'x', '--source', 'oracle'],
    ]) {
      const r = await etlctl(['--socket', t.socketPath, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('an unreachable daemon exits 3, naming the socket and how to start the daemon', async () => {
    const r = await etlctl(['--home', '/tmp/etld-nowhere', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'etlctl: cannot reach etld at /tmp/etld-nowhere/run/etld.sock: no socket there; start it with: etld --home /tmp/etld-nowhere\n',
    );
    const viaEnv = await etlctl(['info'], { ETLD_HOME: '/tmp/etld-env' });
    expect(viaEnv.stderr).toContain('/tmp/etld-env/run/etld.sock');
    expect(viaEnv.code).toBe(3);
  });

  it('--help works for every verb and shows an example', async () => {
    for (const verb of VERBS) {
      const r = await etlctl([verb.name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: etlctl ${verb.name}`);
      expect(r.stdout).toMatch(/Examples:\n {2}etlctl /);
    }
    const main = await etlctl([]);
    expect(main.stdout).toContain(
      'Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 daemon unreachable.',
    );
    expect((await etlctl(['--version'])).stdout).toMatch(/^etlctl \d+\.\d+\.\d+\n$/);
  });

  it('start --wait exits 0 when the run succeeds and 1 when it fails', async () => {
    const ok = await etlctl(['--socket', t.socketPath, 'start', 'orders', '--wait']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/started run orders-run-\d+ of orders/);
    expect(ok.stdout).toMatch(/extracting 500 rows 250 rows\/s \| s1 done 300 · s2 running 200/);
    expect(ok.stdout).toMatch(/run orders-run-\d+ succeeded: 700 rows loaded/);

    t.api.pipelines.push({ ...t.api.pipelines[0]!, name: 'bad' });
    const bad = await etlctl(['--socket', t.socketPath, 'start', 'bad', '--wait']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      'failed: 0 rows loaded — SOURCE_CONNECTION: db2:5432 refused the connection',
    );

    const json = await etlctl(['--socket', t.socketPath, 'start', 'orders', '--wait', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ schema: 1, pipeline: 'orders', parts: [] });
  });

  it('logs -f prints past lines, then new ones, until Ctrl-C', async () => {
    const { child, out, exit } = spawnEtlctl(['--socket', t.socketPath, 'logs', 'orders', '-f']);
    await waitFor(() => (out.stdout.includes('shard s2 failed') ? true : undefined), {
      what: 'past log lines',
    });
    await waitFor(() => (t.server.clientCount >= 1 ? true : undefined));
    // The follow registration happens before the reply; a line emitted now must arrive.
    t.api.events.emit('log', {
      ts: '2026-03-04T12:00:00.000Z',
      level: 'info',
      pipeline: 'orders',
      run_id: null,
      message: 'live line 1',
    });
    t.api.events.emit('log', {
      ts: '2026-03-04T12:00:00.000Z',
      level: 'info',
      pipeline: 'users',
      run_id: null,
      message: 'other pipeline',
    });
    await waitFor(() => (out.stdout.includes('live line 1') ? true : undefined), {
      what: 'followed log line',
    });
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(out.stdout).not.toContain('other pipeline');
  });

  it('reaches the TCP listener with --url and --token-file, and is refused with a wrong token', async () => {
    const tokenFile = join(t.dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    const url = `ws://127.0.0.1:${t.server.tcpAddress!.port}`;
    const ok = await etlctl(['--url', url, '--token-file', tokenFile, 'list', '--json']);
    expect(ok.code).toBe(0);
    expect(document({ pipelines: listContract }).parse(JSON.parse(ok.stdout)).pipelines).toHaveLength(
      t.api.pipelines.length,
    );
    const wrongFile = join(t.dir, 'wrong-token');
    await writeFile(wrongFile, 'nope');
    const refused = await etlctl(['--url', url, '--token-file', wrongFile, 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refused the token/);
    expect(refused.stderr).not.toContain('nope');
    const missing = await etlctl(['--url', url, '--token-file', join(t.dir, 'absent'), 'list']);
    expect(missing.code).toBe(2);
  });
});

describe('etlctl without a daemon', () => {
  it('validate checks files and reports file:line:column problems', async () => {
    const dir = join(t.dir, 'files');
    await mkdir(dir, { recursive: true });
    const good = join(dir, 'good.yaml');
    await writeFile(
      good,
      'name: good\nsource: { type: postgres, connection: { host: db }, table: t }\nload: { mode: full }\ndestination: { type: duckdb, path: x.duckdb, table: t }\n',
    );
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'name: bad\nsource:\n  type: oracle\n  connection: { host: db, password: hunter2 }\n  table: t\nload: { mode: full }\ndestination: { type: duckdb, path: x.duckdb, table: t }\n',
    );
    const okRun = await etlctl(['validate', good]);
    expect(okRun.code).toBe(0);
    expect(okRun.stdout).toContain(`ok       good (${good})`);
    const badRun = await etlctl(['validate', good, bad]);
    expect(badRun.code).toBe(1);
    expect(badRun.stdout).toContain(
      `${bad}:3:9 source.type: expected one of postgres | mysql | sqlserver | files, got "oracle"`,
    );
    expect(badRun.stdout).toMatch(/bad\.yaml:4:\d+ source\.connection\.password: secrets are never written/);
    expect(badRun.stdout).not.toContain('hunter2');
    const missing = await etlctl(['validate', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('cannot read file (ENOENT)');

    // --json: the lines as printed, and each problem taken apart for scripts.
    const json = await etlctl(['--json', 'validate', good, bad]);
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as {
      schema: number;
      problems: string[];
      problem_details: Record<string, unknown>[];
    };
    expect(document.schema).toBe(1);
    expect(document.problems).toContain(
      `${bad}:3:9 source.type: expected one of postgres | mysql | sqlserver | files, got "oracle"`,
    );
    expect(document.problem_details).toContainEqual({
      text: `${bad}:3:9 source.type: expected one of postgres | mysql | sqlserver | files, got "oracle"`,
      file: bad,
      line: 3,
      column: 9,
      field: 'source.type',
      message: 'expected one of postgres | mysql | sqlserver | files, got "oracle"',
    });
    expect(document.problem_details).toHaveLength(document.problems.length);
    expect(json.stdout).not.toContain('hunter2');
  });

  it('validate --sources asks the daemon, prints what the sources showed and exits 1 on a problem', async () => {
    const r = await etlctl(['--socket', t.socketPath, 'validate', '--sources']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ok       orders');
    expect(r.stdout).toContain(
      'invalid  /etc/etld/pipelines/users.yaml: source: table public.users does not exist',
    );
    const json = await etlctl(['--socket', t.socketPath, '--json', 'validate', '--sources']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schema: 1,
      valid: ['orders'],
      problems: [expect.any(String)],
    });
    const withFiles = await etlctl(['--socket', t.socketPath, 'validate', '--sources', 'orders.yaml']);
    expect(withFiles.code).toBe(2);
    expect(withFiles.stderr).toContain("--sources checks the daemon's own pipeline files");
    // The sources are reached with the daemon's credentials: without a daemon there is nothing to fall back to.
    const home = join(t.dir, 'no-daemon');
    await mkdir(join(home, 'pipelines'), { recursive: true });
    const down = await etlctl(['--home', home, 'validate', '--sources']);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain('cannot reach etld');
  });

  it('validate without files falls back to the pipelines directory when the daemon is down', async () => {
    const home = join(t.dir, 'home');
    await mkdir(join(home, 'pipelines'), { recursive: true });
    const generated = await etlctl(['generate', 'nightly', '-o', join(home, 'pipelines', 'nightly.yaml')]);
    expect(generated.code).toBe(0);
    const r = await etlctl(['--home', home, 'validate']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`etld is not reachable; validating the files in ${join(home, 'pipelines')}`);
    expect(r.stdout).toContain('ok       nightly');
  });

  it('generate writes a commented file that validates for every source × destination', async () => {
    const dir = join(t.dir, 'generated');
    await mkdir(dir, { recursive: true });
    const files: string[] = [];
    for (const source of ['postgres', 'mysql', 'sqlserver', 'files']) {
      for (const dest of ['delta', 'bigquery', 'duckdb', 'postgres']) {
        const file = join(dir, `${source}-${dest}.yaml`);
        const r = await etlctl([
          'generate',
          `${source}-to-${dest}`,
          '--source',
          source,
          '--dest',
          dest,
          '-o',
          file,
        ]);
        expect(r.code).toBe(0);
        const text = await readFile(file, 'utf8');
        expect(text).toMatch(/^# Pipeline "/);
        expect(text).toContain(`type: ${source}`);
        expect(text).toContain(`type: ${dest}`);
        expect(text).not.toMatch(/password:/);
        files.push(file);
      }
    }
    const r = await etlctl(['validate', ...files]);
    expect(r.stdout).not.toContain('invalid');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^ok /gm)).toHaveLength(16);
    const again = await etlctl(['generate', 'again', '-o', files[0]!]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists (add --force to overwrite it)');
    const stdout = await etlctl(['generate', 'to-stdout']);
    expect(stdout.stdout).toContain('name: to-stdout');
  });

  it('generate --tables writes a multi-table pipeline that validates for every database source × destination', async () => {
    const dir = join(t.dir, 'generated-tables');
    await mkdir(dir, { recursive: true });
    const patterns: Record<string, string[]> = {
      postgres: ['--tables', 'public.*', '--tables', 'sales."Order Items"'],
      mysql: ['--tables', 'shop.order_*,shop.customers'],
      sqlserver: ['--tables', 'dbo.*'],
    };
    const files: string[] = [];
    for (const source of ['postgres', 'mysql', 'sqlserver']) {
      for (const dest of ['delta', 'bigquery', 'duckdb', 'postgres']) {
        const file = join(dir, `${source}-${dest}.yaml`);
        const args = ['generate', `${source}-${dest}`, '--source', source, '--dest', dest, '-o', file];
        const r = await etlctl([...args, ...(patterns[source] ?? [])]);
        expect({ source, dest, code: r.code, stderr: r.stderr.split('\n')[0] }).toMatchObject({
          code: 0,
        });
        const text = await readFile(file, 'utf8');
        expect(text).not.toMatch(/^ {2}table: [^"]/m);
        expect(text).toMatch(
          dest === 'delta'
            ? /^ {2}path: "[a-z_]+\/\{schema\}\/\{table\}"/m
            : /^ {2}table: "\{schema\}_\{table\}"/m,
        );
        files.push(file);
      }
    }
    const postgres = await readFile(join(dir, 'postgres-duckdb.yaml'), 'utf8');
    expect(postgres).toContain('  tables: ["public.*", "sales.\\"Order Items\\""]');
    const mysql = await readFile(join(dir, 'mysql-delta.yaml'), 'utf8');
    expect(mysql).toContain('  tables: ["shop.order_*", "shop.customers"]');
    const r = await etlctl(['validate', ...files]);
    expect(r.stdout).not.toContain('invalid');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^ok /gm)).toHaveLength(12);
    // An unqualified pattern cannot name a schema: the template is {table} alone.
    const bare = await etlctl([
      'generate',
      'bare',
      '--source',
      'mysql',
      '--tables',
      'orders',
      '--dest',
      'duckdb',
    ]);
    expect(bare.stdout).toMatch(/^ {2}table: "\{table\}"/m);
    for (const args of [
      ['generate', 'x', '--source', 'files', '--tables', 'a'],
      ['generate', 'x', '--tables', 'a.b.c.d'],
      ['generate', 'x', '--tables', 'public.orders,'],
    ]) {
      const refused = await etlctl(args);
      expect({ args, code: refused.code }).toEqual({ args, code: 2 });
      expect(refused.stderr).toMatch(/^etlctl: --tables/);
    }
  });
});
