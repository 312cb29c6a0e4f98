/**
 * Multi-table pipelines against real PostgreSQL into DuckDB: a schema of 30 tables with different
 * keys, cursors and types (composite keys, no primary key, no cursor column, mixed-case and quoted
 * names, a name with a dot) is replicated by one pipeline file, each table exactly once on its own.
 * Between runs a table is added, one dropped, a column added to one; one table fails (its SELECT
 * permission revoked) while the others commit, then a retry of the run loads only that table.
 * After every run each destination table is compared row by row with its source table.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FailpointName } from '../../daemon/engine/engine.js';
import { EtlError } from '../../shared/errors.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness, runError } from './engine-harness.js';

let pg: PostgresServer;
let h: Harness;
const newDatabase = databaseFactory(() => pg, 'multi');

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

/** The source tables: [qualified SQL name, destination name, key columns, has updated_at]. */
interface SourceTable {
  readonly sql: string;
  readonly label: string;
  readonly destination: string;
  readonly cursor: boolean;
}

const PLAIN = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
const EXTRA_TYPES = ['date', 'jsonb', 'boolean', 'bytea', 'double precision', 'uuid', 'bigint[]', 'smallint'];
const EXTRA_VALUE: Record<string, string> = {
  date: `date '2024-01-01' + g`,
  jsonb: `jsonb_build_object('n', g)`,
  boolean: `g % 2 = 0`,
  bytea: `decode(lpad(to_hex(g), 8, '0'), 'hex')`,
  'double precision': `g / 7.0`,
  uuid: `md5(g::text)::uuid`,
  'bigint[]': `ARRAY[g, g + 1]`,
  smallint: `(g % 100)::smallint`,
};

function tablesOf(): SourceTable[] {
  return [
    ...PLAIN.map((t) => ({
      sql: `public.${t}`,
      label: `public.${t}`,
      destination: `public_${t}`,
      cursor: true,
    })),
    ...['lines_a', 'lines_b', 'lines_c'].map((t) => ({
      sql: `sales.${t}`,
      label: `sales.${t}`,
      destination: `sales_${t}`,
      cursor: true,
    })),
    { sql: 'public.countries', label: 'public.countries', destination: 'public_countries', cursor: false },
    { sql: 'public.currencies', label: 'public.currencies', destination: 'public_currencies', cursor: false },
    { sql: 'public.nokey', label: 'public.nokey', destination: 'public_nokey', cursor: true },
    {
      sql: '"Sales"."Order Items"',
      label: '"Sales"."Order Items"',
      destination: 'Sales_Order_Items',
      cursor: true,
    },
    { sql: '"Sales"."MiXed"', label: '"Sales"."MiXed"', destination: 'Sales_MiXed', cursor: true },
    {
      sql: 'public."weird.name"',
      label: 'public."weird.name"',
      destination: 'public_weird_name',
      cursor: true,
    },
    { sql: 'sales.events', label: 'sales.events', destination: 'sales_events', cursor: true },
  ];
}

function createSql(table: SourceTable, index: number): string {
  const extra = EXTRA_TYPES[index % EXTRA_TYPES.length] ?? 'text';
  const cursor = table.cursor ? ', updated_at timestamptz NOT NULL' : '';
  const key = table.sql.startsWith('sales.lines')
    ? ', PRIMARY KEY (grp, id)'
    : table.sql === 'public.nokey'
      ? ''
      : ', PRIMARY KEY (id)';
  return `CREATE TABLE ${table.sql} (id bigint NOT NULL, grp int NOT NULL DEFAULT 1, label text, amount numeric(12,2), extra ${extra}${cursor}${key});`;
}

/** Inserts ids from..to (cursor values past every earlier insert: `minute` offsets grow). */
function insertSql(table: SourceTable, index: number, from: number, to: number): string {
  const extra = EXTRA_TYPES[index % EXTRA_TYPES.length] ?? 'text';
  const cursor = table.cursor ? `, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'` : '';
  return `INSERT INTO ${table.sql} (id, grp, label, amount, extra${table.cursor ? ', updated_at' : ''})
    SELECT g, g % 3, 'row ' || g || ' of ${table.label.replace(/'/g, "''")}', (g * 1.25)::numeric(12,2), ${EXTRA_VALUE[extra] ?? 'NULL'}${cursor}
    FROM generate_series(${from}, ${to}) g;`;
}

