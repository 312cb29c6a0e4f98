/**
 * Counts the rows of a Delta table the bench has just created, without the peers' virtualenv (the
 * fleet case runs with --no-peers too): the table's JSON commits are replayed (add and remove
 * actions), and DuckDB counts the rows of the live Parquet files from their footers. It shares no
 * code with etld's Delta writer or reader, so a bug there cannot hide here. It reads only what a
 * new table holds: a log whose JSON commits do not run from version 0 without a gap (one cleaned
 * up behind a checkpoint) is reported as unreadable, not guessed at.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const COMMIT_RE = /^(\d{20})\.json$/;

interface FileAction {
  readonly add?: { readonly path: string };
  readonly remove?: { readonly path: string };
}

/** The table's live data files, or a message saying why they cannot be known. */
function liveFiles(table: string): string[] | string {
  const logDir = join(table, '_delta_log');
  let names: string[];
  try {
    names = readdirSync(logDir);
  } catch {
    return `no Delta log at ${logDir}`;
  }
  const commits = names.filter((name) => COMMIT_RE.test(name)).sort();
  const contiguous = commits.every((name, version) => Number(COMMIT_RE.exec(name)?.[1]) === version);
  if (commits.length === 0 || !contiguous) return `the Delta log at ${logDir} does not start at version 0`;
  const live = new Set<string>();
  for (const name of commits) {
    for (const line of readFileSync(join(logDir, name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const action = JSON.parse(line) as FileAction;
      // Paths in the log are URI-encoded and relative to the table unless absolute.
      if (action.add !== undefined) live.add(decodeURIComponent(action.add.path));
      if (action.remove !== undefined) live.delete(decodeURIComponent(action.remove.path));
    }
  }
  return [...live].map((path) => (isAbsolute(path) ? path : join(table, path)));
}

/** The row count of the table's current version, or a message saying why there is none. */
export async function countDeltaRows(table: string): Promise<number | string> {
  const files = liveFiles(table);
  if (typeof files === 'string') return files;
  if (files.length === 0) return 0;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = files.map((file) => `'${file.replace(/'/g, "''")}'`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM read_parquet([${list}])`,
    );
    return Number(reader.getRowObjects()[0]?.n);
  } catch (error) {
    return `counting failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
