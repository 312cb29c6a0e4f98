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
import { startMariaDb, type MariaDbServer } from '../helpers/mariadb-server.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness, runError } from './engine-harness.js';

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

/** The tables of each PostgreSQL shard: [SQL name, formatted name, {table} as an identifier]. */
const SHARD_TABLES = [
  { sql: 'public.orders', label: 'public.orders', table: 'orders' },
  { sql: 'public.order_lines', label: 'public.order_lines', table: 'order_lines' },
  { sql: '"Sales"."Returns"', label: '"Sales"."Returns"', table: 'Returns' },
] as const;
const SHARDS = ['east', 'west'] as const;
type ShardName = (typeof SHARDS)[number];

/** Rows from..to of every table, labelled with their shard (ids overlap between shards). */
function shardInsert(shard: ShardName, from: number, to: number): string {
  return SHARD_TABLES.map(
    (t) =>
      `INSERT INTO ${t.sql} (id, line, label, updated_at) SELECT g, g % 4, '${shard} ' || g || ' of ${t.table}', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(${from}, ${to}) g;`,
  ).join('\n');
}

async function shardDatabase(shard: ShardName, rows: number): Promise<string> {
  return newPgDatabase(
    [
      'CREATE SCHEMA "Sales";',
      ...SHARD_TABLES.map(
        (t) =>
          `CREATE TABLE ${t.sql} (id bigint NOT NULL, line int NOT NULL, label text, updated_at timestamptz NOT NULL, PRIMARY KEY (${t.table === 'order_lines' ? 'id, line' : 'id'}));`,
      ),
      shardInsert(shard, 1, rows),
    ].join('\n'),
  );
}

/** Each shard's destination table equals that shard's source table, row by row. */
async function expectShardsReplicated(file: string, databases: Record<ShardName, string>): Promise<void> {
  for (const shard of SHARDS) {
    for (const t of SHARD_TABLES) {
      const source = await pg.query<{ r: string }>(
        `SELECT concat_ws('|', id, line, label, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')) AS r FROM ${t.sql} ORDER BY id, line`,
        [],
        databases[shard],
      );
      const destination = await h.duck(
        file,
        `SELECT concat_ws('|', id, line, label, strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')), _etl_shard FROM "${shard}_${t.table}" ORDER BY id, line`,
      );
      expect(destination.length, `rows of ${shard}/${t.label}`).toBe(source.length);
      expect(
        destination.map((r) => r[0]),
        `content of ${shard}/${t.label}`,
      ).toEqual(source.map((r) => r.r));
      expect(new Set(destination.map((r) => r[1])), `_etl_shard of ${shard}/${t.label}`).toEqual(
        new Set(destination.length === 0 ? [] : [shard]),
      );
    }
  }
}

