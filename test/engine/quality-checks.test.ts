/**
 * Data quality checks against a real PostgreSQL source, into DuckDB: every check type
 * passing and failing in every load mode, with the results in the run's row, a failing check
 * leaving the destination untouched, warnings committing, and quarantine moving exactly the failing
 * rows (MariaDB, and the other destinations: quality-destinations.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../shared/protocol.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { createHarness, databaseFactory, pgConnection, type Harness } from './engine-harness.js';

let pg: PostgresServer;
let h: Harness;

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg.destroy();
});
beforeEach(() => {
  h = createHarness();
});
afterEach(() => {
  h.destroy();
});

const freshDb = databaseFactory(() => pg, 'quality');

/** 40 clean orders: ids 1..40, every email set, status in (new, paid), amount 1..40, updated now-ish. */
const ORDERS = `
  CREATE TABLE orders (id int PRIMARY KEY, email text, status text, amount numeric(10,2), updated_at timestamptz NOT NULL);
  INSERT INTO orders SELECT g, 'user' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'paid' ELSE 'new' END, g, now() - interval '1 minute' * g
    FROM generate_series(1, 40) AS g;`;

type Mode = 'full' | 'incremental' | 'merge';

function loadFor(mode: Mode): Record<string, unknown> {
  if (mode === 'full') return { mode };
  return { mode, cursor: 'updated_at' };
}

function pipeline(db: string, name: string, mode: Mode, checks: unknown[]): ReturnType<Harness['pipeline']> {
  return h.pipeline({
    name,
    source: { type: 'postgres', connection: pgConnection(pg, db), table: 'orders', key: ['id'] },
    load: loadFor(mode),
    checks,
    destination: { type: 'duckdb', path: 'quality.duckdb', table: name },
  });
}

async function destinationRows(table: string): Promise<number> {
  const rows = await h.duck('quality.duckdb', `SELECT count(*) FROM ${table}`);
  return Number(rows[0]?.[0]);
}

function checksOf(runId: string): readonly CheckResult[] {
  return h.store.getRun(runId)?.checks ?? [];
}

/**
 * One case per check type: the check, and SQL that breaks the clean table for it (run on new
 * rows with later `updated_at`, so incremental and merge runs see them too).
 */
const CASES: readonly {
  type: string;
  check: Record<string, unknown>;
  /** SQL that breaks the table for the check, by mode when the modes differ. */
  breaks: string | Record<Mode, string>;
  observed: number | Record<Mode, number>;
}[] = [
  {
    type: 'min_rows',
    check: { min_rows: 1 },
    // An emptied table; for incremental also a run with nothing new (merge re-reads the rows at
    // the watermark, so it would see one).
    breaks: { full: 'DELETE FROM orders', incremental: 'SELECT 1', merge: 'DELETE FROM orders' },
    observed: 0,
  },
  {
    type: 'max_rows',
    check: { max_rows: 41 },
    breaks: `INSERT INTO orders SELECT 100 + g, 'more@x', 'new', 1, now() + interval '1 hour' FROM generate_series(1, 42) AS g`,
    // Merge re-reads the row at the watermark as well.
    observed: { full: 82, incremental: 42, merge: 43 },
  },
  {
    type: 'not_null',
    check: { not_null: 'email' },
    breaks: `INSERT INTO orders VALUES (101, NULL, 'new', 1, now() + interval '1 hour'), (102, NULL, 'paid', 2, now() + interval '1 hour')`,
    observed: 2,
  },
  {
    type: 'max_null_pct',
    check: { max_null_pct: { column: 'email', max_pct: 10 } },
    breaks: `UPDATE orders SET email = NULL, updated_at = now() + interval '1 hour' WHERE id <= 8`,
    // Full: 8 of 40 rows; incremental and merge: the batch is the 8 updated rows (the row at the
    // watermark, id 1, is one of them).
    observed: { full: 20, incremental: 100, merge: 100 },
  },
  {
    type: 'unique',
    check: { unique: 'email' },
    breaks: `INSERT INTO orders VALUES (101, 'dup@x', 'new', 1, now() + interval '1 hour'), (102, 'dup@x', 'new', 2, now() + interval '1 hour'), (103, 'dup@x', 'new', 3, now() + interval '1 hour')`,
    observed: 3,
  },
  {
    type: 'accepted_values',
    check: { accepted_values: { column: 'status', values: ['new', 'paid'] } },
    breaks: `INSERT INTO orders VALUES (101, 'c@x', 'lost', 1, now() + interval '1 hour')`,
    observed: 1,
  },
  {
    type: 'range',
    check: { range: { column: 'amount', min: 0, max: 1000 } },
    breaks: `INSERT INTO orders VALUES (101, 'c@x', 'new', -5, now() + interval '1 hour'), (102, 'd@x', 'new', 5000, now() + interval '1 hour')`,
    observed: 2,
  },
  {
    type: 'sql_expression',
    check: { sql: "status <> 'paid' OR amount > 0" },
    breaks: `INSERT INTO orders VALUES (101, 'c@x', 'paid', 0, now() + interval '1 hour')`,
    observed: 1,
  },
  {
    type: 'sql_query',
    check: { sql: { query: "SELECT * FROM batch WHERE email NOT LIKE '%@%'" } },
    breaks: `INSERT INTO orders VALUES (101, 'no-at-sign', 'new', 1, now() + interval '1 hour')`,
    observed: 1,
  },
];

