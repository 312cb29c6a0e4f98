/**
 * Multi-table pipelines beyond PostgreSQL → DuckDB (multi-table.test.ts):
 *
 * A. A real MariaDB source: mixed-case names, names that need backticks (a space, a dash), a
 *    composite primary key, a table without the cursor column loaded `full` by its `tables:` entry;
 *    `*`, `?`, backtick-quoted and excluded patterns. Plan, first run, incremental run and the retry
 *    of a committed sequence, each destination table compared row by row with its source.
 * B. A sharded PostgreSQL source (two databases) with `{shard}` in the template: each shard's table
 *    is its own destination table and its own exactly-once member `<pipeline>/<shard>/<table>`.
 * C. Templates that give two tables one destination are refused, naming both, by plan and by a run,
 *    and nothing is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../shared/config/pipeline-schema.js';
import { EtlError } from '../../shared/errors.js';
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness } from './engine-harness.js';

let maria: MariaDbServer;
let pg: PostgresServer;
let h: Harness;
let mariaDatabases = 0;
const newPgDatabase = databaseFactory(() => pg, 'mtshard');

beforeAll(async () => {
  [maria, pg] = await Promise.all([startMariaDb(), startPostgres()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([maria.destroy(), pg.destroy()]);
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

/** A fresh MariaDB database holding `statements` (run one by one). */
async function newMariaDatabase(...statements: string[]): Promise<string> {
  const name = `mtshop${++mariaDatabases}`;
  await maria.createDatabase(name);
  for (const sql of statements) await maria.query(sql, [], name);
  return name;
}