describe('a sharded source with {shard} in the destination template', () => {
  it("loads each shard's table into its own destination table as its own exactly-once member", async () => {
    const databases: Record<ShardName, string> = {
      east: await shardDatabase('east', 40),
      west: await shardDatabase('west', 25),
    };
    const pipeline = h.pipeline({
      name: 'fleet',
      source: {
        type: 'postgres',
        connection: pgConnection(pg, databases.east),
        shards: SHARDS.map((name) => ({ name, database: databases[name] })),
        tables: ['public.order*', '"Sales".*'],
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'fleet.duckdb', table: '{shard}_{table}' },
    });
    const labels = SHARD_TABLES.flatMap((t) => SHARDS.map((shard) => `${shard}/${t.label}`));

    const plan = await h.engine.plan(pipeline);
    expect(plan.tables?.filter((t) => t.problem !== null)).toEqual([]);
    expect(plan.tables?.map((t) => [t.state_name, t.table, t.destination]).sort()).toEqual(
      SHARD_TABLES.flatMap((t) =>
        SHARDS.map((shard) => [`fleet/${shard}/${t.label}`, t.label, `fleet.duckdb:${shard}_${t.table}`]),
      ).sort(),
    );

    const first = await h.run(pipeline);
    expect(first.rowsLoaded).toBe(3 * (40 + 25));
    const firstTables = h.store.listRunTables('fleet', first.sequence);
    expect(
      firstTables.map((t) => [t.table, t.member, t.status, t.memberSequence, t.rowsLoaded]).sort(),
    ).toEqual(
      SHARD_TABLES.flatMap((t) =>
        SHARDS.map((shard) => [
          `${shard}/${t.label}`,
          `fleet/${shard}/${t.label}`,
          'succeeded',
          1,
          shard === 'east' ? 40 : 25,
        ]),
      ).sort(),
    );
    // Each shard's table is a run of its own with its own watermark, under `<pipeline>/<shard>/<table>`.
    for (const label of labels) {
      expect(h.store.listRuns(`fleet/${label}`, 10).map((r) => [r.sequence, r.status])).toEqual([
        [1, 'succeeded'],
      ]);
    }
    expect(h.store.getWatermarks('fleet/east/public.orders').map((w) => w.value)).toHaveLength(1);
    expect(h.store.listRuns('fleet/public.orders', 10)).toEqual([]);
    await expectShardsReplicated('fleet.duckdb', databases);

    // New rows on west only: east's members load nothing, west's load just those.
    await pg.query(shardInsert('west', 26, 31), [], databases.west);
    const second = await h.run(pipeline);
    expect(second.rowsLoaded).toBe(3 * 6);
    const secondTables = new Map(h.store.listRunTables('fleet', second.sequence).map((t) => [t.table, t]));
    expect(secondTables.get('east/public.orders')).toMatchObject({ rowsLoaded: 0, memberSequence: 2 });
    expect(secondTables.get('west/"Sales"."Returns"')).toMatchObject({ rowsLoaded: 6, memberSequence: 2 });
    await expectShardsReplicated('fleet.duckdb', databases);

    // Retries of the committed run: nothing loads twice, even a member whose ledger row was lost
    // after its destination commit (as in a crash).
    await h.run(pipeline, { sequence: second.sequence, attempt: 2 });
    const west = secondTables.get('west/public.order_lines');
    if (west === undefined) throw new Error('no ledger row of west/public.order_lines');
    h.store.upsertRunTable('fleet', second.sequence, west.table, west.member, {
      status: 'failed',
      errorCode: 'SOURCE_CONNECTION',
      errorMessage: 'simulated crash after the destination commit',
      retryable: true,
    });
    await h.run(pipeline, { sequence: second.sequence, attempt: 3 });
    expect(h.store.listRunTables('fleet', second.sequence).find((t) => t.table === west.table)).toMatchObject(
      { status: 'succeeded', attempts: 2, memberSequence: 2 },
    );
    expect(
      h.store
        .listRuns('fleet/west/public.order_lines', 10)
        .map((r) => [r.sequence, r.attempt])
        .sort(),
    ).toEqual([
      [1, 1],
      [2, 1],
      [2, 2],
    ]);
    expect(h.store.listRuns('fleet/east/public.order_lines', 10)).toHaveLength(2);
    await expectShardsReplicated('fleet.duckdb', databases);
    expect(
      await h.duck(
        'fleet.duckdb',
        'SELECT count(*)::INTEGER, count(DISTINCT (id, line))::INTEGER FROM west_order_lines',
      ),
    ).toEqual([[31, 31]]);
  }, 300_000);

  it('without {shard}, loads every shard of a table into one destination table with _etl_shard', async () => {
    const databases: Record<ShardName, string> = {
      east: await shardDatabase('east', 12),
      west: await shardDatabase('west', 9),
    };
    const pipeline = h.pipeline({
      name: 'merged',
      source: {
        type: 'postgres',
        connection: pgConnection(pg, databases.east),
        shards: SHARDS.map((name) => ({ name, database: databases[name] })),
        tables: ['public.orders', '"Sales"."Returns"'],
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'merged.duckdb', table: 'all_{table}' },
    });
    const plan = await h.engine.plan(pipeline);
    expect(plan.tables?.map((t) => [t.state_name, t.destination, t.problem])).toEqual([
      ['merged/"Sales"."Returns"', 'merged.duckdb:all_Returns', null],
      ['merged/public.orders', 'merged.duckdb:all_orders', null],
    ]);
    const run = await h.run(pipeline);
    expect(run.rowsLoaded).toBe(2 * (12 + 9));
    expect(
      await h.duck(
        'merged.duckdb',
        'SELECT _etl_shard, count(*)::INTEGER, count(DISTINCT id)::INTEGER FROM all_orders GROUP BY 1 ORDER BY 1',
      ),
    ).toEqual([
      ['east', 12, 12],
      ['west', 9, 9],
    ]);
    expect(h.store.listRuns('merged/public.orders', 10)).toHaveLength(1);
  }, 120_000);
});

