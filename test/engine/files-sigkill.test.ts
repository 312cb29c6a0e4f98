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
import { recoveredRun, runKilled } from '../helpers/daemon-kill.js';
import { makeTempHome, type TempHome } from '../helpers/daemon-process.js';

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

describe('files source across a SIGKILL', () => {
  for (const failpoint of ['before-destination-commit', 'after-destination-commit', 'after-state-commit']) {
    it(`every file once when the daemon dies at ${failpoint}`, { timeout: 300_000 }, async () => {
      dropFiles(100);
      await runKilled(home, 'drops', { failpoint });
      await recoveredRun(home, 'drops', { runAgain: true, timeoutMs: 120_000 });
      expect(await counts()).toEqual([[BigInt(dropped * 20), BigInt(dropped * 20), BigInt(dropped)]]);
    });
  }

  it('every file once when the daemon dies while files are read', { timeout: 300_000 }, async () => {
    dropFiles(300);
    await runKilled(home, 'drops', { afterMs: 1_500 });
    await recoveredRun(home, 'drops', { runAgain: true, timeoutMs: 120_000 });
    expect(await counts()).toEqual([[BigInt(dropped * 20), BigInt(dropped * 20), BigInt(dropped)]]);
  });
});