describe('quality checks on PostgreSQL into DuckDB', () => {
  for (const mode of ['full', 'incremental', 'merge'] as const) {
    it(`every check type passes on clean rows and fails the run on broken ones (${mode})`, async () => {
      for (const c of CASES) {
        const db = await freshDb(ORDERS);
        const name = `${c.type}_${mode}`;
        const p = pipeline(db, name, mode, [c.check]);
        const first = await h.run(p);
        expect(first.checks, `${c.type} ${mode}`).toEqual([
          expect.objectContaining({ type: c.type, status: 'pass' }),
        ]);
        expect(checksOf(first.runId)).toEqual(first.checks);
        const loaded = await destinationRows(name);
        await pg.query(typeof c.breaks === 'string' ? c.breaks : c.breaks[mode], [], db);
        const failing = h.run(p);
        await expect(failing, `${c.type} ${mode}`).rejects.toMatchObject({ code: 'CHECK_FAILED' });
        const error = (await failing.catch((e: unknown) => e)) as Error;
        expect(error.message).toContain(`check "${(first.checks[0] as CheckResult).name}" failed`);
        expect(error.message).not.toMatch(/dup@x|no-at-sign|lost|c@x/);
        const runId = h.store.listRuns(name, 1)[0]?.id ?? '';
        expect(checksOf(runId)).toEqual([
          expect.objectContaining({
            type: c.type,
            status: 'fail',
            observed: typeof c.observed === 'number' ? c.observed : c.observed[mode],
          }),
        ]);
        expect(
          await destinationRows(name),
          `${c.type} ${mode}: the destination keeps its last good state`,
        ).toBe(loaded);
      }
    });
  }
});

describe('quality checks against the previous run and the clock', () => {
  it('row_count_change compares with the last successful run; freshness_column with now', async () => {
    const db = await freshDb(ORDERS);
    const p = pipeline(db, 'trend', 'full', [
      { row_count_change: { max_pct: 50 } },
      { freshness_column: { column: 'updated_at', max_age: '1h' } },
    ]);
    const first = await h.run(p);
    expect(first.checks).toEqual([
      expect.objectContaining({ name: 'row_count_change', status: 'pass', observed: null }),
      expect.objectContaining({ name: 'freshness(updated_at)', status: 'pass', threshold: 'age ≤ 1h' }),
    ]);
    await pg.query('DELETE FROM orders WHERE id > 30', [], db);
    expect((await h.run(p)).checks[0]).toMatchObject({ status: 'pass', observed: 25 });
    await pg.query(
      `DELETE FROM orders WHERE id > 10; UPDATE orders SET updated_at = now() - interval '3 hours'`,
      [],
      db,
    );
    await expect(h.run(p)).rejects.toMatchObject({
      code: 'CHECK_FAILED',
      message: expect.stringMatching(
        /check "row_count_change" failed: .*66\.67 %.*check "freshness\(updated_at\)" failed: .*3h/,
      ),
    });
    const failed = h.store.listRuns('trend', 1)[0];
    expect(failed?.checks.map((c) => c.status)).toEqual(['fail', 'fail']);
    expect(failed?.checks[1]?.observed).toBeGreaterThanOrEqual(3 * 3600);
  });
});

