import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
import {
  connectWhenListening,
  makeTempHome,
  spawnDaemon,
  type DaemonProcess,
  type TempHome,
} from '../helpers/daemon-process.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { waitFor } from '../helpers/process.js';

let pg: PostgresServer;
let home: TempHome;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, note text, updated_at timestamptz NOT NULL);
     INSERT INTO orders SELECT g, repeat('x', 40), timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, 300000) g;
     ANALYZE orders;`,
    [],
    'shop',
  );
  home = makeTempHome('etld-sigkill-');
  home.writePipeline(
    'orders.yaml',
    `name: orders
source:
  type: postgres
  connection: { host: ${pg.host}, port: ${pg.port}, user: ${pg.user}, database: shop }
  table: orders
  key: [id]
  chunk_rows: 50000
  parallelism: 2
load: { mode: incremental, cursor: updated_at }
destination: { type: duckdb, path: shop.duckdb, table: orders }
error_handling: { max_retries: 5, retry_delay: 1s, exponential_backoff: false }
`,
  );
});

afterAll(async () => {
  home.remove();
  await pg.destroy();
});

function connect(): Promise<DaemonClient> {
  return connectWhenListening(home.socketPath, 'sigkill-test', {
    subscribe: { topics: ['runs', 'progress'] },
  });
}

async function destinationCounts(): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(home.dir, 'lake', 'shop.duckdb'), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll('SELECT count(*), count(DISTINCT id) FROM orders')).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function lastSucceeded(client: DaemonClient): Promise<boolean> {
  const runs = await client.call('history', { pipeline: 'orders', limit: 5 });
  return runs[0]?.status === 'succeeded';
}

describe('a daemon killed during a load', () => {
  it('restarts, retries the interrupted run and loads every row exactly once', async () => {
    let daemon: DaemonProcess = spawnDaemon(home.dir);
    let client = await connect();
    const killed = new Promise<void>((resolve) => {
      client.onEvent('run.progress', (progress) => {
        if (progress.phase === 'staging' || progress.phase === 'committing' || progress.rows >= 150_000)
          resolve();
      });
    });
    await client.call('start', { pipeline: 'orders' });
    await killed;
    daemon.signal('SIGKILL');
    await daemon.exited();
    await client.close().catch(() => undefined);

    daemon = spawnDaemon(home.dir);
    try {
      client = await connect();
      await waitFor(async () => ((await lastSucceeded(client)) ? true : undefined), {
        timeoutMs: 90_000,
        what: 'the retried run to succeed',
      }).catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}\nhistory: ${JSON.stringify(await client.call('history', { pipeline: 'orders', limit: 5 }))}\n${daemon.lines.slice(-30).join('\n')}`,
        );
      });
      expect(await destinationCounts()).toEqual([[300000n, 300000n]]);
      // One run across the crash: its first attempt was interrupted, a later one succeeded.
      const [run] = await client.call('history', { pipeline: 'orders', limit: 10 });
      const detail = await client.call('run', { run_id: run?.id ?? '' });
      expect(detail.attempts.map((a) => a.status)).toContain('interrupted');
      expect(detail.status).toBe('succeeded');

      await pg.query(
        `INSERT INTO orders SELECT g, 'new', timestamptz '2024-06-01 00:00:00+00' FROM generate_series(300001, 300010) g`,
        [],
        'shop',
      );
      await client.call('start', { pipeline: 'orders' });
      await waitFor(
        async () => {
          const runs = await client.call('history', { pipeline: 'orders', limit: 1 });
          return runs[0]?.status === 'succeeded' && runs[0].rows_loaded === 10 ? true : undefined;
        },
        { timeoutMs: 60_000, what: 'the next incremental run' },
      );
      expect(await destinationCounts()).toEqual([[300010n, 300010n]]);
    } finally {
      await client.close().catch(() => undefined);
      await daemon.stop();
    }
  });
});
