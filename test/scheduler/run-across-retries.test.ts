/**
 * One run spans its attempts (finding 11): `etld --once` and `etlctl start --wait` report the
 * run's final status, not the first failed attempt. The first attempt fails after its destination
 * commit (a SQLite trigger refuses the watermark write, as a full disk would); the retry finds the
 * batch committed, records it, and the run succeeds with every row loaded once.
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { etlctl, spawnEtlctl } from '../cli/cli-harness.js';
import { makeTempHome, spawnDaemon, type DaemonProcess, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

let pg: PostgresServer;
const homes: TempHome[] = [];
const daemons: DaemonProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 300) g;`,
    [],
    'shop',
  );
});
afterAll(async () => {
  await pg.destroy();
});
afterEach(async () => {
  for (const d of daemons.splice(0))
    if (d.child.exitCode === null && d.child.signalCode === null) await d.stop();
  for (const h of homes.splice(0)) h.remove();
});

function homeWith(name: string): TempHome {
  const h = makeTempHome('etld-retries-');
  homes.push(h);
  h.writePipeline(
    `${name}.yaml`,
    `name: ${name}
source: { type: postgres, connection: { host: ${pg.host}, port: ${pg.port}, database: shop, user: ${pg.user} }, table: orders, key: [id] }
load: { mode: incremental, cursor: updated_at }
destination: { type: duckdb, path: ${name}.duckdb, table: ${name} }
error_handling: { max_retries: 2, retry_delay: 2s, exponential_backoff: false }
`,
  );
  return h;
}

function stateDb(h: TempHome): Database.Database {
  return new Database(join(h.dir, 'state', 'etld.db'));
}

/** The watermark write of the next commit fails, as on a full disk; `lift` ends that. */
function refuseWatermarkWrites(h: TempHome): { lift: () => void } {
  const db = stateDb(h);
  db.exec(
    `CREATE TRIGGER chaos_refuse_insert BEFORE INSERT ON watermarks BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`,
  );
  db.close();
  return {
    lift: () => {
      const again = stateDb(h);
      again.exec('DROP TRIGGER IF EXISTS chaos_refuse_insert');
      again.close();
    },
  };
}

function attemptRows(h: TempHome): { id: string; status: string; error_code: string | null }[] {
  const db = new Database(join(h.dir, 'state', 'etld.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, status, error_code FROM runs ORDER BY sequence, attempt').all() as {
      id: string;
      status: string;
      error_code: string | null;
    }[];
  } finally {
    db.close();
  }
}

async function destination(h: TempHome, table: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(h.dir, 'lake', `${table}.duckdb`), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return (
      await connection.runAndReadAll(`SELECT count(*)::INTEGER, count(DISTINCT id)::INTEGER FROM ${table}`)
    ).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('a run across its retries', () => {
  test('etld --once exits 0 when a later attempt succeeds, and leaves no interrupted run', async () => {
    const h = homeWith('once');
    // The state store exists once etld has opened it; create it the same way first.
    const setup = spawnDaemon(h.dir, { args: ['--once', 'nothing'] });
    await setup.exited(60_000);
    const refusal = refuseWatermarkWrites(h);
    const daemon = spawnDaemon(h.dir, { args: ['--once', 'once'] });
    daemons.push(daemon);
    await daemon.waitForLine(/run once-1-1 failed \(STATE_STORE: .*\); attempt 2 in/, 60_000);
    refusal.lift();
    expect(await daemon.exited(90_000)).toBe(0);
    expect(daemon.lines.some((l) => /once-1 succeeded/.test(l))).toBe(true);
    expect(attemptRows(h)).toEqual([
      { id: 'once-1-1', status: 'failed', error_code: 'STATE_STORE' },
      { id: 'once-1-2', status: 'succeeded', error_code: null },
    ]);
    expect(await destination(h, 'once')).toEqual([[300, 300]]);
  });

  test('etlctl start --wait follows the retry to success and exits 0', async () => {
    const h = homeWith('waited');
    const daemon = spawnDaemon(h.dir);
    daemons.push(daemon);
    await daemon.waitForLine(/etld running/, 60_000);
    const refusal = refuseWatermarkWrites(h);
    const waiting = spawnEtlctl(['--home', h.dir, 'start', 'waited', '--wait']);
    await daemon.waitForLine(/run waited-1-1 failed \(STATE_STORE: .*\); attempt 2 in/, 60_000);
    refusal.lift();
    expect(await waiting.exit).toBe(0);
    expect(waiting.out.stdout).toMatch(/attempt 1 failed: STATE_STORE: .*; retrying/);
    expect(waiting.out.stdout).toMatch(/run waited-1 succeeded/);
    const history = await etlctl(['--home', h.dir, 'history', 'waited', '--json']);
    expect(JSON.parse(history.stdout)).toMatchObject({
      schema: 1,
      runs: [{ id: 'waited-1', status: 'succeeded', attempt: 2, trigger: 'manual', error: null }],
    });
    const detail = JSON.parse((await etlctl(['--home', h.dir, 'run', 'waited-1', '--json'])).stdout) as {
      attempts: { id: string; status: string }[];
    };
    expect(detail.attempts.map((a) => [a.id, a.status])).toEqual([
      ['waited-1-1', 'failed'],
      ['waited-1-2', 'succeeded'],
    ]);
    expect(await destination(h, 'waited')).toEqual([[300, 300]]);
  });
});
