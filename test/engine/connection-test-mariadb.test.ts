/**
 * `etlctl test` at the engine on a real MariaDB source into DuckDB files: all ok on a fresh file
 * (which is not created), an existing file opened read-only (table present or not), a MariaDB
 * user without SELECT, and a DuckDB path whose directory cannot be created.
 *
 * Tests run as root, for whom access(2) grants writing into a 0555 directory (root may), so an
 * unwritable directory is made the one way root cannot write either: the path's parent is a
 * regular file (ENOTDIR), which the check names.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionCheck, ConnectionTest } from '../../shared/protocol.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { createHarness, type Harness } from './engine-harness.js';

let maria: MariaDbServer;
let h: Harness;

beforeAll(async () => {
  maria = await startMariaDb();
  await maria.createDatabase('shop');
  await maria.query(
    'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, changed_at DATETIME(3) NOT NULL)',
    [],
    'shop',
  );
  await maria.query(
    "INSERT INTO items VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00')",
    [],
    'shop',
  );
  // A user who may use the database (SELECT on another table) but not read items.
  await maria.query('CREATE TABLE other (id INT)', [], 'shop');
  await maria.query("CREATE USER 'outsider'@'%'", [], 'shop');
  await maria.query("GRANT SELECT ON shop.other TO 'outsider'@'%'", [], 'shop');
});
afterAll(async () => {
  await maria?.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

function pipeline(path: string, user = maria.user): ReturnType<Harness['pipeline']> {
  return h.pipeline({
    name: 'items',
    source: {
      type: 'mysql',
      connection: { host: maria.host, port: maria.port, user, database: 'shop' },
      table: 'items',
      key: ['id'],
    },
    load: { mode: 'merge', cursor: 'changed_at' },
    destination: { type: 'duckdb', path, table: 'items' },
  });
}

function check(
  result: ConnectionTest,
  id: string,
  target: 'source' | 'destination' = 'source',
): ConnectionCheck {
  const found = result.checks.find((c) => c.check === id && c.target === target);
  if (found === undefined) throw new Error(`no ${target} check ${id} in ${JSON.stringify(result.checks)}`);
  return found;
}

describe('testConnections on a MariaDB source into DuckDB', () => {
  it('a fresh pipeline: every check ok, and the DuckDB file and its directory are not created', async () => {
    const result = await h.engine.testConnections(pipeline('new/dir/items.duckdb'));
    expect(result.ok, JSON.stringify(result.checks)).toBe(true);
    expect(result.checks.map((c) => `${c.target}:${c.check}:${c.status}`)).toEqual([
      'source:connect:ok',
      'source:table:ok',
      'source:columns:ok',
      'source:cursor_column:ok',
      'source:key_columns:ok',
      'source:select_permission:ok',
      'destination:destination_connect:ok',
      'destination:destination_table:ok',
      'destination:write_permission:ok',
      'destination:schema:ok',
    ]);
    expect(check(result, 'columns').detail).toBe('id int32, name text, changed_at timestamp');
    expect(check(result, 'write_permission', 'destination').detail).toBe(
      `${join(h.lakeDir, 'new/dir')} does not exist; ${h.dir} is writable, so the first run creates it`,
    );
    expect(existsSync(join(h.lakeDir))).toBe(false);
  });

  it('an existing file opens read-only: after a run the table is reported present and the schema unchanged', async () => {
    const p = pipeline('items.duckdb');
    await h.run(p);
    const result = await h.engine.testConnections(p);
    expect(result.ok).toBe(true);
    expect(check(result, 'destination_connect', 'destination').detail).toBe(
      `${join(h.lakeDir, 'items.duckdb')} opens read-only`,
    );
    expect(check(result, 'destination_table', 'destination').detail).toBe(
      'table main.items exists (6 column(s))',
    );
    expect(check(result, 'schema', 'destination').detail).toBe('the table has the 6 column(s) a run loads');
    const rows = await h.duck('items.duckdb', 'SELECT count(*)::INTEGER FROM items');
    expect(rows).toEqual([[2]]);
  });

  it('a MariaDB user without SELECT on the table: select_permission fails naming it', async () => {
    const result = await h.engine.testConnections(pipeline('items.duckdb', 'outsider'));
    expect(result.ok).toBe(false);
    expect(check(result, 'connect').status).toBe('ok');
    expect(check(result, 'table').status).toBe('skipped');
    const select = check(result, 'select_permission');
    expect(select).toMatchObject({ status: 'failed', code: 'SOURCE_PERMISSION' });
    expect(select.detail).toMatch(/SELECT command denied to user 'outsider'.* for table .*items/);
    expect(result.checks.filter((c) => c.status === 'failed')).toHaveLength(1);
    expect(check(result, 'destination_table', 'destination').status).toBe('ok');
  });

  it('a DuckDB path under a regular file: write_permission fails naming it (root cannot write there either)', async () => {
    mkdirSync(h.lakeDir, { recursive: true });
    writeFileSync(join(h.lakeDir, 'not-a-dir'), 'x');
    const result = await h.engine.testConnections(pipeline('not-a-dir/items.duckdb'));
    expect(result.ok).toBe(false);
    const write = check(result, 'write_permission', 'destination');
    expect(write).toMatchObject({ status: 'failed', code: 'DESTINATION_PERMISSION' });
    expect(write.detail).toBe(
      `${join(h.lakeDir, 'not-a-dir')} is not a directory, so ${join(h.lakeDir, 'not-a-dir')} cannot be created (a commit writes ${join(h.lakeDir, 'not-a-dir', 'items.duckdb')} and its WAL there)`,
    );
    expect(check(result, 'select_permission').status).toBe('ok');
  });
});
