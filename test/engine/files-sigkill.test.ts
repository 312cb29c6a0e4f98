/**
 * Files load exactly once across a SIGKILL of the daemon, as operators run it: a directory of
 * 300 CSV files into DuckDB; the daemon is killed before the destination commit, after it (before
 * the state store's ledger), after the state store's, and at a random moment while files are
 * read; after each restart the run is retried or settled, and every file's rows are in the table
 * once — counted per file against what was dropped.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonClient } from '../../shared/client/client.js';
import { connectWhenListening, makeTempHome, spawnDaemon, type TempHome } from '../helpers/daemon-process.js';
import { waitFor } from '../helpers/process.js';

let home: TempHome;
let landing: string;
let dropped = 0;
let nextId = 1;

/** Drops `count` CSV files of 20 rows each. */
function dropFiles(count: number): void {
  for (let i = 0; i < count; i++) {
    const rows = Array.from({ length: 20 }, () => {
      const id = nextId++;
      return `${id},name ${id},${(id / 4).toFixed(2)}`;
    });
    const path = join(landing, `batch-${String(++dropped).padStart(5, '0')}.csv`);
    writeFileSync(path, ['id,name,amount', ...rows].join('\n') + '\n');
    const when = new Date(Date.now() - 60_000);
    utimesSync(path, when, when);
  }
}

beforeAll(() => {
  home = makeTempHome('etld-files-kill-');
  landing = join(home.dir, 'landing');
  mkdirSync(landing, { recursive: true });
  home.writePipeline(
    'drops.yaml',
    `name: drops
source:
  type: files
  url: ${landing}
  pattern: "*.csv"
  min_age: 0s
  parallelism: 4
load: { mode: incremental }
destination: { type: duckdb, path: drops.duckdb, table: drops }
error_handling: { max_retries: 5, retry_delay: 1s, exponential_backoff: false }
`,
  );
});

afterAll(() => home.remove());

function connect(): Promise<DaemonClient> {
  return connectWhenListening(home.socketPath, 'files-kill-test');
}

/** [rows, distinct ids, distinct files] of the table. */
async function counts(): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(join(home.dir, 'lake', 'drops.duckdb'), {
    access_mode: 'READ_ONLY',
  });
  const connection = await instance.connect();
  try {
    return (
      await connection.runAndReadAll(
        'SELECT count(*), count(DISTINCT id), count(DISTINCT _etl_file) FROM drops',
      )
    ).getRowsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function startRun(client: DaemonClient): Promise<void> {
  await waitFor(
    () =>
      client.call('start', { pipeline: 'drops' }).then(
        () => true,
        (error: unknown) => {
          if (error instanceof Error && /is starting/.test(error.message)) return undefined;
          throw error;
        },
      ),
    { timeoutMs: 30_000, what: 'the daemon to accept a run' },
  );
}

/** Starts a run on a daemon armed to SIGKILL itself at `failpoint` (or after `afterMs`), and waits for it to die. */
async function killed(how: { failpoint: string } | { afterMs: number }): Promise<void> {
  const env: Record<string, string> = 'failpoint' in how ? { ETLD_FAILPOINTS: `${how.failpoint}=kill` } : {};
  const daemon = spawnDaemon(home.dir, { env });
  try {
    const client = await connect();
    try {
      await startRun(client);
      if ('afterMs' in how) {
        await new Promise((resolve) => setTimeout(resolve, how.afterMs));
        daemon.signal('SIGKILL');
      }
      await daemon.exited();
    } finally {
      await client.close().catch(() => undefined);
    }
  } finally {
    await daemon.stop();
  }
}

/** Restarts the daemon unarmed, runs once more, and waits until the newest run succeeded. */
async function recovered(): Promise<void> {
  const daemon = spawnDaemon(home.dir);
  const client = await connect();
  try {
    const settled = async (): Promise<boolean | undefined> => {
      const [run] = await client.call('history', { pipeline: 'drops', limit: 1 });
      return run?.status === 'succeeded' ? true : undefined;
    };
    await waitFor(settled, { timeoutMs: 120_000, what: 'the interrupted run to finish' }).catch(
      () => undefined,
    );
    // A run that found the batch already committed leaves nothing to load; one more run proves it.
    await startRun(client);
    await waitFor(settled, { timeoutMs: 120_000, what: 'the run to succeed after the restart' }).catch(
      async (error: unknown) => {
        throw new Error(
          `${String(error)}\nhistory: ${JSON.stringify(await client.call('history', { pipeline: 'drops', limit: 3 }))}\n${daemon.lines.slice(-30).join('\n')}`,
        );
      },
    );
  } finally {
    await client.close().catch(() => undefined);
    await daemon.stop();
  }
}

describe('files source across a SIGKILL', () => {
  for (const failpoint of ['before-destination-commit', 'after-destination-commit', 'after-state-commit']) {
    it(`every file once when the daemon dies at ${failpoint}`, { timeout: 300_000 }, async () => {
      dropFiles(100);
      await killed({ failpoint });
      await recovered();
      expect(await counts()).toEqual([[BigInt(dropped * 20), BigInt(dropped * 20), BigInt(dropped)]]);
    });
  }

  it('every file once when the daemon dies while files are read', { timeout: 300_000 }, async () => {
    dropFiles(300);
    await killed({ afterMs: 1_500 });
    await recovered();
    expect(await counts()).toEqual([[BigInt(dropped * 20), BigInt(dropped * 20), BigInt(dropped)]]);
  });
});
