/**
 * Quarantined rows land exactly once across a SIGKILL: the daemon is killed right after the
 * quarantine's commit (before the data's), then right after the data's commit (before the state
 * store's); after each restart the run is retried or reconciled, and the quarantine and the data
 * each hold every row once. Real PostgreSQL source, DuckDB destination, the daemon as operators
 * run it (`ETLD_FAILPOINTS` stops it at the named point with SIGKILL).
 */
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveredRun, runKilled } from '../helpers/daemon-kill.js';
import { makeTempHome, type TempHome } from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

let pg: PostgresServer;
let home: TempHome;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  // Every 10th row has no email: 1000 rows, 100 of them for the quarantine.
  await pg.query(
    `CREATE TABLE customers (id bigint PRIMARY KEY, email text, updated_at timestamptz NOT NULL);
     INSERT INTO customers SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'c' || g || '@x' END,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, 1000) g;`,
    [],
    'shop',
  );
  home = makeTempHome('etld-quarantine-kill-');
  home.writePipeline(
    'customers.yaml',
    `name: customers
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: shop }
  table: customers
  key: [id]
load: { mode: incremental, cursor: updated_at }
checks:
  - not_null: email
    on_fail: quarantine
destination: { type: duckdb, path: shop.duckdb, table: customers }
error_handling: { max_retries: 5, retry_delay: 1s, exponential_backoff: false }
`,
  );
});

afterAll(async () => {
  home.remove();
  await pg.destroy();
});

/** [rows, distinct ids] of the data table and of the quarantine. */
async function counts(): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(home.dir, 'lake', 'shop.duckdb'), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return (
      await connection.runAndReadAll(
        `SELECT (SELECT count(*) FROM customers), (SELECT count(DISTINCT id) FROM customers),
                (SELECT count(*) FROM customers_quarantine), (SELECT count(DISTINCT id) FROM customers_quarantine),
                (SELECT count(*) FROM customers WHERE email IS NULL)`,
      )
    ).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function killedAt(failpoint: string): Promise<void> {
  return runKilled(home, 'customers', { failpoint });
}

function recovered(): Promise<void> {
  return recoveredRun(home, 'customers');
}

describe('quarantine across a SIGKILL', () => {
  it('holds every failing row once when the daemon dies between the quarantine and the data commit', async () => {
    await killedAt('after-quarantine-commit');
    await recovered();
    expect(await counts()).toEqual([[900n, 900n, 100n, 100n, 0n]]);
  });

  it('holds every failing row once when the daemon dies between the data commit and the state store', async () => {
    await pg.query(
      `INSERT INTO customers SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'n' || g || '@x' END,
         timestamptz '2024-06-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1001, 1200) g`,
      [],
      'shop',
    );
    await killedAt('after-destination-commit');
    await recovered();
    expect(await counts()).toEqual([[1080n, 1080n, 120n, 120n, 0n]]);
  });
});