describe('templates that give two tables one destination', () => {
  /** Plan and run both refuse every colliding table, naming the others; nothing is written. */
  async function expectRefused(
    pipeline: ReturnType<Harness['pipeline']>,
    file: string,
    refused: Record<string, string>,
  ): Promise<void> {
    const plan = await h.engine.plan(pipeline);
    expect(Object.fromEntries(plan.tables?.map((t) => [t.state_name, t.problem]) ?? [])).toEqual(refused);
    const error = await runError(h, pipeline);
    expect(error.code).toBe('TABLES_FAILED');
    expect(error.retryable).toBe(false);
    const count = Object.keys(refused).length;
    expect(error.message).toContain(`${count} of ${count} tables did not load`);
    const rows = h.store.listRunTables(pipeline.name, 1);
    expect(Object.fromEntries(rows.map((r) => [r.member, [r.status, r.errorMessage]]))).toEqual(
      Object.fromEntries(Object.entries(refused).map(([member, problem]) => [member, ['refused', problem]])),
    );
    for (const member of Object.keys(refused)) {
      expect(error.message).toContain(refused[member]);
      expect(h.store.listRuns(member, 10), `runs of ${member}`).toEqual([]);
      expect(h.store.getWatermarks(member)).toEqual([]);
    }
    expect(existsSync(join(h.lakeDir, file)), `${file} written`).toBe(false);
  }

  it('refuses sales.orders and public.orders rendered by {table} alone', async () => {
    const database = await newPgDatabase(`
      CREATE SCHEMA sales;
      CREATE TABLE public.orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      CREATE TABLE sales.orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      INSERT INTO public.orders SELECT g, now() FROM generate_series(1, 5) g;
      INSERT INTO sales.orders SELECT g, now() FROM generate_series(1, 7) g;`);
    const pipeline = h.pipeline({
      name: 'clash',
      source: { type: 'postgres', connection: pgConnection(pg, database), tables: ['*.orders'] },
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'clash.duckdb', table: '{table}' },
    });
    const both = 'public.orders, sales.orders the same destination clash.duckdb:orders';
    await expectRefused(pipeline, 'clash.duckdb', {
      'clash/public.orders': `table public.orders: the destination template gives ${both}`,
      'clash/sales.orders': `table sales.orders: the destination template gives ${both}`,
    });
  });

  it('refuses MariaDB tables whose names differ only in case for DuckDB, whose names ignore case', async () => {
    const database = await newMariaDatabase(
      'CREATE TABLE `OrderLines` (id INT PRIMARY KEY, label TEXT)',
      'CREATE TABLE `orderlines` (id INT PRIMARY KEY, label TEXT)',
      "INSERT INTO `OrderLines` VALUES (1, 'mixed'), (2, 'mixed')",
      "INSERT INTO `orderlines` VALUES (1, 'lower')",
    );
    const source = {
      type: 'mysql',
      connection: { host: maria.host, port: maria.port, user: maria.user, database },
      tables: ['*'],
    };
    // Full loads: before the refusal, each run's second table silently replaced the first's rows.
    const pipeline = h.pipeline({
      name: 'cased',
      source,
      load: { mode: 'full' },
      destination: { type: 'duckdb', path: 'cased.duckdb', table: 'm_{table}' },
    });
    const both = `${database}.OrderLines, ${database}.orderlines one destination: cased.duckdb:m_OrderLines, cased.duckdb:m_orderlines (DuckDB table names ignore case)`;
    await expectRefused(pipeline, 'cased.duckdb', {
      [`cased/${database}.OrderLines`]: `table ${database}.OrderLines: the destination template gives ${both}`,
      [`cased/${database}.orderlines`]: `table ${database}.orderlines: the destination template gives ${both}`,
    });

    // PostgreSQL quotes the names it creates: there they are two tables, and both load.
    const target = await newPgDatabase('SELECT 1;');
    const toPostgres = h.pipeline({
      name: 'cased_pg',
      source,
      load: { mode: 'full' },
      destination: { type: 'postgres', connection: pgConnection(pg, target), table: 'm_{table}' },
    });
    expect((await h.engine.plan(toPostgres)).tables?.map((t) => [t.destination, t.problem])).toEqual([
      ['m_OrderLines', null],
      ['m_orderlines', null],
    ]);
    expect(await h.run(toPostgres)).toMatchObject({ rowsLoaded: 3 });
    expect(
      await pg.query<{ label: string; n: number }>(
        `SELECT label, count(*)::int AS n FROM "m_OrderLines" GROUP BY label UNION ALL SELECT label, count(*)::int FROM m_orderlines GROUP BY label`,
        [],
        target,
      ),
    ).toEqual([
      { label: 'mixed', n: 2 },
      { label: 'lower', n: 1 },
    ]);
  });

  it('refuses shards whose names render alike in {shard}, naming each shard', async () => {
    const seed = `CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      INSERT INTO orders SELECT g, now() FROM generate_series(1, 3) g;`;
    const [first, second] = [await newPgDatabase(seed), await newPgDatabase(seed)];
    const pipeline = h.pipeline({
      name: 'alike',
      source: {
        type: 'postgres',
        connection: pgConnection(pg, first),
        shards: [
          { name: 'eu-1', database: first },
          { name: 'eu_1', database: second },
        ],
        tables: ['orders'],
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'alike.duckdb', table: '{shard}_{table}' },
    });
    const both = 'eu-1/public.orders, eu_1/public.orders the same destination alike.duckdb:eu_1_orders';
    await expectRefused(pipeline, 'alike.duckdb', {
      'alike/eu-1/public.orders': `table public.orders: the destination template gives ${both}`,
      'alike/eu_1/public.orders': `table public.orders: the destination template gives ${both}`,
    });
  });
});

