/**
 * The shared pipeline loader (the daemon's and `etlctl validate`'s): named connections from
 * connections.yaml, which file keeps a name several files claim, and the load warnings.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadPipelineDirectory, type LoadOptions } from '../../shared/config/pipeline-files.js';
import type { SecretProbe } from '../../shared/config/pipeline-warnings.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A config directory: `connections.yaml` (when given) beside `pipelines/` holding `files`. */
function configDir(files: Record<string, string>, connections?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'etld-load-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'pipelines'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'pipelines', name), text);
  if (connections !== undefined) writeFileSync(join(dir, 'connections.yaml'), connections);
  return dir;
}

const NOW = new Date('2026-06-01T12:00:00Z');
const CHECKS: LoadOptions['checks'] = { now: NOW, defaultTimezone: 'UTC' };

function pipeline(name: string, lines: { connection?: string; extra?: string; load?: string } = {}): string {
  return `name: ${name}
source:
  type: postgres
  connection: ${lines.connection ?? '{ host: db1, database: shop, user: etl }'}
  table: public.orders
load: ${lines.load ?? '{ mode: full }'}
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
${lines.extra ?? ''}`;
}

const CONNECTIONS = `# shared by every pipeline of the shop
shop_pg:
  host: db1.example.com
  port: 5432
  database: shop
  user: etl
  password_env: SHOP_PASSWORD
  connect_timeout: 10s
warehouse_pg:
  host: dw.example.com
  database: dw
  user: loader
  password_file: dw.pass
`;

describe('named connections (connections.yaml)', () => {
  test('a pipeline names a connection for its source and its destination and gets the block', async () => {
    const dir = configDir(
      {
        'orders.yaml': pipeline('orders', { connection: 'shop_pg' }).replace(
          /destination: .*/,
          'destination: { type: postgres, connection: warehouse_pg, table: public.orders }',
        ),
      },
      CONNECTIONS,
    );
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.invalid).toEqual([]);
    expect(loaded.connections).toEqual({ file: join(dir, 'connections.yaml'), problems: [] });
    const config = loaded.valid[0]?.config;
    expect(config?.source.connection).toEqual({
      host: 'db1.example.com',
      port: 5432,
      database: 'shop',
      user: 'etl',
      password_env: 'SHOP_PASSWORD',
      connect_timeout: 10_000,
    });
    expect(config?.destination).toMatchObject({
      type: 'postgres',
      connection: { host: 'dw.example.com', password_file: 'dw.pass' },
    });
  });

  test('an unknown name is a problem at its line, with a did-you-mean and the names there are', async () => {
    const dir = configDir({ 'orders.yaml': pipeline('orders', { connection: 'shop_gp' }) }, CONNECTIONS);
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.valid).toEqual([]);
    expect(loaded.invalid).toEqual([
      {
        name: 'orders',
        file: join(dir, 'pipelines', 'orders.yaml'),
        problems: [
          `${join(dir, 'pipelines', 'orders.yaml')}:4:15 source.connection: unknown connection "shop_gp" (did you mean "shop_pg"?): ${join(dir, 'connections.yaml')} names shop_pg, warehouse_pg`,
        ],
      },
    ]);
  });

  test('without connections.yaml a name says where the file would be', async () => {
    const dir = configDir({ 'orders.yaml': pipeline('orders', { connection: 'shop_pg' }) });
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.invalid[0]?.problems).toEqual([
      expect.stringContaining(
        `source.connection: unknown connection "shop_pg": there is no ${join(dir, 'connections.yaml')}`,
      ),
    ]);
  });

  test('a broken block is reported in connections.yaml at its line; only pipelines naming it fail', async () => {
    const connections = `${CONNECTIONS}broken_pg:
  host: db9
  prot: 5432
  password: hunter2
`;
    const dir = configDir(
      {
        'orders.yaml': pipeline('orders', { connection: 'shop_pg' }),
        'users.yaml': pipeline('users', { connection: 'broken_pg' }),
      },
      connections,
    );
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    const file = join(dir, 'connections.yaml');
    expect(loaded.connections.problems).toEqual([
      `${file}:16:3 broken_pg: unknown field "prot" (did you mean "port"?)`,
      `${file}:17:13 broken_pg.password: secrets are never written in pipeline files: use password_env (an environment variable) or password_file (for example a systemd credential under $CREDENTIALS_DIRECTORY)`,
    ]);
    expect(loaded.valid.map((p) => p.name)).toEqual(['orders']);
    expect(loaded.invalid[0]?.problems).toEqual([
      expect.stringMatching(
        /users\.yaml:4:15 source\.connection: connection "broken_pg" is invalid in .*connections\.yaml: .*:16:3 broken_pg: unknown field "prot"/,
      ),
    ]);
    expect(JSON.stringify(loaded)).not.toContain('hunter2');
  });

  test('a secret warning about a named connection points into connections.yaml', async () => {
    const dir = configDir({ 'orders.yaml': pipeline('orders', { connection: 'shop_pg' }) }, CONNECTIONS);
    const probe: SecretProbe = {
      envIsSet: () => false,
      fileProblem: (path) => ({ resolved: path, problem: null }),
    };
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: { ...CHECKS, secrets: probe },
    });
    expect(loaded.valid[0]?.warnings).toEqual([
      `${join(dir, 'connections.yaml')}:7:17 shop_pg.password_env: environment variable SHOP_PASSWORD is not set in the daemon's environment: runs fail until it is`,
    ]);
  });
});

