/**
 * The PostgreSQL destination: the conformance suite, plus what only PostgreSQL shows: its type
 * mapping, commit records beside the data, an atomic snapshot swap that keeps what operators put
 * on the table, key and constraint failures, an abort mid-COPY, and connection errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Destination } from '../../daemon/destinations/destination.js';
import { commitBatch, commitRequest, failure } from '../conformance/commit-batch.js';
import { ALL_TYPES, runDestinationConformance } from '../conformance/destination.case.js';
import { postgresDestinationAt, postgresFixture } from '../conformance/destinations/postgres.js';
import { col, createStager, type Stager } from '../conformance/staged-batch.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/wait.js';

let server: PostgresServer;
let stager: Stager;
const opened: Destination[] = [];

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase('sink');
  stager = await createStager();
});
afterAll(async () => {
  for (const d of opened) await d.close();
  stager?.close();
  await server?.destroy();
});

function destination(table: string, port = server.port): Destination {
  const d = postgresDestinationAt(port, server.user, 'sink', table);
  opened.push(d);
  return d;
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return server.query(sql, [], 'sink');
}

runDestinationConformance({ name: 'PostgreSQL', setup: () => postgresFixture(server, 'conformance') });

const request = commitRequest;

describe('postgres destination', () => {
  test('creates the table with the PostgreSQL type for each canonical type (the values: the conformance suite)', async () => {
    const dest = destination('types_t');
    const batch = await stager.stage(ALL_TYPES, '');
    const plan = await dest.planSchema(ALL_TYPES, 'add_columns');
    expect(plan).toEqual([expect.objectContaining({ column: '*', change: 'create' })]);
    expect(plan[0]?.detail).toContain(`with ${ALL_TYPES.length} columns: `);
    expect(plan[0]?.detail).toContain(', wide numeric(38,10),');

    const result = await commitBatch(dest, request(batch));
    expect(result).toMatchObject({ rowsLoaded: 0, alreadyCommitted: false });

    const types = await rows(
      `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'types_t'::regclass AND attnum > 0 ORDER BY attnum`,
    );
    expect(types.map((r) => r.type)).toEqual([
      'smallint',
      'integer',
      'bigint',
      'real',
      'double precision',
      'boolean',
      'numeric(18,2)',
      'numeric(38,10)',
      'text',
      'bytea',
      'date',
      'time without time zone',
      'timestamp without time zone',
      'timestamp with time zone',
      'jsonb',
      'uuid',
    ]);
    expect(await dest.planSchema(ALL_TYPES, 'strict')).toEqual([]);
  });

  test('records each commit in _etld_commits, in the same transaction as the data', async () => {
    const dest = destination('inc_t');
    const columns = [col('id', 'int64'), col('name', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `(1, 'a'), (2, 'b')`), { pipeline: 'inc', sequence: 7 }),
    );
    await commitBatch(
      dest,
      request(await stager.stage(columns, `(3, 'c')`), { pipeline: 'inc', sequence: 8 }),
    );
    expect(
      await rows(
        `SELECT pipeline, sequence::int, run_id, rows::int FROM _etld_commits WHERE pipeline = 'inc' ORDER BY sequence`,
      ),
    ).toEqual([
      { pipeline: 'inc', sequence: 7, run_id: 'run-7', rows: 2 },
      { pipeline: 'inc', sequence: 8, run_id: 'run-8', rows: 1 },
    ]);
  });

  test('full swaps the snapshot in atomically: a concurrent reader never sees an empty or partial table', async () => {
    const dest = destination('public.full_t');
    const columns = [col('id', 'int64'), col('payload', 'text')];
    const sizes = [3000, 5000, 4000];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `SELECT range, repeat('x', 50) FROM range(2000)`), {
        pipeline: 'full',
        mode: 'full',
        sequence: 1,
      }),
    );
    await server.query('CREATE INDEX full_t_id ON full_t (id)', [], 'sink');

    const seen = new Set<number>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const [r] = await rows('SELECT count(*)::int AS n FROM full_t');
        seen.add(Number(r?.n));
      }
    })();
    try {
      for (const [index, size] of sizes.entries()) {
        const batch = await stager.stage(columns, `SELECT range, repeat('y', 50) FROM range(${size})`);
        const result = await commitBatch(
          dest,
          request(batch, { pipeline: 'full', mode: 'full', sequence: index + 2 }),
        );
        expect(result.rowsLoaded).toBe(size);
      }
    } finally {
      reading = false;
      await reader;
    }
    expect([...seen].every((n) => n === 2000 || sizes.includes(n))).toBe(true);
    expect(seen.has(0)).toBe(false);
    expect(await rows('SELECT count(*)::int AS n FROM full_t')).toEqual([{ n: 4000 }]);
    // The swapped-in table keeps the old table's indexes; no leftover build table remains.
    expect((await rows(`SELECT indexdef FROM pg_indexes WHERE tablename = 'full_t'`)).length).toBe(1);
    expect(await rows(`SELECT to_regclass('full_t__etld_new') AS t`)).toEqual([{ t: null }]);
    expect((await dest.committedSequence('full'))?.sequence).toBe(4);
  });

  test('full keeps what operators put on the table: grants, comments, policies, triggers, views and deferrable foreign keys', async () => {
    const dest = destination('public.kept_t');
    const columns = [col('id', 'int64'), col('v', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `(1, 'a'), (2, 'b')`), {
        pipeline: 'kept',
        mode: 'full',
        sequence: 1,
      }),
    );
    await server.query(
      `CREATE ROLE kept_reader NOLOGIN;
       GRANT SELECT ON kept_t TO kept_reader;
       COMMENT ON TABLE kept_t IS 'curated';
       ALTER TABLE kept_t ADD PRIMARY KEY (id);
       ALTER TABLE kept_t ENABLE ROW LEVEL SECURITY;
       CREATE POLICY kept_policy ON kept_t FOR SELECT TO kept_reader USING (id > 0);
       CREATE TABLE kept_audit (n int);
       CREATE FUNCTION kept_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO kept_audit VALUES (1); RETURN NEW; END $$;
       CREATE TRIGGER kept_trigger AFTER INSERT ON kept_t FOR EACH ROW EXECUTE FUNCTION kept_count();
       CREATE VIEW kept_view AS SELECT id, v FROM kept_t;
       CREATE TABLE kept_child (id int REFERENCES kept_t (id) DEFERRABLE);
       INSERT INTO kept_child VALUES (2);`,
      [],
      'sink',
    );
    await commitBatch(
      dest,
      request(await stager.stage(columns, `(2, 'b2'), (3, 'c')`), {
        pipeline: 'kept',
        mode: 'full',
        sequence: 2,
      }),
    );
    expect(await rows(`SELECT id, v FROM kept_view ORDER BY id`)).toEqual([
      { id: '2', v: 'b2' },
      { id: '3', v: 'c' },
    ]);
    expect(
      await rows(
        `SELECT has_table_privilege('kept_reader', 'kept_t', 'SELECT') AS granted, obj_description('kept_t'::regclass) AS comment`,
      ),
    ).toEqual([{ granted: true, comment: 'curated' }]);
    expect(await rows(`SELECT count(*)::int AS n FROM pg_policies WHERE tablename = 'kept_t'`)).toEqual([
      { n: 1 },
    ]);
    expect(await rows(`SELECT count(*)::int AS n FROM kept_audit`)).toEqual([{ n: 2 }]);
    // A referenced key that the new snapshot lacks fails at COMMIT; the table keeps its rows.
    const error = await failure(
      commitBatch(
        dest,
        request(await stager.stage(columns, `(3, 'c')`), { pipeline: 'kept', mode: 'full', sequence: 3 }),
      ),
    );
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(await rows(`SELECT id FROM kept_t ORDER BY id`)).toEqual([{ id: '2' }, { id: '3' }]);
    // A foreign key that is not deferrable is named before anything is written.
    await server.query(
      `ALTER TABLE kept_child DROP CONSTRAINT kept_child_id_fkey; ALTER TABLE kept_child ADD CONSTRAINT kept_child_fk FOREIGN KEY (id) REFERENCES kept_t (id)`,
      [],
      'sink',
    );
    const fixed = await failure(
      commitBatch(
        dest,
        request(await stager.stage(columns, `(2, 'x')`), { pipeline: 'kept', mode: 'full', sequence: 3 }),
      ),
    );
    expect(fixed).toMatchObject({
      code: 'DESTINATION_WRITE',
      retryable: false,
      message: expect.stringContaining('foreign key kept_child_fk'),
    });
    expect((await dest.committedSequence('kept'))?.sequence).toBe(2);
  });

  test('merge into an existing table without a unique key fails before writing, naming the key', async () => {
    await server.query(
      'CREATE TABLE nokey_t (id integer, v text); INSERT INTO nokey_t VALUES (1, $$a$$)',
      [],
      'sink',
    );
    const dest = destination('nokey_t');
    const batch = await stager.stage([col('id', 'int32'), col('v', 'text')], `(1, 'b')`);
    const error = await failure(
      commitBatch(dest, request(batch, { pipeline: 'nokey', mode: 'merge', key: ['id'] })),
    );
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('unique index on (id)');
    expect(await rows('SELECT v FROM nokey_t')).toEqual([{ v: 'a' }]);
    expect(await dest.committedSequence('nokey')).toBeNull();
  });

  test('schema messages name PostgreSQL types; a narrower incoming type that keeps every value is accepted', async () => {
    const dest = destination('evo_t');
    const v1 = [
      col('id', 'int32'),
      col('amount', { kind: 'decimal', precision: 10, scale: 2 }),
      col('note', 'text'),
    ];
    await commitBatch(
      dest,
      request(await stager.stage(v1, `(1, 1.25, 'a')`), { pipeline: 'evo', sequence: 1 }),
    );
    expect(
      await dest.planSchema(
        [col('id', 'int16'), col('amount', { kind: 'decimal', precision: 8, scale: 2 }), col('note', 'text')],
        'strict',
      ),
    ).toEqual([]);
    const changed = v1.map((c) =>
      c.name === 'amount' ? col('amount', { kind: 'decimal', precision: 12, scale: 4 }) : c,
    );
    const typeError = await failure(dest.planSchema(changed, 'add_columns'));
    expect(typeError.message).toContain('numeric(10,2)');
    expect(typeError.message).toContain('decimal(12,4)');
    const vanished = await failure(dest.planSchema(v1.slice(0, 2), 'add_columns'));
    expect(vanished.message).toContain('"note" (text in public.evo_t) is missing');
  });

  test('a load failing midway (constraint violation) leaves the table and the commit record unchanged', async () => {
    const dest = destination('fail_t');
    const columns = [col('id', 'int64'), col('v', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `SELECT range, 'ok' FROM range(100)`), {
        pipeline: 'fail',
        sequence: 1,
      }),
    );
    await server.query('ALTER TABLE fail_t ALTER COLUMN v SET NOT NULL', [], 'sink');
    const bad = await stager.stage(
      columns,
      `SELECT range + 100, CASE WHEN range = 4000 THEN NULL ELSE 'new' END FROM range(5000)`,
    );
    const error = await failure(commitBatch(dest, request(bad, { pipeline: 'fail', sequence: 2 })));
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('23502');
    expect(await rows('SELECT count(*)::int AS n FROM fail_t')).toEqual([{ n: 100 }]);
    expect((await dest.committedSequence('fail'))?.sequence).toBe(1);

    // The same failure in full mode keeps the old snapshot and leaves no build table behind.
    await server.query('ALTER TABLE fail_t ADD CONSTRAINT v_short CHECK (length(v) < 3)', [], 'sink');
    const full = await stager.stage(
      columns,
      `SELECT range, CASE WHEN range = 3000 THEN 'long' ELSE 'ok' END FROM range(4000)`,
    );
    const fullError = await failure(
      commitBatch(dest, request(full, { pipeline: 'fail', mode: 'full', sequence: 2 })),
    );
    expect(fullError.message).toContain('v_short');
    expect(await rows('SELECT count(*)::int AS n FROM fail_t')).toEqual([{ n: 100 }]);
    expect(await rows(`SELECT to_regclass('fail_t__etld_new') AS t`)).toEqual([{ t: null }]);
  });

  test('an abort during COPY rolls the load back and the connection stays usable', async () => {
    const dest = destination('abort_t');
    const columns = [col('id', 'int64'), col('payload', 'text')];
    await commitBatch(
      dest,
      request(await stager.stage(columns, `(0, 'seed')`), { pipeline: 'abort', sequence: 1 }),
    );
    const big = await stager.stage(columns, `SELECT range + 1, repeat('z', 200) FROM range(400000)`);
    const controller = new AbortController();
    const commit = commitBatch(
      dest,
      request(big, { pipeline: 'abort', sequence: 2, signal: controller.signal }),
    );
    // Abort once the server reports the COPY under way (probed often: the COPY takes seconds).
    await waitFor(
      async () => {
        const progress = await rows(`SELECT tuples_processed::int AS n FROM pg_stat_progress_copy`);
        return progress.some((p) => Number(p.n) > 0) ? true : undefined;
      },
      { intervalMs: 5, what: 'the COPY to be under way (pg_stat_progress_copy)' },
    );
    controller.abort();
    const error = await failure(commit);
    expect(error.code).toBe('CANCELLED');
    expect(await rows('SELECT count(*)::int AS n FROM abort_t')).toEqual([{ n: 1 }]);
    expect((await dest.committedSequence('abort'))?.sequence).toBe(1);
    const small = await stager.stage(columns, `(5, 'after')`);
    expect((await commitBatch(dest, request(small, { pipeline: 'abort', sequence: 2 }))).rowsLoaded).toBe(1);
  });

  test('an unreachable server is a retryable destination error naming the host', async () => {
    const dest = destination('x', await freePort());
    const error = await failure(dest.committedSequence('p'));
    expect(error.code).toBe('DESTINATION_WRITE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('127.0.0.1');
  });

  test('a malformed table name is a configuration error', () => {
    expect(() => destination('a.b.c')).toThrow(/schema\.table/);
  });
});