async function runFailure(
  pipeline: ReturnType<Harness['pipeline']>,
  options: Parameters<Harness['run']>[1] = {},
): Promise<EtlError> {
  const error = await h.run(pipeline, options).then(
    () => new Error('the run succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EtlError);
  return error as EtlError;
}

/** One MariaDB table of part A: how SQL names it, how etld names it, where it lands. */
interface MariaTable {
  /** The name inside backticks in SQL. */
  readonly name: string;
  /** As etld formats it (`<database>.<name>`, backticks where needed): filled in per database. */
  readonly label: (database: string) => string;
  /** The DuckDB table ({table} rendered as an identifier). */
  readonly destination: string;
  /** Key columns: the ORDER BY of the comparison. */
  readonly key: readonly string[];
  readonly cursor: boolean;
}

const plain = (database: string, name: string): string => `${database}.${name}`;
const ticked = (database: string, name: string): string => `${database}.\`${name}\``;

const MARIA_TABLES: readonly MariaTable[] = [
  {
    name: 'OrderLines',
    label: (d) => plain(d, 'OrderLines'),
    destination: 'm_OrderLines',
    key: ['order_id', 'line'],
    cursor: true,
  },
  {
    name: 'order items',
    label: (d) => ticked(d, 'order items'),
    destination: 'm_order_items',
    key: ['id'],
    cursor: true,
  },
  {
    name: 'order-log',
    label: (d) => ticked(d, 'order-log'),
    destination: 'm_order_log',
    key: ['id'],
    cursor: true,
  },
  {
    name: 'customers',
    label: (d) => plain(d, 'customers'),
    destination: 'm_customers',
    key: ['id'],
    cursor: true,
  },
  {
    name: 'customars',
    label: (d) => plain(d, 'customars'),
    destination: 'm_customars',
    key: ['id'],
    cursor: true,
  },
  {
    name: 'countries',
    label: (d) => plain(d, 'countries'),
    destination: 'm_countries',
    key: ['id'],
    cursor: false,
  },
];

function mariaCreate(table: MariaTable): string {
  const keyColumns = table.key.length === 2 ? 'order_id INT NOT NULL, line INT NOT NULL' : 'id INT NOT NULL';
  const cursor = table.cursor ? ', updated_at DATETIME(6) NOT NULL' : '';
  return `CREATE TABLE \`${table.name}\` (${keyColumns}, label VARCHAR(200), amount DECIMAL(12,2)${cursor}, PRIMARY KEY (${table.key.join(', ')}))`;
}

/** Rows from..to; the cursor grows with the row number, so later inserts are past every watermark. */
function mariaInsert(table: MariaTable, from: number, to: number): string {
  const keyValues = table.key.length === 2 ? 'seq DIV 3, seq MOD 3' : 'seq';
  const cursor = table.cursor ? ", TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE" : '';
  const label = `CONCAT('${table.name} #', seq, IF(seq MOD 7 = 0, ' "quoted", \`ticked\`', ''))`;
  return `INSERT INTO \`${table.name}\` SELECT ${keyValues}, ${label}, seq * 1.25${cursor} FROM seq_${from}_to_${to}`;
}

/** Every destination table equals its source table, row by row (key, label, amount, cursor). */
async function expectMariaReplicated(database: string, tables: readonly MariaTable[]): Promise<void> {
  for (const table of tables) {
    const order = table.key.join(', ');
    const cursor = table.cursor ? 'updated_at' : 'NULL';
    const source = await maria.query(
      `SELECT CONCAT_WS('|', ${order}, label, amount, ${table.cursor ? "DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s')" : "'-'"}) AS r FROM \`${table.name}\` ORDER BY ${order}`,
      [],
      database,
    );
    const destination = await h.duck(
      'maria.duckdb',
      `SELECT concat_ws('|', ${order}, label, amount, ${table.cursor ? `strftime(${cursor}, '%Y-%m-%d %H:%M:%S')` : "'-'"}) FROM "${table.destination}" ORDER BY ${order}`,
    );
    expect(destination.length, `rows of ${table.name}`).toBe(source.length);
    expect(
      destination.map((r) => r[0]),
      `content of ${table.name}`,
    ).toEqual(source.map((r) => r.r));
  }
}

describe('a MariaDB database as one multi-table pipeline', () => {
  it('selects by *, ? and quoted patterns with exclusions, loads each table exactly once, incrementally', async () => {
    // The throwaway server runs on Linux without options: table names are case-sensitive
    // (lower_case_table_names = 0), so `OrderLines` and `orderlines` are two tables, the catalog
    // spells each as created, and a pattern matches the spelling exactly.
    const lowerCaseNames = Number((await maria.query('SELECT @@lower_case_table_names AS v'))[0]?.v);
    expect(lowerCaseNames, 'lower_case_table_names of the test server').toBe(0);
    const database = await newMariaDatabase(
      ...MARIA_TABLES.map(mariaCreate),
      ...MARIA_TABLES.map((t, i) => mariaInsert(t, 1, 30 + i * 11)),
      // Not selected: excluded by pattern, matched by no pattern (`Order*` is not `order*`), a view.
      'CREATE TABLE tmp_scratch (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)',
      'CREATE TABLE customers_old (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)',
      'CREATE TABLE orderlines (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)',
      'CREATE TABLE audit (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)',
      'CREATE VIEW order_view AS SELECT id FROM `order items`',
    );
    const pipeline = h.pipeline({
      name: 'mshop',
      source: {
        type: 'mysql',
        connection: { host: maria.host, port: maria.port, user: maria.user, database },
        tables: ['Order*', '`order items`', '`order-???`', 'custom?rs', 'countries', 'tmp_*'],
        exclude: ['tmp_*'],
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      tables: { countries: { mode: 'full' } },
      destination: { type: 'duckdb', path: 'maria.duckdb', table: 'm_{table}' },
    });

    const plan = await h.engine.plan(pipeline);
    // In the catalog's order (code units of the names as the catalog spells them), formatted.
    expect(plan.tables?.map((t) => t.table)).toEqual(
      [...MARIA_TABLES].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => t.label(database)),
    );
    expect(plan.tables?.filter((t) => t.problem !== null)).toEqual([]);
    expect(plan.tables?.map((t) => [t.table, t.destination, t.state_name])).toContainEqual([
      `${database}.\`order items\``,
      'maria.duckdb:m_order_items',
      `mshop/${database}.\`order items\``,
    ]);

    const first = await h.run(pipeline);
    expect(first.verdict).toBe('match');
    expect(first.rowsLoaded).toBe(MARIA_TABLES.reduce((sum, _, i) => sum + 30 + i * 11, 0));
    const firstTables = h.store.listRunTables('mshop', first.sequence);
    expect(firstTables.map((t) => [t.table, t.status, t.memberSequence]).sort()).toEqual(
      MARIA_TABLES.map((t) => [t.label(database), 'succeeded', 1]).sort(),
    );
    await expectMariaReplicated(database, MARIA_TABLES);
    expect(h.store.listRuns(`mshop/${database}.\`order-log\``, 10).map((r) => r.status)).toEqual([
      'succeeded',
    ]);

    // New rows everywhere: the incremental tables load only them, countries (full) reloads whole.
    const before = MARIA_TABLES.map((_, i) => 30 + i * 11);
    await maria.query(
      MARIA_TABLES.map((t, i) => mariaInsert(t, (before[i] ?? 0) + 1, (before[i] ?? 0) + 4 + i)).join(';\n'),
      [],
      database,
    );
    const second = await h.run(pipeline);
    const countriesRows = (before[MARIA_TABLES.length - 1] ?? 0) + 4 + MARIA_TABLES.length - 1;
    const newRows = MARIA_TABLES.slice(0, -1).reduce((sum, _, i) => sum + 4 + i, 0);
    expect(second.rowsLoaded).toBe(newRows + countriesRows);
    const secondTables = new Map(h.store.listRunTables('mshop', second.sequence).map((t) => [t.table, t]));
    expect([...secondTables.values()].every((t) => t.status === 'succeeded' && t.memberSequence === 2)).toBe(
      true,
    );
    expect(secondTables.get(`${database}.OrderLines`)?.rowsLoaded).toBe(4);
    expect(secondTables.get(`${database}.countries`)?.rowsLoaded).toBe(countriesRows);
    await expectMariaReplicated(database, MARIA_TABLES);

    // A retry of the committed run loads nothing again.
    await h.run(pipeline, { sequence: second.sequence, attempt: 2 });
    await expectMariaReplicated(database, MARIA_TABLES);
    // As after a crash between a table's destination commit and its ledger row: the retry runs that
    // table again under its sequence, finds its commit in the destination and adds nothing.
    const lines = secondTables.get(`${database}.OrderLines`);
    if (lines === undefined) throw new Error('no ledger row of OrderLines');
    h.store.upsertRunTable('mshop', second.sequence, lines.table, lines.member, {
      status: 'failed',
      errorCode: 'SOURCE_CONNECTION',
      errorMessage: 'simulated crash after the destination commit',
      retryable: true,
    });
    await h.run(pipeline, { sequence: second.sequence, attempt: 3 });
    const retried = h.store.listRunTables('mshop', second.sequence).find((t) => t.table === lines.table);
    expect(retried).toMatchObject({ status: 'succeeded', memberSequence: 2, attempts: 2 });
    expect(
      h.store
        .listRuns(lines.member, 10)
        .map((r) => [r.sequence, r.attempt, r.status])
        .sort(),
    ).toEqual([
      [1, 1, 'succeeded'],
      [2, 1, 'succeeded'],
      [2, 2, 'succeeded'],
    ]);
    await expectMariaReplicated(database, MARIA_TABLES);
    expect(
      await h.duck(
        'maria.duckdb',
        'SELECT count(*)::INTEGER, count(DISTINCT (order_id, line))::INTEGER FROM "m_OrderLines"',
      ),
    ).toEqual([[34, 34]]);
  }, 300_000);

  it('takes backticks in patterns, not double quotes', () => {
    const config = (tables: string[]): unknown => ({
      name: 'quotes',
      source: { type: 'mysql', connection: { host: 'localhost', database: 'shop' }, tables },
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'q.duckdb', table: '{table}' },
    });
    expect(pipelineSchema.safeParse(config(['`order items`', 'shop.`Order*`'])).success).toBe(true);
    const refused = pipelineSchema.safeParse(config(['"order items"']));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['source.tables.0', expect.stringContaining('has a stray ": quote the whole part (`name`)')],
    ]);
  });
});

void existsSync;
void join;
void newPgDatabase;
void pgConnection;
void runFailure;
