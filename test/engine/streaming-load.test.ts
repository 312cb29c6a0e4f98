/**
 * The one-pass load attacked where it differs from staging everything first: rows reach
 * destination files while parts are still being read, so a failure in a later part must take
 * back what earlier parts wrote; large runs write several files; appends keep only the rows around
 * the watermarks aside; merge still sees the whole batch. Results are read back with delta-rs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { duckMemoryLimit, streamsFor } from '../../daemon/engine/run-memory.js';
import {
  createHarness,
  databaseFactory,
  parquetIdSummary,
  pgConnection,
  type Harness,
} from './engine-harness.js';

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

const freshDb = databaseFactory(() => pg, 'stream');
const conn = (database: string): Record<string, unknown> => pgConnection(pg, database);

/** Every file under a Delta table except its log, relative to the table. */
function tableFiles(table: string): string[] {
  return readdirSync(table, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(table.length + 1))
    .filter((p) => !p.startsWith('_delta_log'))
    .sort();
}

async function deltaIds(table: string): Promise<number[]> {
  const { readWithOracle } = await import('../conformance/delta-oracle.js');
  const read = (await readWithOracle('deltalake', [table]))[table];
  if (read?.error !== undefined) throw new Error(read.error);
  return (read?.rows ?? []).map((r) => Number(r.id)).sort((a, b) => a - b);
}

const WIDE = (rows: number): string => `
  CREATE TABLE wide (id bigint PRIMARY KEY, a text, b text, c text, n int, updated_at timestamptz NOT NULL);
  INSERT INTO wide SELECT g, md5(g::text), md5((g * 7)::text), repeat(md5((g * 13)::text), 4), g % 97,
    '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
    FROM generate_series(1, ${rows}) g;
  ANALYZE wide;`;