describe('a name claimed by several files', () => {
  test('with a record, the file that defined the pipeline keeps it, whatever the file names', async () => {
    const dir = configDir({ 'orders.yaml': pipeline('orders'), 'a-copy.yaml': pipeline('orders') });
    const kept = join(dir, 'pipelines', 'orders.yaml');
    const copy = join(dir, 'pipelines', 'a-copy.yaml');
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: CHECKS,
      owners: new Map([['orders', kept]]),
    });
    expect(loaded.valid.map((p) => p.file)).toEqual([kept]);
    expect(loaded.invalid).toEqual([
      {
        name: 'orders@a-copy.yaml',
        file: copy,
        problems: [
          `${copy}:1:7 name: pipeline "orders" is already defined in ${kept}, which keeps it (it defined the pipeline before); this file is not loaded: give it another name: or remove it`,
        ],
      },
    ]);
    // The record decides even against the namesake rule.
    const reversed = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: CHECKS,
      owners: new Map([['orders', copy]]),
    });
    expect(reversed.valid.map((p) => p.file)).toEqual([copy]);
  });

  test('without a record, the file named after the pipeline keeps it although a copy sorts first', async () => {
    const dir = configDir({ 'orders.yaml': pipeline('orders'), 'orders-copy.yaml': pipeline('orders') });
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.valid.map((p) => p.file)).toEqual([join(dir, 'pipelines', 'orders.yaml')]);
    expect(loaded.invalid[0]?.problems[0]).toMatch(
      /orders-copy\.yaml:1:7 name: pipeline "orders" is already defined in .*orders\.yaml, which keeps it \(no earlier file is on record, and orders\.yaml is named after the pipeline\)/,
    );
  });

  test('without a record or a namesake, the first file in name order keeps it', async () => {
    const dir = configDir({ 'b.yaml': pipeline('orders'), 'a.yaml': pipeline('orders') });
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.valid.map((p) => p.file)).toEqual([join(dir, 'pipelines', 'a.yaml')]);
    expect(loaded.invalid[0]?.problems[0]).toMatch(/the first file in name order keeps it/);
  });

  test('a broken edit of the file that keeps the name does not hand it to a valid copy', async () => {
    const dir = configDir({
      'orders.yaml': pipeline('orders', { extra: 'schedule: "every 5x"\n' }),
      'orders-copy.yaml': pipeline('orders'),
    });
    const kept = join(dir, 'pipelines', 'orders.yaml');
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: CHECKS,
      owners: new Map([['orders', kept]]),
    });
    expect(loaded.valid).toEqual([]);
    expect(loaded.invalid.map((p) => p.name).sort()).toEqual(['orders', 'orders@orders-copy.yaml']);
    expect(loaded.invalid.find((p) => p.name === 'orders')?.problems).toEqual([
      expect.stringMatching(/orders\.yaml:8:11 schedule: expected "every <duration>"/),
    ]);
  });
});

