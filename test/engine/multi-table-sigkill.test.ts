/**
 * A multi-table pipeline across a SIGKILL of the daemon, as operators run it: eight PostgreSQL
 * tables (insert-only incremental, merge with updates, full with deletes, a mixed-case name) into
 * one DuckDB file, two tables at a time. The daemon is killed at each commit failpoint — where
 * some tables have committed and others have not — and at a moment while tables are read; after
 * the restart the run is retried under its sequence and every table must equal its source, each
 * member sequence committed once.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveredRun, runKilled } from '../helpers/daemon-kill.js';
import { makeTempHome, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

let pg: PostgresServer;
let home: TempHome;

interface Table {
  readonly sql: string;
  readonly destination: string;
  readonly kind: 'append' | 'merge' | 'full';
}

const TABLES: readonly Table[] = [
  ...['a', 'b', 'c', 'd'].map((t): Table => ({
    sql: `app.ev_${t}`,
    destination: `app_ev_${t}`,
    kind: 'append',
  })),
  { sql: 'app.acct_a', destination: 'app_acct_a', kind: 'merge' },
  { sql: 'app.acct_b', destination: 'app_acct_b', kind: 'merge' },
  { sql: 'app.ref', destination: 'app_ref', kind: 'full' },
  { sql: 'app."Audit Log"', destination: 'app_Audit_Log', kind: 'append' },
];

/** The next id of each table (every insert takes ids past the last). */
const nextId = new Map<string, number>(TABLES.map((t) => [t.sql, 1]));
/** Cursor values grow with every change, so a run always has something after its watermark. */
let clock = 0;

function insertSql(table: Table, count: number): string {
  const from = nextId.get(table.sql) ?? 1;
  nextId.set(table.sql, from + count);
  const at = ++clock;
  const cursor =
    table.kind === 'full'
      ? ''
      : `, timestamptz '2024-01-01 00:00:00+00' + (${at} * 100000 + g) * interval '1 second'`;
  return `INSERT INTO ${table.sql} SELECT g, 'v${at} ' || g, (g * 0.5)::numeric(12,2)${cursor} FROM generate_series(${from}, ${from + count - 1}) g;`;
}

/** New rows everywhere; merge tables also update old keys, the full table also loses rows. */
function changeSql(rows: number): string {
  const statements = TABLES.map((t) => insertSql(t, rows));
  const at = ++clock;
  for (const t of TABLES.filter((x) => x.kind === 'merge'))
    statements.push(
      `UPDATE ${t.sql} SET label = 'changed ${at}', updated_at = timestamptz '2024-01-01 00:00:00+00' + (${at} * 100000 + id) * interval '1 second' WHERE id % 7 = ${at % 7};`,
    );
  statements.push(`DELETE FROM app.ref WHERE id % 11 = ${at % 11};`);
  return statements.join('\n');
}

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('mt');
  await pg.query(
    [
      'CREATE SCHEMA app;',
      ...TABLES.map(
        (t) =>
          `CREATE TABLE ${t.sql} (id bigint PRIMARY KEY, label text NOT NULL, amount numeric(12,2)${t.kind === 'full' ? '' : ', updated_at timestamptz NOT NULL'});`,
      ),
      // Not selected by the patterns.
      'CREATE TABLE app.scratch_tmp (id bigint PRIMARY KEY);',
      changeSql(20_000),
    ].join('\n'),
    [],
    'mt',
  );
  home = makeTempHome('etld-multi-kill-');
  home.writePipeline(
    'mt.yaml',
    `name: mt
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: mt }
  tables: ['app.*']
  exclude: ['app.*_tmp']
  chunk_rows: 5000
load: { mode: incremental, cursor: updated_at }
tables:
  app.acct_a: { mode: merge }
  app.acct_b: { mode: merge }
  app.ref: { mode: full }
table_parallelism: 2
destination: { type: duckdb, path: mt.duckdb, table: '{schema}_{table}' }
error_handling: { max_retries: 5, retry_delay: 1s, exponential_backoff: false }
`,
  );
}, 120_000);

afterAll(async () => {
  home?.remove();
  await pg?.destroy();
});

async function readDuck<T>(read: (query: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(join(home.dir, 'lake', 'mt.duckdb'), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return await read(async (sql) => (await connection.runAndReadAll(sql)).getRowsJS());
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every destination table equals its source table, row by row; no member sequence committed twice. */
async function expectEveryTableExactlyOnce(): Promise<void> {
  const sources = new Map<string, string[][]>();
  for (const table of TABLES) {
    const rows = await pg.query<{ id_text: string; label: string; amount_text: string }>(
      `SELECT id::text AS id_text, label, amount::text AS amount_text FROM ${table.sql} ORDER BY id`,
      [],
      'mt',
    );
    sources.set(
      table.sql,
      rows.map((r) => [r.id_text, r.label, r.amount_text]),
    );
  }
  await readDuck(async (query) => {
    for (const table of TABLES) {
      const destination = await query(
        `SELECT id::VARCHAR, label, amount::VARCHAR FROM "${table.destination}" ORDER BY id`,
      );
      const source = sources.get(table.sql) ?? [];
      expect(destination.length, `rows of ${table.sql}`).toBe(source.length);
      expect(destination, `content of ${table.sql}`).toEqual(source);
    }
    expect(
      await query(
        'SELECT pipeline, sequence, count(*) FROM _etld_commits GROUP BY pipeline, sequence HAVING count(*) > 1',
      ),
    ).toEqual([]);
    // One commit record per table member, under the member's state name.
    const members = (await query('SELECT DISTINCT pipeline FROM _etld_commits ORDER BY pipeline')).map(
      (r) => r[0],
    );
    expect(members).toEqual(TABLES.map((t) => `mt/${t.sql}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

describe('a multi-table run across a SIGKILL', () => {
  for (const failpoint of ['before-destination-commit', 'after-destination-commit', 'after-state-commit']) {
    it(`every table exactly once when the daemon dies at ${failpoint}`, { timeout: 300_000 }, async () => {
      await pg.query(changeSql(2_000), [], 'mt');
      await runKilled(home, 'mt', { failpoint });
      await recoveredRun(home, 'mt', { runAgain: true, timeoutMs: 120_000 });
      await expectEveryTableExactlyOnce();
    });
  }

  it(
    'every table exactly once when the daemon dies while tables are read',
    { timeout: 300_000 },
    async () => {
      await pg.query(changeSql(30_000), [], 'mt');
      await runKilled(home, 'mt', { afterMs: 2_500 });
      await recoveredRun(home, 'mt', { runAgain: true, timeoutMs: 120_000 });
      await expectEveryTableExactlyOnce();
    },
  );
});