describe('one-pass loads', () => {
  it('a failing cast in a later chunk takes back the files earlier chunks already wrote', async () => {
    const db = await freshDb(`${WIDE(30_000)}
      ALTER TABLE wide ADD COLUMN code text;
      UPDATE wide SET code = (id * 3)::text;`);
    const config = (chunked: boolean): unknown => ({
      name: 'taken_back',
      source: {
        type: 'postgres',
        connection: conn(db),
        table: 'wide',
        key: ['id'],
        ...(chunked ? { chunk_rows: 5_000, parallelism: 2 } : {}),
      },
      load: { mode: 'full' },
      transform: [{ target: 'code', from: 'code', type: 'int64' }],
      destination: { type: 'delta', path: 'taken_back', target_file_size: '1MB' },
    });
    await h.run(h.pipeline(config(false)));
    const table = join(h.lakeDir, 'taken_back');
    const before = tableFiles(table);
    await pg.query(`UPDATE wide SET code = 'not a number' WHERE id = 29000`, [], db);
    await expect(h.run(h.pipeline(config(true)))).rejects.toMatchObject({
      code: 'TRANSFORM_INVALID',
      message: expect.stringMatching(/transform "code": a value of column code cannot be cast to int64/),
    });
    // The chunks before the bad row were written and then removed: the directory is as it was,
    // with no staging directory left behind, and the table still reads as the first run left it.
    expect(tableFiles(table)).toEqual(before);
    expect(readdirSync(table).filter((n) => n.startsWith('_etld_staging'))).toEqual([]);
    expect(await deltaIds(table)).toHaveLength(30_000);
    expect(h.tempEntries()).toEqual([]);
  });

  it('a large run writes several data files of about target_file_size, all committed in one version', async () => {
    // A file closes after the row group (65,536 rows) that passes the target: 300,000 rows, 5 files.
    const db = await freshDb(`
      CREATE TABLE narrow (id bigint PRIMARY KEY, h text);
      INSERT INTO narrow SELECT g, md5(g::text) FROM generate_series(1, 300000) g;`);
    const p = h.pipeline({
      name: 'sized',
      source: { type: 'postgres', connection: conn(db), table: 'narrow', key: ['id'] },
      load: { mode: 'full' },
      destination: { type: 'delta', path: 'sized', target_file_size: '1MB' },
    });
    const outcome = await h.run(p);
    expect(outcome.rowsLoaded).toBe(300_000);
    expect(outcome.verdict).toBe('match');
    const table = join(h.lakeDir, 'sized');
    const files = tableFiles(table).filter((f) => f.endsWith('.parquet'));
    expect(files).toHaveLength(5);
    const log = readdirSync(join(table, '_delta_log')).filter((n) => n.endsWith('.json'));
    expect(log).toEqual(['00000000000000000000.json']);
    const adds = readFileSync(join(table, '_delta_log', log[0] ?? ''), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { add?: { path: string; stats: string } })
      .flatMap((action) => (action.add === undefined ? [] : [action.add]));
    expect(adds.map((a) => a.path).sort()).toEqual(files);
    const counted = adds.map((a) => (JSON.parse(a.stats) as { numRecords: number }).numRecords);
    expect(counted.reduce((x, y) => x + y, 0)).toBe(300_000);
    expect(await parquetIdSummary(table, files)).toEqual([300_000, 300_000, 1, 300_000]);
  });

  it('appends at the watermark keep only boundary rows aside, across chunks, and load each row once', async () => {
    const db = await freshDb(WIDE(20_000));
    const p = h.pipeline({
      name: 'appends',
      source: {
        type: 'postgres',
        connection: conn(db),
        table: 'wide',
        key: ['id'],
        chunk_rows: 4_000,
        parallelism: 2,
      },
      load: { mode: 'incremental', cursor: 'updated_at' },
      destination: { type: 'delta', path: 'appends' },
    });
    const first = await h.run(p);
    expect(first.rowsLoaded).toBe(20_000);
    // New rows from the watermark on (row 20001 shares row 20000's cursor value, which was loaded).
    await pg.query(
      `INSERT INTO wide SELECT g, 'x', 'y', 'z', 1, (SELECT max(updated_at) FROM wide) + (g - 20001) * interval '1 second'
         FROM generate_series(20001, 20500) g`,
      [],
      db,
    );
    const second = await h.run(p);
    expect(second.rowsLoaded).toBe(500);
    expect(second.notes.join(' ')).toMatch(/read again at the watermark were loaded already/);
    const third = await h.run(p);
    expect(third.rowsLoaded).toBe(0);
    expect(await deltaIds(join(h.lakeDir, 'appends'))).toEqual(
      Array.from({ length: 20_500 }, (_, i) => i + 1),
    );
  });

  it('records CPU seconds by stage for a succeeded run', async () => {
    let reads = 0;
    const clocked = createHarness({
      cpuClock: () => {
        reads += 1;
        return { process: reads * 2, mainThread: reads };
      },
    });
    try {
      const db = await freshDb(WIDE(1_000));
      const p = clocked.pipeline({
        name: 'clocked',
        source: { type: 'postgres', connection: conn(db), table: 'wide', key: ['id'] },
        load: { mode: 'full' },
        destination: { type: 'delta', path: 'clocked' },
      });
      const outcome = await clocked.run(p);
      // A fake clock that advances by 2 process seconds and 1 main-thread second per reading:
      // every phase lasts one reading; while parts stream, one second is the main thread's.
      expect(outcome.stages).toEqual({ prepare: 2, extract: 1, load: 1, settle: 2, commit: 2 });
    } finally {
      clocked.destroy();
    }
  });

  it('a memory_limit too small for two streams reads the second part from a spool instead of running out of memory', async () => {
    const small = createHarness({ stagingMemoryBytes: 64 * 1024 * 1024 });
    try {
      const db = await freshDb(WIDE(240_000));
      const p = small.pipeline({
        name: 'small_budget',
        source: {
          type: 'postgres',
          connection: conn(db),
          table: 'wide',
          key: ['id'],
          chunk_rows: 120_000,
          parallelism: 2,
        },
        load: { mode: 'full' },
        destination: { type: 'delta', path: 'small_budget' },
      });
      const outcome = await small.run(p);
      expect(outcome.rowsLoaded).toBe(240_000);
      expect(outcome.verdict).toBe('match');
      const table = join(small.lakeDir, 'small_budget');
      const files = tableFiles(table).filter((f) => f.endsWith('.parquet'));
      expect(await parquetIdSummary(table, files)).toEqual([240_000, 240_000, 1, 240_000]);
    } finally {
      small.destroy();
    }
  });
});

describe('streams per memory budget', () => {
  it('two parts stream at once from 96 MiB, one below it, never none and never more than two', () => {
    const mib = 1024 * 1024;
    expect(streamsFor(32 * mib)).toBe(1);
    expect(streamsFor(64 * mib)).toBe(1);
    expect(streamsFor(95 * mib)).toBe(1);
    expect(streamsFor(96 * mib)).toBe(2);
    expect(streamsFor(4096 * mib)).toBe(2);
    expect(duckMemoryLimit(96 * mib + 5)).toBe('96MiB');
  });
});