describe('a multi-table pipeline into PostgreSQL', () => {
  it('commits the first runs of several tables of one schema at once', async () => {
    const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const database = await newMariaDatabase(
      ...names.map((t) => `CREATE TABLE ${t} (id INT PRIMARY KEY, label TEXT)`),
      ...names.map((t, i) => `INSERT INTO ${t} SELECT seq, '${t}' FROM seq_1_to_${i + 2}`),
    );
    const target = await newPgDatabase('SELECT 1;');
    const pipeline = h.pipeline({
      name: 'many_pg',
      source: {
        type: 'mysql',
        connection: { host: maria.host, port: maria.port, user: maria.user, database },
        tables: ['a?'],
      },
      load: { mode: 'full' },
      table_parallelism: names.length,
      destination: { type: 'postgres', connection: pgConnection(pg, target), table: 'p_{table}' },
    });
    // Every table's first commit creates _etld_commits if it is missing: one at a time.
    expect(await h.run(pipeline)).toMatchObject({ rowsLoaded: 2 + 3 + 4 + 5 + 6 + 7 });
    expect(await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM _etld_commits', [], target)).toEqual(
      [{ n: names.length }],
    );
  });
});

describe('a MariaDB server whose table names ignore case (lower_case_table_names = 1)', () => {
  let folding: MariaDbServer;
  beforeAll(async () => {
    folding = await startMariaDb(['--lower-case-table-names=1']);
  }, 120_000);
  afterAll(async () => {
    await folding.destroy();
  });

  // The server stores `OrderLines` as `orderlines` and resolves any spelling to it, as
  // `source.table: OrderLines` does: patterns, literal names and `tables:` keys match the same way.
  it('selects tables by names and patterns written in any case, as the server resolves them', async () => {
    expect((await folding.query('SELECT @@lower_case_table_names AS v'))[0]?.v).toBe(1);
    await folding.createDatabase('ShopDb');
    await folding.query(
      'CREATE TABLE `OrderLines` (id INT PRIMARY KEY, label TEXT, updated_at DATETIME(6) NOT NULL)',
      [],
      'ShopDb',
    );
    await folding.query('CREATE TABLE `Countries` (id INT PRIMARY KEY, label TEXT)', [], 'ShopDb');
    await folding.query(
      "INSERT INTO `OrderLines` VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02')",
      [],
      'ShopDb',
    );
    await folding.query("INSERT INTO `Countries` VALUES (1, 'x')", [], 'ShopDb');
    const connection = { host: folding.host, port: folding.port, user: folding.user, database: 'ShopDb' };
    const single = h.pipeline({
      name: 'single',
      source: { type: 'mysql', connection, table: 'OrderLines' },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'folding.duckdb', table: 'single' },
    });
    expect(await h.run(single)).toMatchObject({ rowsLoaded: 2 });

    const pipeline = h.pipeline({
      name: 'folding',
      source: { type: 'mysql', connection, tables: ['OrderLines', 'Count*'] },
      load: { mode: 'incremental', cursor: 'updated_at' },
      tables: { Countries: { mode: 'full' } },
      destination: { type: 'duckdb', path: 'folding.duckdb', table: 'f_{table}' },
    });
    const plan = await h.engine.plan(pipeline);
    expect(plan.notes).toEqual(['2 table(s) selected by source.tables']);
    expect(plan.tables?.map((t) => [t.table, t.problem])).toEqual([
      ['shopdb.countries', null],
      ['shopdb.orderlines', null],
    ]);
    expect(await h.run(pipeline)).toMatchObject({ rowsLoaded: 3 });
  });
});