function rowsFor(index: number): number {
  return 40 + ((index * 37) % 160);
}

async function seedSchema(tables: readonly SourceTable[]): Promise<string> {
  const statements = [
    'CREATE SCHEMA sales;',
    'CREATE SCHEMA "Sales";',
    ...tables.map(createSql),
    ...tables.map((t, i) => insertSql(t, i, 1, rowsFor(i))),
    // Not selected: excluded by pattern, and a view (never listed).
    'CREATE TABLE public.tmp_scratch (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);',
    'CREATE VIEW public.v_orders AS SELECT id FROM public.t01;',
    'DO $$ BEGIN CREATE ROLE etl_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;',
    'GRANT USAGE ON SCHEMA public, sales, "Sales" TO etl_reader;',
    'GRANT SELECT ON ALL TABLES IN SCHEMA public, sales, "Sales" TO etl_reader;',
  ];
  return newDatabase(statements.join('\n'));
}

function pipelineConfig(database: string, extra: Record<string, unknown> = {}): unknown {
  return {
    name: 'shop',
    source: {
      type: 'postgres',
      connection: { ...pgConnection(pg, database), user: 'etl_reader' },
      tables: ['public.*', 'sales.*', '"Sales".*'],
      exclude: ['public.tmp_*'],
    },
    load: { mode: 'incremental', cursor: 'updated_at' },
    tables: {
      'public.countries': { mode: 'full' },
      currencies: { mode: 'full' },
      'sales.events': { chunk_rows: 50 },
    },
    destination: { type: 'duckdb', path: 'shop.duckdb', table: '{schema}_{table}' },
    ...extra,
  };
}

/** Every destination table equals its source table: ids, labels, amounts, row counts. */
async function expectReplicated(database: string, tables: readonly SourceTable[]): Promise<void> {
  for (const table of tables) {
    // Aliases other than the column names: an ORDER BY name would sort by the text alias.
    const source = await pg.query<{ id_text: string; label: string; amount_text: string }>(
      `SELECT id::text AS id_text, label, amount::text AS amount_text FROM ${table.sql} ORDER BY id, grp`,
      [],
      database,
    );
    const destination = await h.duck(
      'shop.duckdb',
      `SELECT id::VARCHAR, label, amount::VARCHAR FROM "${table.destination}" ORDER BY id, grp`,
    );
    expect(destination.length, `rows of ${table.label}`).toBe(source.length);
    expect(destination, `content of ${table.label}`).toEqual(
      source.map((r) => [r.id_text, r.label, r.amount_text]),
    );
  }
}

