/**
 * `etlctl test` as an operator runs it: against a spawned etld reading a real PostgreSQL source
 * into DuckDB files. One line per check and a summary, --json (schema 1), exit 0 when nothing
 * failed, 1 when a check failed, 3 when the daemon is down; and nothing was written: the DuckDB
 * file is still absent afterwards and the pipeline has no run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { assertCliBuilt, etlctl } from './cli-harness.js';

let server: PostgresServer;
let home: TempHome;
let daemon: DaemonProcess;

function etl(...args: string[]): ReturnType<typeof etlctl> {
  return etlctl(['--home', home.dir, ...args]);
}

beforeAll(async () => {
  assertCliBuilt();
  server = await startPostgres();
  await server.createDatabase('shop');
  await server.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, note text NOT NULL, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, 'n' || g, now() FROM generate_series(1, 5) g;`,
    [],
    'shop',
  );
  home = makeTempHome('etld-conntest-');
  const connection = `{ host: ${server.host}, port: ${server.port}, user: ${server.user}, database: shop }`;
  const pipeline = (name: string, table: string, cursor: string): string =>
    `name: ${name}\nsource:\n  type: postgres\n  connection: ${connection}\n  table: ${table}\n  key: [id]\n` +
    `load: { mode: incremental, cursor: ${cursor} }\n` +
    `destination: { type: duckdb, path: ${name}.duckdb, table: ${table} }\n`;
  home.writePipeline('orders.yaml', pipeline('orders', 'orders', 'updated_at'));
  home.writePipeline('typo.yaml', pipeline('typo', 'orders', 'updatedat'));
  daemon = spawnDaemon(home.dir);
  await daemon.waitForLine(/etld running/, 60_000);
});

afterAll(async () => {
  await daemon?.stop();
  home?.remove();
  await server?.destroy();
});

describe('etlctl test', () => {
  it('prints one line per check and a summary, exits 0, and writes nothing', async () => {
    const r = await etl('test', 'orders');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^orders: postgres orders → duckdb .*orders\.duckdb table orders \(incremental\); nothing is read or written$/,
    );
    expect(lines.slice(1, -1).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'ok source/default connect',
      'ok source/default table',
      'ok source/default columns',
      'ok source/default cursor_column',
      'ok source/default key_columns',
      'ok source/default select_permission',
      'ok destination destination_connect',
      'ok destination destination_table',
      'ok destination write_permission',
      'ok destination schema',
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok {3}source\/default {2}cursor_column {8}updated_at timestamptz$/),
    );
    expect(lines.at(-1)).toBe('orders can run: 10 ok');
    expect(existsSync(join(home.dir, 'lake', 'orders.duckdb'))).toBe(false);
    const history = await etl('history', 'orders', '--json');
    expect(JSON.parse(history.stdout).runs).toEqual([]);
  });

  it('--json prints the checks as a schema 1 document', async () => {
    const r = await etl('test', 'orders', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schema: 1, pipeline: 'orders', ok: true, mode: 'incremental' });
    expect(doc.checks[0]).toEqual({
      target: 'source',
      shard: 'default',
      check: 'connect',
      status: 'ok',
      detail: `connected to ${server.host}:${server.port} (shard default)`,
      code: null,
      duration_ms: expect.any(Number),
    });
    expect(doc.checks.at(-1)).toMatchObject({ target: 'destination', check: 'schema', status: 'ok' });
    expect(doc.checks.at(-1)).not.toHaveProperty('shard');
  });

  it('a failed check prints FAIL with the column named and exits 1; --json says ok: false', async () => {
    const r = await etl('test', 'typo');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /\nFAIL source\/default {2}cursor_column\s+cursor column "updatedat" is not among the extracted columns \(id, note, updated_at\)\n/,
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('typo cannot run as configured: 9 ok, 1 failed');
    const json = await etl('test', 'typo', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
  });

  it('an unknown pipeline is NOT_FOUND (exit 1); a daemon that is down exits 3', async () => {
    const unknown = await etl('test', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no pipeline named "nope"');
    const down = await etlctl(['--home', join(home.dir, 'elsewhere'), 'test', 'orders']);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/etld/);
  });
});