describe('warn and quarantine', () => {
  it('warn commits every row and records the warning', async () => {
    const db = await freshDb(ORDERS);
    await pg.query(`UPDATE orders SET email = NULL WHERE id IN (3, 4)`, [], db);
    const p = pipeline(db, 'warned', 'full', [{ not_null: 'email', on_fail: 'warn' }]);
    const outcome = await h.run(p);
    expect(outcome).toMatchObject({ rowsLoaded: 40, verdict: 'match' });
    expect(outcome.checks).toEqual([
      expect.objectContaining({ status: 'warn', observed: 2, threshold: '0 rows' }),
    ]);
  });

  for (const mode of ['full', 'incremental', 'merge'] as const) {
    it(`quarantine moves exactly the failing rows, labelled with their checks (${mode})`, async () => {
      const db = await freshDb(ORDERS);
      const name = `q_${mode}`;
      const p = pipeline(db, name, mode, [
        { not_null: 'email', on_fail: 'quarantine' },
        { range: { column: 'amount', min: 0 }, on_fail: 'quarantine', name: 'amount_not_negative' },
        { accepted_values: { column: 'status', values: ['new', 'paid'] }, on_fail: 'warn' },
      ]);
      await pg.query(
        `UPDATE orders SET email = NULL WHERE id IN (2, 3); UPDATE orders SET amount = -1 WHERE id IN (3, 5); UPDATE orders SET status = 'odd' WHERE id = 7`,
        [],
        db,
      );
      const first = await h.run(p);
      expect(first.checks.map((c) => [c.name, c.status, c.observed])).toEqual([
        ['not_null(email)', 'quarantine', 2],
        ['amount_not_negative', 'quarantine', 2],
        ['accepted_values(status)', 'warn', 1],
      ]);
      expect(first).toMatchObject({ rowsLoaded: 37, verdict: 'match' });
      expect(
        await h.duck('quality.duckdb', `SELECT list(id ORDER BY id) FROM ${name} WHERE id IN (2, 3, 5, 7)`),
      ).toEqual([[[7]]]);
      expect(
        await h.duck(
          'quality.duckdb',
          `SELECT id, _etl_check, _etl_run_id FROM ${name}_quarantine ORDER BY id`,
        ),
      ).toEqual([
        [2, 'not_null(email)', first.runId],
        [3, 'not_null(email),amount_not_negative', first.runId],
        [5, 'amount_not_negative', first.runId],
      ]);
      // The source is fixed and a later row breaks a check: the quarantine keeps the first run's rows and adds the new one.
      await pg.query(
        `UPDATE orders SET email = 'fixed@x', amount = 1, updated_at = now() + interval '1 hour' WHERE id IN (2, 3, 5);
         INSERT INTO orders VALUES (200, NULL, 'new', 1, now() + interval '2 hours')`,
        [],
        db,
      );
      const second = await h.run(p);
      expect(second.checks[0]).toMatchObject({ status: 'quarantine', observed: 1 });
      expect(await h.duck('quality.duckdb', `SELECT count(*) FROM ${name} WHERE id IN (2, 3, 5)`)).toEqual([
        [3n],
      ]);
      expect(await h.duck('quality.duckdb', `SELECT list(id ORDER BY id) FROM ${name}_quarantine`)).toEqual([
        [[2, 3, 5, 200]],
      ]);
    });
  }

  it('unique with quarantine stages the whole batch and moves every row that shares a value', async () => {
    const db = await freshDb(ORDERS);
    await pg.query(`UPDATE orders SET email = 'shared@x' WHERE id IN (4, 8, 15)`, [], db);
    const p = pipeline(db, 'dupes', 'incremental', [
      { unique: 'email', on_fail: 'quarantine' },
      { sql: { query: 'SELECT * FROM batch WHERE amount < 0' }, on_fail: 'warn' },
    ]);
    const outcome = await h.run(p);
    expect(outcome.checks.map((c) => [c.name, c.status, c.observed])).toEqual([
      ['unique(email)', 'quarantine', 3],
      ['sql#2', 'pass', 0],
    ]);
    expect(outcome).toMatchObject({ rowsLoaded: 37, verdict: 'match' });
    expect(await h.duck('quality.duckdb', 'SELECT list(id ORDER BY id) FROM dupes_quarantine')).toEqual([
      [[4, 8, 15]],
    ]);
  });

  it('a merge quarantines rows with a NULL key instead of refusing the batch', async () => {
    const db =
      await freshDb(`CREATE TABLE orders (id int, email text, status text, amount numeric(10,2), updated_at timestamptz NOT NULL);
      INSERT INTO orders VALUES (1, 'a@x', 'new', 1, now()), (NULL, 'b@x', 'new', 2, now()), (2, 'c@x', 'new', 3, now());`);
    const p = pipeline(db, 'nullkey', 'merge', [{ not_null: 'id', on_fail: 'quarantine' }]);
    expect(await h.run(p)).toMatchObject({ rowsLoaded: 2, verdict: 'match' });
    expect(
      await h.duck('quality.duckdb', 'SELECT count(*) FROM nullkey_quarantine WHERE id IS NULL'),
    ).toEqual([[1n]]);
  });
});