describe('load warnings', () => {
  test("a one-shot `at` in the past never fires: a warning, in the pipeline's timezone", async () => {
    const dir = configDir({
      'past.yaml': pipeline('past', { extra: 'schedule: "at 2026-06-01T13:30"\ntimezone: UTC\n' }),
      // 13:30 in Warsaw (UTC+2 in June) is 11:30 UTC: already past at 12:00 UTC.
      'warsaw.yaml': pipeline('warsaw', {
        extra: 'schedule: "at 2026-06-01T13:30"\ntimezone: Europe/Warsaw\n',
      }),
    });
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.invalid).toEqual([]);
    expect(loaded.valid.find((p) => p.name === 'past')?.warnings).toEqual([]);
    expect(loaded.valid.find((p) => p.name === 'warsaw')?.warnings).toEqual([
      `${join(dir, 'pipelines', 'warsaw.yaml')}:8:11 schedule: "at 2026-06-01T13:30" is in the past (it is 2026-06-01 14:00:00 in Europe/Warsaw): it does not fire; etlctl start warsaw runs it by hand`,
    ]);
  });

  test('a cursor left in mode full is a warning, is dropped from what runs, and need not be a column', async () => {
    const dir = configDir({
      'events.yaml': pipeline('events', {
        load: '{ mode: full, cursor: updated_at, start_from: "2024-01-01" }',
      }).replace('  table: public.orders\n', '  table: public.orders\n  columns: [id, kind]\n'),
    });
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), { checks: CHECKS });
    expect(loaded.invalid).toEqual([]);
    const file = join(dir, 'pipelines', 'events.yaml');
    expect(loaded.valid[0]?.warnings).toEqual([
      `${file}:7:29 load.cursor: ignored in mode full: a full load reads the whole source every run (left over from another mode? remove it, or use mode incremental or merge)`,
      `${file}:7:53 load.start_from: ignored in mode full: a full load reads the whole source every run (left over from another mode? remove it, or use mode incremental or merge)`,
    ]);
    expect(loaded.valid[0]?.config.load).toEqual({
      mode: 'full',
      null_cursor: 'fail',
      open_transactions: 'wait',
    });
  });

  test('secrets the daemon cannot read are named by field and variable or file, never by value', async () => {
    const dir = configDir({
      'orders.yaml': pipeline('orders', {
        connection: '{ host: db1, user: etl, password_env: ORDERS_PW }',
      }).replace(
        /destination: .*/,
        'destination: { type: postgres, connection: { host: dw, password_file: dw.pass }, table: t }',
      ),
      'fine.yaml': pipeline('fine', { connection: '{ host: db1, user: etl, password_env: SET_PW }' }),
    });
    const probe: SecretProbe = {
      envIsSet: (name) => name === 'SET_PW',
      fileProblem: (path) => ({ resolved: `/run/credentials/etld.service/${path}`, problem: 'ENOENT' }),
    };
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: { ...CHECKS, secrets: probe },
    });
    const file = join(dir, 'pipelines', 'orders.yaml');
    expect(loaded.valid.find((p) => p.name === 'orders')?.warnings).toEqual([
      `${file}:4:53 source.connection.password_env: environment variable ORDERS_PW is not set in the daemon's environment: runs fail until it is`,
      `${file}:7:71 destination.connection.password_file: cannot read /run/credentials/etld.service/dw.pass (ENOENT): runs fail until the daemon can`,
    ]);
    expect(loaded.valid.find((p) => p.name === 'fine')?.warnings).toEqual([]);
  });

  test('a shard with its own secret is checked on its own; the shared one only if a shard uses it', async () => {
    const dir = configDir({
      'sharded.yaml': pipeline('sharded', { connection: '{ host: db1, password_env: SHARED_PW }' }).replace(
        '  table: public.orders\n',
        '  table: public.orders\n  shards:\n    - { name: s1, password_env: S1_PW }\n    - { name: s2, password_env: S2_PW }\n',
      ),
    });
    const probe: SecretProbe = {
      envIsSet: (name) => name === 'S1_PW',
      fileProblem: (path) => ({ resolved: path, problem: null }),
    };
    const loaded = await loadPipelineDirectory(join(dir, 'pipelines'), {
      checks: { ...CHECKS, secrets: probe },
    });
    expect(loaded.valid[0]?.warnings).toEqual([
      expect.stringMatching(/:8:33 source\.shards\[1\]\.password_env: environment variable S2_PW is not set/),
    ]);
  });
});