describe('a schema of 30 tables in one pipeline', () => {
  it('loads every table exactly once, picks up and reports changes between runs, and isolates a failing table', async () => {
    const tables = tablesOf();
    expect(tables).toHaveLength(30);
    const database = await seedSchema(tables);
    const pipeline = h.pipeline(pipelineConfig(database));

    // Plan: 30 tables, none refused, each with its destination.
    const plan = await h.engine.plan(pipeline);
    expect(plan.tables?.map((t) => t.table).sort()).toEqual(tables.map((t) => t.label).sort());
    expect(plan.tables?.filter((t) => t.problem !== null)).toEqual([]);
    expect(plan.tables?.find((t) => t.table === '"Sales"."Order Items"')?.destination).toBe(
      'shop.duckdb:Sales_Order_Items',
    );

    // Run 1: everything.
    const started = Date.now();
    const first = await h.run(pipeline);
    const firstSeconds = (Date.now() - started) / 1000;
    const expectedRows = tables.reduce((sum, _, i) => sum + rowsFor(i), 0);
    expect(first.rowsLoaded).toBe(expectedRows);
    expect(first.verdict).toBe('match');
    const firstTables = h.store.listRunTables('shop', first.sequence);
    expect(firstTables).toHaveLength(30);
    expect(firstTables.every((t) => t.status === 'succeeded' && t.memberSequence === 1)).toBe(true);
    await expectReplicated(database, tables);
    // Each table is a run of its own, under its own state name.
    expect(h.store.listRuns('shop/public.t01', 10)).toHaveLength(1);
    expect(h.store.listRuns('shop/"Sales"."Order Items"', 10)[0]?.status).toBe('succeeded');

    // Between runs: new rows everywhere, a table added, one dropped, a column added.
    const added: SourceTable = {
      sql: 'public.t_new',
      label: 'public.t_new',
      destination: 'public_t_new',
      cursor: true,
    };
    await pg.query(
      [
        ...tables.map((t, i) => insertSql(t, i, rowsFor(i) + 1, rowsFor(i) + 10)),
        createSql(added, 0),
        insertSql(added, 0, 1, 25),
        'GRANT SELECT ON public.t_new TO etl_reader;',
        'DROP TABLE public.t20;',
        'ALTER TABLE public.t05 ADD COLUMN note text;',
        `UPDATE public.t05 SET note = 'late', updated_at = updated_at + interval '10 years' WHERE id = 3;`,
      ].join('\n'),
      [],
      database,
    );
    const second = await h.run(pipeline);
    expect(second.notes).toContain('new table public.t_new picked up');
    expect(second.notes.some((n) => n.includes('public.t20 is no longer in the source'))).toBe(true);
    const secondTables = new Map(h.store.listRunTables('shop', second.sequence).map((t) => [t.table, t]));
    expect(secondTables.get('public.t20')?.status).toBe('gone');
    expect(secondTables.get('public.t_new')?.status).toBe('succeeded');
    expect(secondTables.get('public.t01')?.memberSequence).toBe(2);
    // The dropped table's destination is kept as it was.
    expect(await h.duck('shop.duckdb', 'SELECT count(*)::INTEGER FROM public_t20')).toEqual([[rowsFor(19)]]);
    // t05's new column reached its destination; the updated row was appended as a new version.
    expect(
      await h.duck('shop.duckdb', `SELECT count(*)::INTEGER FROM public_t05 WHERE note = 'late'`),
    ).toEqual([[1]]);
    const remaining = [...tables.filter((t) => t.sql !== 'public.t20' && t.sql !== 'public.t05'), added];
    await expectReplicated(database, remaining);

    // One table fails (permission revoked): the others commit exactly once, the run names it.
    await pg.query(
      [
        ...remaining.map((t) => insertSql(t, tables.indexOf(t) < 0 ? 0 : tables.indexOf(t), 1000, 1004)),
        'REVOKE SELECT ON public.t07 FROM etl_reader;',
      ].join('\n'),
      [],
      database,
    );
    const sequence = h.store.nextSequence('shop');
    const failure = await runError(h, pipeline, { sequence });
    expect(failure.code).toBe('TABLES_FAILED');
    expect(failure.message).toMatch(
      /^1 of 30 tables did not load: public\.t07 \(failed, SOURCE_PERMISSION: /,
    );
    expect(failure.message).not.toContain('row 1');
    const third = new Map(h.store.listRunTables('shop', sequence).map((t) => [t.table, t]));
    expect(third.get('public.t07')?.status).toBe('failed');
    // 30 tables in this run (t20 gone, t_new added): 29 committed.
    expect([...third.values()].filter((t) => t.status === 'succeeded')).toHaveLength(29);
    const others = remaining.filter((t) => t.sql !== 'public.t07');
    await expectReplicated(database, others);

    // The retry of that run loads only the failed table, under the sequence it already had.
    await pg.query('GRANT SELECT ON public.t07 TO etl_reader;', [], database);
    // Its SELECT was refused while discovery described it: it never started, so it had no sequence.
    expect(third.get('public.t07')).toMatchObject({ memberSequence: null, attempts: 0, retryable: false });
    const retried = await h.run(pipeline, { sequence, attempt: 2 });
    expect(retried.rowsLoaded).toBe(
      [...h.store.listRunTables('shop', sequence)].reduce((sum, t) => sum + t.rowsLoaded, 0),
    );
    const afterRetry = new Map(h.store.listRunTables('shop', sequence).map((t) => [t.table, t]));
    expect(afterRetry.get('public.t07')).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      memberSequence: 3,
    });
    expect(afterRetry.get('public.t01')?.attempts).toBe(1);
    expect(h.store.listRuns('shop/public.t01', 10).filter((r) => r.sequence === 3)).toHaveLength(1);
    await expectReplicated(database, remaining);
    console.log(`30 tables, ${expectedRows} rows: first run ${firstSeconds.toFixed(1)} s`);
  }, 600_000);

  it('refuses a table without the cursor column by name, in plan and run, and loads the others', async () => {
    const database = await newDatabase(`
      CREATE TABLE a (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      CREATE TABLE b (id bigint PRIMARY KEY, label text);
      CREATE TABLE c (id bigint, updated_at timestamptz NOT NULL);
      INSERT INTO a SELECT g, now() FROM generate_series(1, 5) g;
      INSERT INTO b SELECT g, 'x' FROM generate_series(1, 5) g;
      INSERT INTO c SELECT g, now() FROM generate_series(1, 5) g;`);
    const pipeline = h.pipeline({
      name: 'refusals',
      source: { type: 'postgres', connection: pgConnection(pg, database), tables: ['*', 'missing_table'] },
      load: { mode: 'merge', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'refusals.duckdb', table: 'r_{table}' },
    });
    const plan = await h.engine.plan(pipeline);
    const problems = new Map(plan.tables?.map((t) => [t.table, t.problem]));
    expect(problems.get('public.a')).toBeNull();
    expect(problems.get('public.b')).toContain('table public.b: no column "updated_at" (load.cursor)');
    expect(problems.get('public.c')).toContain('table public.c: merge loads need a key');
    expect(plan.notes).toContain(
      'source.tables names missing_table, which the source does not have: runs fail it',
    );
    const error = await runError(h, pipeline);
    expect(error.code).toBe('TABLES_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('3 of 4 tables did not load');
    expect(await h.duck('refusals.duckdb', 'SELECT count(*)::INTEGER FROM r_a')).toEqual([[5]]);
  }, 120_000);

  it('fail_run cancels the tables not yet loaded; a retry loads them', async () => {
    const database = await newDatabase(`
      CREATE TABLE a1 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      CREATE TABLE a2 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      CREATE TABLE a3 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
      INSERT INTO a1 SELECT g, now() FROM generate_series(1, 5) g;
      INSERT INTO a2 SELECT g, now() FROM generate_series(1, 5) g;
      INSERT INTO a3 SELECT g, now() FROM generate_series(1, 5) g;
      DO $$ BEGIN CREATE ROLE etl_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      GRANT SELECT ON a2, a3 TO etl_reader;`);
    const pipeline = h.pipeline({
      name: 'strict',
      source: {
        type: 'postgres',
        connection: { ...pgConnection(pg, database), user: 'etl_reader' },
        tables: ['a*'],
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      on_table_error: 'fail_run',
      table_parallelism: 1,
      destination: { type: 'duckdb', path: 'strict.duckdb', table: '{table}' },
    });
    const error = await runError(h, pipeline, { sequence: 1 });
    expect(error.code).toBe('TABLES_FAILED');
    const statuses = Object.fromEntries(h.store.listRunTables('strict', 1).map((t) => [t.table, t.status]));
    expect(statuses).toEqual({ 'public.a1': 'failed', 'public.a2': 'cancelled', 'public.a3': 'cancelled' });
    await pg.query('GRANT SELECT ON a1 TO etl_reader;', [], database);
    const retried = await h.run(pipeline, { sequence: 1, attempt: 2 });
    expect(retried.rowsLoaded).toBe(15);
    expect(h.store.listRunTables('strict', 1).every((t) => t.status === 'succeeded')).toBe(true);
  }, 120_000);

  it("a crash after each table's destination commit is settled under the table's own name: no row loads twice", async () => {
    // Regression: a member's config carried the pipeline's name, so settling a commit the state store
    // missed wrote the watermarks under the pipeline instead of the table, and the next run read the
    // committed batch again into the append tables.
    let crashes = 0;
    const crashing = createHarness({
      failpoint: (name: FailpointName) => {
        if (name === 'after-destination-commit' && crashes < 3) {
          crashes++;
          throw new EtlError('INTERRUPTED', `failpoint ${name}`);
        }
      },
    });
    try {
      const database = await newDatabase(`
        CREATE TABLE e1 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
        CREATE TABLE e2 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
        CREATE TABLE e3 (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
        INSERT INTO e1 SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, 10) g;
        INSERT INTO e2 SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, 10) g;
        INSERT INTO e3 SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, 10) g;`);
      const pipeline = crashing.pipeline({
        name: 'settles',
        source: { type: 'postgres', connection: pgConnection(pg, database), tables: ['e*'] },
        load: { mode: 'incremental', cursor: 'updated_at' },
        destination: { type: 'duckdb', path: 'settles.duckdb', table: '{table}' },
      });
      const crashed = await crashing.run(pipeline, { sequence: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(crashed).toMatchObject({ code: 'TABLES_FAILED' });
      // The retry finds every table's sequence in the destination and records its watermarks.
      const settled = await crashing.run(pipeline, { sequence: 1, attempt: 2 });
      expect(settled.rowsLoaded).toBe(0);
      for (const table of ['e1', 'e2', 'e3'])
        expect(crashing.store.getRuntime(`settles/public.${table}`).committedSequence).toBe(1);
      await pg.query(
        ['e1', 'e2', 'e3']
          .map(
            (t) =>
              `INSERT INTO ${t} SELECT g, timestamptz '2024-02-01 00:00+00' + g * interval '1 minute' FROM generate_series(11, 15) g;`,
          )
          .join('\n'),
        [],
        database,
      );
      const next = await crashing.run(pipeline);
      expect(next.rowsLoaded).toBe(15);
      for (const table of ['e1', 'e2', 'e3'])
        expect(
          await crashing.duck(
            'settles.duckdb',
            `SELECT count(*)::INTEGER, count(DISTINCT id)::INTEGER FROM ${table}`,
          ),
        ).toEqual([[15, 15]]);
    } finally {
      crashing.destroy();
    }
  }, 120_000);

  it('previews, tests and validates per table, and refuses what is per table only', async () => {
    const database = await newDatabase(`
      CREATE TABLE p1 (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
      CREATE TABLE "P Two" (id bigint PRIMARY KEY, label text, updated_at timestamptz NOT NULL);
      CREATE TABLE p3 (id bigint PRIMARY KEY, label text);
      INSERT INTO p1 SELECT g, 'one ' || g, now() FROM generate_series(1, 5) g;
      INSERT INTO "P Two" SELECT g, 'two ' || g, now() FROM generate_series(1, 5) g;`);
    const pipeline = h.pipeline({
      name: 'previews',
      source: { type: 'postgres', connection: pgConnection(pg, database), tables: ['p*', '"P*"'] },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'duckdb', path: 'previews.duckdb', table: 'x_{table}' },
    });
    const preview = await h.engine.preview(pipeline, 3, undefined, 'public."P Two"');
    expect(preview.rows.map((r) => r[1])).toEqual(['two 1', 'two 2', 'two 3']);
    // The first selected table by default, and a name without its schema when it is unambiguous.
    expect((await h.engine.preview(pipeline, 1)).rows[0]?.[1]).toBe('two 1');
    expect((await h.engine.preview(pipeline, 1, undefined, 'p1')).rows[0]?.[1]).toBe('one 1');
    await expect(h.engine.preview(pipeline, 1, undefined, 'nope')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('loads no table nope (tables: public."P Two", public.p1, public.p3)'),
    });
    await expect(h.engine.preview(pipeline, 1, undefined, 'p3')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    const tested = await h.engine.testConnections(pipeline);
    expect(tested.ok).toBe(false);
    expect(tested.checks.filter((c) => c.status === 'failed').map((c) => c.check)).toEqual([
      'table public.p3',
    ]);
    expect(tested.checks.some((c) => c.check.startsWith('public."P Two": ') && c.status === 'ok')).toBe(true);
    expect(await h.engine.validateAgainstSource(pipeline)).toEqual([
      'table public.p3: no column "updated_at" (load.cursor): give the table its own mode or cursor (tables: { public.p3: { mode: full } })',
    ]);
    await expect(h.engine.checkBackfill(pipeline, { from: '1', to: '2', shard: null })).rejects.toMatchObject(
      { code: 'USAGE' },
    );
    await expect(h.engine.vacuum(pipeline, { dryRun: true, now: new Date() })).rejects.toMatchObject({
      code: 'ILLEGAL_STATE',
    });
  }, 120_000);
});