describe('checks in plan, and checks that cannot be evaluated', () => {
  it('plan judges the checks on a sample and says which would fail, writing nothing', async () => {
    const db = await freshDb(ORDERS);
    await pg.query(`UPDATE orders SET status = 'odd' WHERE id = 5`, [], db);
    const p = pipeline(db, 'planned', 'full', [
      { not_null: 'email' },
      { accepted_values: { column: 'status', values: ['new', 'paid'] }, on_fail: 'warn' },
    ]);
    const plan = await h.engine.plan(p);
    expect(plan.check_sample_rows).toBe(40);
    expect(plan.checks.map((c) => [c.name, c.status, c.observed])).toEqual([
      ['not_null(email)', 'pass', 0],
      ['accepted_values(status)', 'warn', 1],
    ]);
    expect(plan.notes).toContain(
      'the run would warn: check "accepted_values(status)" warns: 1 row of 40 hold a value of column "status" outside the 2 accepted',
    );
    expect(h.store.listRuns('planned', 5)).toEqual([]);
  });

  it('validate --sources: a file that fits its source has no problem; a missing table is named with the file', async () => {
    const db = await freshDb(ORDERS);
    const checks = [{ not_null: 'email' }, { sql: "status <> 'odd'", name: 'status_known' }];
    expect(await h.engine.validateAgainstSource(pipeline(db, 'fits', 'full', checks))).toEqual([]);
    await pg.query('ALTER TABLE orders RENAME TO orders_old', [], db);
    const gone = pipeline(db, 'gone', 'full', checks);
    const problems = await h.engine.validateAgainstSource(gone);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${gone.file}: source: `);
    expect(problems[0]).toMatch(/orders/);
  });

  it('a check naming an unknown column or SQL that does not bind: plan says so, a run fails CHECK_INVALID', async () => {
    const db = await freshDb(ORDERS);
    for (const [check, pattern] of [
      [
        { not_null: 'e_mail' },
        /check "not_null\(e_mail\)": unknown column "e_mail"; the batch has id, email/,
      ],
      [{ sql: 'no_such_column > 1', name: 'broken' }, /check "broken": .*no_such_column/],
      [{ range: { column: 'amount', min: 'abc' } }, /check "range\(amount\)": /],
      [
        { freshness_column: { column: 'email', max_age: '1h' } },
        /column "email" is text, not a date or timestamp/,
      ],
    ] as const) {
      const p = pipeline(db, 'invalid', 'full', [check]);
      const plan = await h.engine.plan(p);
      expect(plan.notes.join('\n')).toMatch(pattern);
      // `etlctl validate --sources` names it too, with the file, reading no row.
      const problems = await h.engine.validateAgainstSource(p);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.startsWith(`${p.file}: check "`)).toBe(true);
      expect(problems[0]).toMatch(pattern);
      await expect(h.run(p)).rejects.toMatchObject({
        code: 'CHECK_INVALID',
        message: expect.stringMatching(pattern),
      });
    }
    // Nothing was written: the destination database was never created.
    expect(existsSync(join(h.lakeDir, 'quality.duckdb'))).toBe(false);
  });
});
